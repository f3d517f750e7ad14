package io.raftmq.client;

import io.raftmq.client.errors.CommitFailedException;
import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.RebalanceInProgressException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.broker.HeartbeatRequest;
import io.raftmq.protocol.broker.HeartbeatResponse;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.LeaveGroupRequest;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitPartitionResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetCommitTopicResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer's side of group membership and offset commits, with the group's coordinator.
 *
 * <p>States: UNJOINED (no member id, or removed) -> JOINING (JoinGroup sent; the coordinator holds
 * it until the rebalance completes) -> STABLE (SyncGroup gave the assignment; heartbeats flow) ->
 * back to JOINING when a heartbeat or commit says REBALANCE_IN_PROGRESS, the subscription changes,
 * or to UNJOINED (fresh member id) on ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID. NOT_COORDINATOR and
 * transport failures make the coordinator unknown; it is looked up again before the next request.
 *
 * <p>Threads: the consumer's thread drives joins and commits; the heartbeat thread only sends
 * heartbeats while STABLE and flags a rejoin. Shared fields are guarded by this object's monitor.
 */
final class ConsumerCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsumerCoordinator.class);
    /**
     * A short poll must not starve the coordinator lookup (FindCoordinator may create
     * __consumer_offsets first): it gets at least this long.
     */
    private static final long MIN_COORDINATOR_LOOKUP_MS = 3000;
    /** How long {@link #close()} waits for the heartbeat thread to end. */
    private static final long HEARTBEAT_THREAD_JOIN_MS = 5000;

    enum State { UNJOINED, JOINING, STABLE }

    private final String clientId;
    private final String groupId;
    private final BrokerChannels channels;
    private final CoordinatorLookup lookup;
    private final Rpc rpc;
    private final int sessionTimeoutMs;
    private final int rebalanceTimeoutMs;
    private final int heartbeatIntervalMs;
    private final int requestTimeoutMs;
    private final long retryBackoffMs;
    private final List<String> assignors;

    // Guarded by this.
    private BrokerAddress coordinator;
    private String memberId = "";
    private int generationId = -1;
    private State state = State.UNJOINED;
    private boolean rejoinNeeded = true;
    private long lastHeartbeatOkMs;

    /** Consumer thread only. */
    private CompletableFuture<JoinGroupResponse> pendingJoin;
    private Thread heartbeatThread;
    private volatile boolean closed;

    ConsumerCoordinator(String clientId, String groupId, ConsumerConfig config, BrokerChannels channels,
            CoordinatorLookup lookup, Rpc rpc) {
        this.clientId = clientId;
        this.groupId = groupId;
        this.channels = channels;
        this.lookup = lookup;
        this.rpc = rpc;
        this.sessionTimeoutMs = config.values.intValue(ConsumerConfig.SESSION_TIMEOUT_MS);
        this.rebalanceTimeoutMs = config.values.intValue(ConsumerConfig.MAX_POLL_INTERVAL_MS);
        this.heartbeatIntervalMs = config.values.intValue(ConsumerConfig.HEARTBEAT_INTERVAL_MS);
        this.requestTimeoutMs = config.values.intValue(ConsumerConfig.REQUEST_TIMEOUT_MS);
        this.retryBackoffMs = config.values.longValue(ConsumerConfig.RETRY_BACKOFF_MS);
        this.assignors = config.assignors;
    }

    synchronized String memberId() {
        return memberId;
    }

    synchronized int generationId() {
        return generationId;
    }

    synchronized boolean needsJoin() {
        return rejoinNeeded || state != State.STABLE;
    }

    synchronized void requestRejoin() {
        rejoinNeeded = true;
    }

    synchronized boolean isStable() {
        return state == State.STABLE && !rejoinNeeded;
    }

    private synchronized BrokerAddress coordinatorOrNull() {
        return coordinator;
    }

    synchronized void markCoordinatorUnknown() {
        coordinator = null;
    }

    private BrokerAddress ensureCoordinator(long deadlineMs) {
        BrokerAddress known = coordinatorOrNull();
        if (known != null) {
            return known;
        }
        CoordinatorLookup.Coordinator found = lookup.find(groupId, deadlineMs);
        synchronized (this) {
            coordinator = found.address();
        }
        log.info("[{}] group '{}': coordinator is broker {} at {}", clientId, groupId, found.nodeId(),
                found.address());
        return found.address();
    }

    /**
     * Advances the join: sends JoinGroup if none is pending, waits for it until {@code deadlineMs},
     * then SyncGroup. Returns the new assignment once the member is STABLE, or null if the join is
     * still in progress at the deadline (the next call carries on).
     */
    List<TopicPartition> joinAndSync(Collection<String> topics, long deadlineMs) {
        while (true) {
            long now = rpc.now();
            if (pendingJoin == null) {
                BrokerAddress target;
                try {
                    target = ensureCoordinator(Math.max(deadlineMs, now + MIN_COORDINATOR_LOOKUP_MS));
                } catch (TimeoutException e) {
                    return null;
                }
                JoinGroupRequest request;
                synchronized (this) {
                    state = State.JOINING;
                    rejoinNeeded = false;
                    request = JoinGroupRequest.newBuilder().setGroupId(groupId).setMemberId(memberId)
                            .setClientId(clientId).setSessionTimeoutMs(sessionTimeoutMs)
                            .setRebalanceTimeoutMs(rebalanceTimeoutMs).setProtocolType("consumer")
                            .addAllTopics(topics).addAllAssignors(assignors).build();
                }
                pendingJoin = BrokerChannels.toCompletable(channels.group(target,
                        (long) rebalanceTimeoutMs + requestTimeoutMs).joinGroup(request));
            }
            JoinGroupResponse join;
            try {
                join = pendingJoin.get(Math.max(0, deadlineMs - now), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptException(ErrorCode.NONE, "interrupted while joining group " + groupId, e);
            } catch (ExecutionException e) {
                pendingJoin = null;
                markCoordinatorUnknown();
                if (!backoff(deadlineMs)) {
                    return null;
                }
                continue;
            }
            pendingJoin = null;
            ErrorCode code = join.getError().getCode();
            if (code != ErrorCode.NONE) {
                if (!handleGroupError(code, join.getError(), "JoinGroup") || !backoff(deadlineMs)) {
                    return null;
                }
                continue;
            }
            synchronized (this) {
                memberId = join.getMemberId();
                generationId = join.getGenerationId();
            }
            SyncGroupResponse sync;
            try {
                sync = rpc.call("SyncGroup", this::coordinatorOrBootstrap, (b, t) -> channels.group(b, t).syncGroup(
                        SyncGroupRequest.newBuilder().setGroupId(groupId).setMemberId(join.getMemberId())
                                .setGenerationId(join.getGenerationId()).build()),
                        r -> Error.getDefaultInstance(), // group errors are handled below
                        Math.max(deadlineMs, rpc.now() + requestTimeoutMs));
            } catch (RaftmqException e) {
                markCoordinatorUnknown();
                requestRejoin();
                return null;
            }
            if (sync.getError().getCode() != ErrorCode.NONE) {
                if (!handleGroupError(sync.getError().getCode(), sync.getError(), "SyncGroup")
                        || !backoff(deadlineMs)) {
                    return null;
                }
                continue;
            }
            List<TopicPartition> assignment = Admin.toPartitions(sync.getAssignmentList());
            synchronized (this) {
                if (!rejoinNeeded) {
                    state = State.STABLE;
                }
                lastHeartbeatOkMs = rpc.now();
            }
            log.info("[{}] group '{}' generation {} as member {} ({}): assigned {}", clientId, groupId,
                    join.getGenerationId(), join.getMemberId(), join.getAssignor(), assignment);
            ensureHeartbeatThread();
            return assignment;
        }
    }

    private BrokerAddress coordinatorOrBootstrap() {
        BrokerAddress c = coordinatorOrNull();
        return c != null ? c : ensureCoordinator(rpc.now() + requestTimeoutMs);
    }

    private boolean backoff(long deadlineMs) {
        if (rpc.now() + retryBackoffMs >= deadlineMs) {
            return false;
        }
        Rpc.sleep(retryBackoffMs);
        return true;
    }

    /**
     * Reacts to a group error code: true when the join should be tried again, false when it failed
     * for now (the caller returns).
     */
    private boolean handleGroupError(ErrorCode code, Error error, String what) {
        switch (code) {
            case UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION -> {
                synchronized (this) {
                    memberId = "";
                    generationId = -1;
                    state = State.UNJOINED;
                    rejoinNeeded = true;
                }
                log.info("[{}] group '{}': {} answered {}; joining again with a fresh member id", clientId, groupId,
                        what, code);
                return true;
            }
            case REBALANCE_IN_PROGRESS -> {
                requestRejoin();
                return true;
            }
            case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS -> {
                markCoordinatorUnknown();
                requestRejoin();
                return true;
            }
            default -> {
                if (Errors.isRetriable(code)) {
                    requestRejoin();
                    return true;
                }
                throw Errors.exception(error);
            }
        }
    }

    private synchronized void ensureHeartbeatThread() {
        if (heartbeatThread == null && !closed) {
            heartbeatThread = new Thread(this::heartbeatLoop, "raftmq-heartbeat-" + clientId);
            heartbeatThread.setDaemon(true);
            heartbeatThread.start();
        }
    }

    private void heartbeatLoop() {
        while (!closed) {
            try {
                Thread.sleep(heartbeatIntervalMs);
            } catch (InterruptedException e) {
                return;
            }
            HeartbeatRequest request;
            synchronized (this) {
                if (state != State.STABLE || rejoinNeeded) {
                    continue;
                }
                request = HeartbeatRequest.newBuilder().setGroupId(groupId).setMemberId(memberId)
                        .setGenerationId(generationId).build();
            }
            try {
                // The known coordinator, or — when it moved (its node died, say) while the application
                // is busy between polls — the new one, so that the membership outlives the move.
                BrokerAddress target = ensureCoordinator(rpc.now() + requestTimeoutMs);
                HeartbeatResponse r = Rpc.awaitAnswer(channels.group(target, requestTimeoutMs).heartbeat(request),
                        requestTimeoutMs);
                ErrorCode code = r.getError().getCode();
                synchronized (this) {
                    if (generationId != request.getGenerationId()) {
                        continue; // a rejoin happened meanwhile
                    }
                    switch (code) {
                        case NONE -> lastHeartbeatOkMs = rpc.now();
                        case REBALANCE_IN_PROGRESS -> rejoinNeeded = true;
                        case ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID -> {
                            memberId = "";
                            generationId = -1;
                            state = State.UNJOINED;
                            rejoinNeeded = true;
                        }
                        case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS -> {
                            coordinator = null;
                            rejoinNeeded = true;
                        }
                        default -> log.debug("[{}] heartbeat answered {}", clientId, code);
                    }
                    if (code != ErrorCode.NONE) {
                        log.info("[{}] group '{}': heartbeat answered {}; rejoining", clientId, groupId, code);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                synchronized (this) {
                    coordinator = null;
                    if (rpc.now() - lastHeartbeatOkMs > sessionTimeoutMs) {
                        rejoinNeeded = true;
                    }
                }
                log.debug("[{}] heartbeat failed: {}", clientId, e.toString());
            }
        }
    }

    // ---- offsets ----

    /** Committed offsets for the partitions (absent: none committed). */
    Map<TopicPartition, OffsetAndMetadata> fetchCommitted(Collection<TopicPartition> partitions, long deadlineMs) {
        Map<String, OffsetFetchTopic.Builder> topics = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            topics.computeIfAbsent(tp.topic(), n -> OffsetFetchTopic.newBuilder().setName(n))
                    .addPartitions(tp.partition());
        }
        OffsetFetchRequest.Builder request = OffsetFetchRequest.newBuilder().setGroupId(groupId);
        topics.values().forEach(request::addTopics);
        OffsetFetchResponse r = coordinatorCall("OffsetFetch", (b, t) -> channels.group(b, t)
                .offsetFetch(request.build()), OffsetFetchResponse::getError, deadlineMs);
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        for (OffsetFetchTopicResponse t : r.getTopicsList()) {
            for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                if (p.getError().getCode() != ErrorCode.NONE) {
                    throw Errors.exception(p.getError());
                }
                if (p.getCommittedOffset() >= 0) {
                    out.put(new TopicPartition(t.getName(), p.getPartition()), new OffsetAndMetadata(
                            p.getCommittedOffset(), p.getCommittedLeaderEpoch() < 0 ? Optional.empty()
                                    : Optional.of(p.getCommittedLeaderEpoch()), p.getMetadata()));
                }
            }
        }
        return out;
    }

    /** The commit request with this member's generation (or -1 / "" outside the group's membership). */
    OffsetCommitRequest commitRequest(Map<TopicPartition, OffsetAndMetadata> offsets, boolean asMember) {
        Map<String, OffsetCommitTopic.Builder> topics = new LinkedHashMap<>();
        offsets.forEach((tp, o) -> topics.computeIfAbsent(tp.topic(), n -> OffsetCommitTopic.newBuilder().setName(n))
                .addPartitions(OffsetCommitPartition.newBuilder().setPartition(tp.partition())
                        .setCommittedOffset(o.offset()).setCommittedLeaderEpoch(o.leaderEpoch().orElse(-1))
                        .setMetadata(o.metadata())));
        OffsetCommitRequest.Builder request = OffsetCommitRequest.newBuilder().setGroupId(groupId);
        synchronized (this) {
            if (asMember) {
                request.setGenerationId(generationId).setMemberId(memberId);
            } else {
                request.setGenerationId(-1).setMemberId("");
            }
        }
        topics.values().forEach(request::addTopics);
        return request.build();
    }

    /**
     * Commits and waits.
     *
     * @throws CommitFailedException when the member is no longer part of the generation
     * @throws RebalanceInProgressException when the group is rebalancing (poll again, then commit)
     */
    void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, boolean asMember, long deadlineMs) {
        if (offsets.isEmpty()) {
            return;
        }
        OffsetCommitRequest request = commitRequest(offsets, asMember);
        OffsetCommitResponse r = coordinatorCall("OffsetCommit", (b, t) -> channels.group(b, t).offsetCommit(request),
                response -> firstRetriableOrTopError(response), deadlineMs);
        throwCommitErrors(r);
    }

    /** Sends a commit without waiting; the future completes with the typed outcome. */
    CompletableFuture<Void> commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, boolean asMember) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        if (offsets.isEmpty()) {
            out.complete(null);
            return out;
        }
        BrokerAddress target = coordinatorOrNull();
        if (target == null) {
            try {
                target = ensureCoordinator(rpc.now() + requestTimeoutMs);
            } catch (RaftmqException e) {
                out.completeExceptionally(e);
                return out;
            }
        }
        OffsetCommitRequest request = commitRequest(offsets, asMember);
        BrokerChannels.toCompletable(channels.group(target, requestTimeoutMs).offsetCommit(request))
                .whenComplete((r, e) -> {
                    try {
                        if (e != null) {
                            markCoordinatorUnknown();
                            throw Errors.fromThrowable(e);
                        }
                        throwCommitErrors(r);
                        out.complete(null);
                    } catch (RaftmqException ex) {
                        out.completeExceptionally(ex);
                    }
                });
        return out;
    }

    /** The error worth retrying the commit for (coordinator moved or loading); others are thrown after. */
    private static Error firstRetriableOrTopError(OffsetCommitResponse r) {
        if (isCoordinatorError(r.getError().getCode())) {
            return r.getError();
        }
        for (OffsetCommitTopicResponse t : r.getTopicsList()) {
            for (OffsetCommitPartitionResponse p : t.getPartitionsList()) {
                if (isCoordinatorError(p.getError().getCode())) {
                    return p.getError();
                }
            }
        }
        return Error.getDefaultInstance();
    }

    private static boolean isCoordinatorError(ErrorCode code) {
        return Errors.REFIND_COORDINATOR.contains(code) || code == ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }

    private void throwCommitErrors(OffsetCommitResponse r) {
        Error top = r.getError();
        if (top.getCode() != ErrorCode.NONE) {
            throw commitError(top);
        }
        for (OffsetCommitTopicResponse t : r.getTopicsList()) {
            for (OffsetCommitPartitionResponse p : t.getPartitionsList()) {
                if (p.getError().getCode() != ErrorCode.NONE) {
                    throw commitError(p.getError());
                }
            }
        }
    }

    private RaftmqException commitError(Error error) {
        ErrorCode code = error.getCode();
        if (code == ErrorCode.ILLEGAL_GENERATION || code == ErrorCode.UNKNOWN_MEMBER_ID) {
            synchronized (this) {
                if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
                    memberId = "";
                    generationId = -1;
                    state = State.UNJOINED;
                }
                rejoinNeeded = true;
            }
            return new CommitFailedException(code, "commit failed: this member is no longer part of generation of"
                    + " group '" + groupId + "' (" + error.getMessage() + "); its partitions may have moved to"
                    + " another member. Poll again to rejoin.");
        }
        if (code == ErrorCode.REBALANCE_IN_PROGRESS) {
            requestRejoin();
            return new RebalanceInProgressException(code, "group '" + groupId + "' is rebalancing; poll to rejoin, then"
                    + " commit again (" + error.getMessage() + ")");
        }
        if (Errors.REFIND_COORDINATOR.contains(code)) {
            markCoordinatorUnknown();
        }
        return Errors.exception(error);
    }

    private <T> T coordinatorCall(String what, Rpc.Attempt<T> attempt, java.util.function.Function<T, Error> errorOf,
            long deadlineMs) {
        return rpc.call(what + " for group '" + groupId + "'", () -> {
            BrokerAddress c = coordinatorOrNull();
            return c != null ? c : ensureCoordinator(deadlineMs);
        }, attempt, response -> {
            Error e = errorOf.apply(response);
            if (Errors.REFIND_COORDINATOR.contains(e.getCode())
                    || e.getCode() == ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
                markCoordinatorUnknown();
            }
            return e;
        }, deadlineMs);
    }

    /** Leaves the group at once (best effort), so the others rebalance without waiting. */
    void leave() {
        String member;
        BrokerAddress target;
        synchronized (this) {
            member = memberId;
            target = coordinator;
            memberId = "";
            generationId = -1;
            state = State.UNJOINED;
            rejoinNeeded = true;
        }
        if (member.isEmpty() || target == null) {
            return;
        }
        try {
            Rpc.awaitAnswer(channels.group(target, requestTimeoutMs).leaveGroup(LeaveGroupRequest.newBuilder()
                    .setGroupId(groupId).setMemberId(member).build()), requestTimeoutMs);
            log.info("[{}] left group '{}' (member {})", clientId, groupId, member);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.info("[{}] LeaveGroup for '{}' failed: {}", clientId, groupId, e.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = heartbeatThread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(HEARTBEAT_THREAD_JOIN_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pendingJoin != null) {
            pendingJoin.cancel(true);
        }
    }
}
