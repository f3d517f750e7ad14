package io.raftmq.metadata.controller;

import io.raftmq.common.EventLoop;
import io.raftmq.common.FaultHandler;
import io.raftmq.common.Time;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.loader.MetadataSubscriber;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.MetadataLog;
import io.raftmq.metadata.log.NotLeaderException;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.ControllerHint;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active controller: the decision-making side of the metadata quorum. It runs on every voter
 * but acts only on the one that leads the quorum.
 *
 * <pre>
 *   INACTIVE -(leader change: this node leads epoch E)-> ACTIVE(E)
 *   ACTIVE(E) -(leader change to another node or none | an append refused | close)-> INACTIVE
 * </pre>
 *
 * <p>While ACTIVE it keeps a <em>pending image</em>: the committed image plus the batches it has
 * appended that have not committed yet. Each request is decided by a pure function of the pending
 * image ({@link ControllerDecisions}), so consecutive decisions see each other; the records are
 * replayed into the pending image (the same {@link MetadataDelta} every voter uses) and appended
 * to the log; the reply is sent once the batch commits. A decision without records is answered
 * once every batch appended before it has committed, so no reply ever reflects state that could
 * still be lost. The Raft layer guarantees that, within the epoch, every committed batch is one of
 * ours, in order; the controller checks that.
 *
 * <p>On becoming active it announces itself (ControllerChangeRecord; in the cluster's first term
 * also a ClusterIdRecord with the new cluster id), grants every registered broker a fresh session,
 * and from then on fences a broker whose session expires, in one batch that also moves its
 * leaderships and removes it from ISRs. Sessions live in memory only.
 *
 * <p>A broker's session also ends early when the connection its latest heartbeat came over closes
 * ({@link #connectionClosed}): the broker then has {@code connectionLossGraceMs} to heartbeat again,
 * over any connection, before it is fenced as if its session had expired. A process that dies has
 * its sockets closed by the kernel at once, so a dead broker is fenced within the grace instead of
 * the session timeout; a live one whose connection broke heartbeats again over a new one at once.
 *
 * <p>Threads: all state below is owned by one event-loop thread ("controller-N"). Request methods
 * may be called from any thread; they enqueue and return a future. {@link #connectionClosed} (a
 * transport thread) and the {@link MetadataSubscriber} callbacks (the metadata log's apply thread)
 * enqueue too, so the controller sees commits and leader changes in log order.
 */
public final class QuorumController implements MetadataSubscriber, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QuorumController.class);
    private static final String SESSION_CHECK = "session-check";
    private static final String LEADER_BALANCE = "leader-balance";

    /**
     * @param nodeId this voter's node id
     * @param endpoint where this voter's Controller service listens (announced when it leads)
     * @param sessionTimeoutMs a broker without a heartbeat for this long is fenced
     * @param takeoverSessionMs the session granted to every broker when this controller takes over
     *     (at most {@code sessionTimeoutMs}): live brokers find a new controller within a heartbeat
     *     or two, and one that died with the old controller should not hold its leaderships for a
     *     whole session more
     * @param maxInflightBatches appended batches allowed to wait for commit; beyond, requests fail
     * @param leaderImbalanceCheckIntervalMs how often the active controller moves leaderships back to
     *     preferred replicas (Kafka's auto.leader.rebalance); 0 or less: never
     * @param leaderImbalancePercentage a broker's share of its preferred partitions led elsewhere
     *     above which they move back
     * @param connectionLossGraceMs how long a broker whose heartbeat connection closed has to
     *     heartbeat again before it is fenced (positive, at most {@code sessionTimeoutMs}; equal to
     *     it: a closed connection changes nothing)
     */
    public record Options(int nodeId, Endpoint endpoint, long sessionTimeoutMs, long takeoverSessionMs,
            int maxInflightBatches, long leaderImbalanceCheckIntervalMs, int leaderImbalancePercentage,
            long connectionLossGraceMs) {
        /**
         * Without the automatic leader rebalance, and without fencing early on a closed connection
         * (the grace is the whole session).
         */
        public Options(int nodeId, Endpoint endpoint, long sessionTimeoutMs, long takeoverSessionMs,
                int maxInflightBatches) {
            this(nodeId, endpoint, sessionTimeoutMs, takeoverSessionMs, maxInflightBatches, 0, 10, sessionTimeoutMs);
        }
    }

    private final Options options;
    private final MetadataLog log;
    private final ControllerDecisions decisions;
    private final Time time;
    private final FaultHandler faultHandler;
    /**
     * Requests that may wait for the event loop before it decides them (with Kafka's
     * queued.max.requests default); beyond, a request fails at once with {@link
     * ControllerBusyException}, answered REQUEST_TIMED_OUT. The log's own events are not bounded.
     */
    static final int MAX_QUEUED_REQUESTS = 500;

    private final EventLoop loop;

    // ---- owned by the event-loop thread ----
    private boolean active;
    private long epoch = -1;
    private LeaderAndEpoch leader = LeaderAndEpoch.UNKNOWN;
    private MetadataImage committed = MetadataImage.EMPTY;
    private MetadataImage pending = MetadataImage.EMPTY;
    private final ArrayDeque<Inflight> inflight = new ArrayDeque<>();
    private final BrokerSessions sessions;

    // Written on the event-loop thread, read by any (for observers and tests).
    private volatile boolean activeView;

    /** A batch appended in the current epoch and not committed yet, with the replies waiting on it. */
    private static final class Inflight {
        final List<MetadataRecord> records;
        final List<PendingReply<?>> replies = new ArrayList<>(2);

        Inflight(List<MetadataRecord> records) {
            this.records = records;
        }
    }

    private record PendingReply<T>(CompletableFuture<Committed<T>> future, T reply) {
        void complete(long offset, MetadataImage image) {
            future.complete(new Committed<>(reply, offset, image));
        }

        void fail(RuntimeException e) {
            future.completeExceptionally(e);
        }
    }

    public QuorumController(
            Options options, MetadataLog log, ControllerDecisions decisions, Time time, FaultHandler faultHandler) {
        this.options = options;
        this.log = log;
        this.decisions = decisions;
        this.time = time;
        this.faultHandler = faultHandler;
        this.sessions = new BrokerSessions(options.sessionTimeoutMs(), options.connectionLossGraceMs());
        this.loop = new EventLoop("controller-" + options.nodeId(), time);
    }

    public void start() {
        loop.start();
    }

    /** Whether this node is the active controller right now (a snapshot; may change at once). */
    public boolean isActive() {
        return activeView;
    }

    /** Wakes the event loop to re-check deadlines (for a mock clock in tests). */
    public void wakeup() {
        loop.wakeup();
    }

    @Override
    public void close() {
        try {
            loop.execute(() -> resign("the node is shutting down"));
        } catch (RejectedExecutionException alreadyClosed) {
            return;
        }
        loop.close();
    }

    // ---- requests (any thread) ----

    public CompletableFuture<Committed<RegisterBrokerResponse>> registerBroker(RegisterBrokerRequest request) {
        return registerBroker(request, null);
    }

    /** @param connection what the request came over, or null when not known */
    public CompletableFuture<Committed<RegisterBrokerResponse>> registerBroker(RegisterBrokerRequest request,
            ClientConnection connection) {
        return submit(() -> {
            long nowMs = time.monotonicMs();
            ControllerResult<RegisterBrokerResponse> result =
                    decisions.registerBroker(pending, sessions, request, nowMs);
            if (result.reply().getError().getCodeValue() == 0) {
                touchSession(request.getBrokerId(), result.reply().getBrokerEpoch(), connection, nowMs);
                if (!result.records().isEmpty()) {
                    LOG.info("[node {}] registering broker {} at epoch {} (incarnation {}, endpoints {})",
                            options.nodeId(), request.getBrokerId(), result.reply().getBrokerEpoch(),
                            io.raftmq.common.Uuids.fromProto(request.getIncarnationId()),
                            describeEndpoints(request.getEndpointsList()));
                }
            }
            return result;
        });
    }

    public CompletableFuture<Committed<BrokerHeartbeatResponse>> brokerHeartbeat(BrokerHeartbeatRequest request) {
        return brokerHeartbeat(request, null);
    }

    /** @param connection what the heartbeat came over, or null when not known */
    public CompletableFuture<Committed<BrokerHeartbeatResponse>> brokerHeartbeat(BrokerHeartbeatRequest request,
            ClientConnection connection) {
        return submit(() -> {
            BrokerRegistration broker = pending.broker(request.getBrokerId());
            if (broker != null && broker.epoch() == request.getBrokerEpoch()) {
                touchSession(broker.id(), broker.epoch(), connection, time.monotonicMs());
            }
            long caughtUpOffset = inflight.isEmpty() ? committed.offset() : Long.MAX_VALUE;
            return decisions.brokerHeartbeat(pending, request, caughtUpOffset);
        });
    }

    public CompletableFuture<Committed<AlterPartitionResponse>> alterPartition(AlterPartitionRequest request) {
        return submit(() -> decisions.alterPartition(pending, request));
    }

    public CompletableFuture<Committed<CreateTopicsResponse>> createTopics(CreateTopicsRequest request) {
        return submit(() -> decisions.createTopics(pending, request));
    }

    public CompletableFuture<Committed<DeleteTopicsResponse>> deleteTopics(DeleteTopicsRequest request) {
        return submit(() -> decisions.deleteTopics(pending, request));
    }

    public CompletableFuture<Committed<CreatePartitionsResponse>> createPartitions(CreatePartitionsRequest request) {
        return submit(() -> decisions.createPartitions(pending, request));
    }

    public CompletableFuture<Committed<AllocateProducerIdsResponse>> allocateProducerIds(
            AllocateProducerIdsRequest request) {
        return submit(() -> decisions.allocateProducerIds(pending, request));
    }

    public CompletableFuture<Committed<AlterConfigsResponse>> alterConfigs(AlterConfigsRequest request) {
        return submit(() -> decisions.alterConfigs(pending, request));
    }

    public CompletableFuture<Committed<CreateAclsResponse>> createAcls(CreateAclsRequest request) {
        return submit(() -> decisions.createAcls(pending, request));
    }

    public CompletableFuture<Committed<DeleteAclsResponse>> deleteAcls(DeleteAclsRequest request) {
        return submit(() -> decisions.deleteAcls(pending, request));
    }

    public CompletableFuture<Committed<AlterUserScramCredentialsResponse>> alterUserScramCredentials(
            AlterUserScramCredentialsRequest request) {
        return submit(() -> decisions.alterUserScramCredentials(pending, request));
    }

    /** Elections an administrator asks for; the new leaders commit in one batch (logged as they commit). */
    public CompletableFuture<Committed<ElectLeadersResponse>> electLeaders(ElectLeadersRequest request) {
        return submit(() -> {
            ControllerResult<ElectLeadersResponse> result = decisions.electLeaders(pending, request);
            if (!result.records().isEmpty()) {
                LOG.info("[node {}] electing {} leader(s) on request ({} election, {})", options.nodeId(),
                        result.records().size(), request.getElectionType(), request.getTopicsCount() == 0
                                ? "every partition" : request.getTopicsCount() + " topic(s) listed");
            }
            return result;
        });
    }

    /**
     * The transport reports that {@code connection} closed (any thread). On the active controller,
     * each broker whose latest heartbeat came over it gets the connection loss grace to heartbeat
     * again before it is fenced; elsewhere nothing happens.
     */
    public void connectionClosed(ClientConnection connection) {
        enqueue(() -> handleConnectionClosed(connection));
    }

    // ---- metadata log events (apply thread) ----

    @Override
    public void onSnapshot(MetadataImage image) {
        enqueue(() -> handleSnapshot(image));
    }

    @Override
    public void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta, MetadataImage image) {
        enqueue(() -> handleCommit(offset, records, image));
    }

    @Override
    public void onLeaderChange(LeaderAndEpoch newLeader, MetadataImage image) {
        enqueue(() -> handleLeaderChange(newLeader, image));
    }

    private void enqueue(Runnable event) {
        try {
            loop.execute(event);
        } catch (RejectedExecutionException closed) {
            // The controller is shut down; the log may still deliver until it closes too.
        }
    }

    // ---- event-loop thread ----

    private <T> CompletableFuture<Committed<T>> submit(Supplier<ControllerResult<T>> decision) {
        CompletableFuture<Committed<T>> future = new CompletableFuture<>();
        try {
            if (!loop.offer(() -> decideAndAppend(decision, future), MAX_QUEUED_REQUESTS)) {
                future.completeExceptionally(new ControllerBusyException("the controller has " + MAX_QUEUED_REQUESTS
                        + " events waiting for its event loop (Kafka's queued.max.requests); retry shortly"));
            }
        } catch (RejectedExecutionException closed) {
            future.completeExceptionally(new NotControllerException(
                    "node " + options.nodeId() + " is shutting down", ControllerHint.newBuilder()
                            .setControllerId(LeaderAndEpoch.NO_LEADER).build()));
        }
        return future;
    }

    private <T> void decideAndAppend(Supplier<ControllerResult<T>> decision, CompletableFuture<Committed<T>> future) {
        if (!active) {
            future.completeExceptionally(notController());
            return;
        }
        ControllerResult<T> result;
        try {
            result = decision.get();
        } catch (RuntimeException e) {
            LOG.error("[node {}] controller decision failed", options.nodeId(), e);
            future.completeExceptionally(e);
            return;
        }
        PendingReply<T> reply = new PendingReply<>(future, result.reply());
        if (result.records().isEmpty()) {
            answerAfterInflight(reply);
        } else {
            append(result.records(), reply);
        }
        rescheduleSessionCheck();
    }

    /** Answers once every batch appended so far has committed (at once when none is in flight). */
    private void answerAfterInflight(PendingReply<?> reply) {
        Inflight last = inflight.peekLast();
        if (last == null) {
            reply.complete(committed.offset(), committed);
        } else {
            last.replies.add(reply);
        }
    }

    private void append(List<MetadataRecord> records, PendingReply<?> reply) {
        if (inflight.size() >= options.maxInflightBatches()) {
            if (reply != null) {
                reply.fail(new ControllerBusyException("the controller has " + inflight.size()
                        + " batches waiting to commit; retry shortly"));
            }
            return;
        }
        MetadataImage next;
        try {
            next = MetadataDelta.replayBatch(pending, MetadataImage.PENDING_OFFSET, records);
        } catch (RuntimeException e) {
            // The decision produced records that contradict the image: a bug. Nothing is appended.
            LOG.error("[node {}] controller decision produced records that do not replay: {}",
                    options.nodeId(), records, e);
            if (reply != null) {
                reply.fail(e);
            }
            return;
        }
        Inflight batch = new Inflight(records);
        if (reply != null) {
            batch.replies.add(reply);
        }
        inflight.addLast(batch);
        pending = next;
        long appendEpoch = epoch;
        log.append(appendEpoch, records).whenComplete((offset, error) -> {
            if (error != null) {
                enqueue(() -> handleAppendFailure(appendEpoch, error));
            }
        });
    }

    private void handleAppendFailure(long appendEpoch, Throwable error) {
        if (!active || appendEpoch != epoch) {
            return;
        }
        Throwable cause = Failures.unwrap(error);
        if (cause instanceof NotLeaderException) {
            resign("the metadata log refused an append: " + cause.getMessage());
        } else {
            faultHandler.handleFault("node " + options.nodeId() + ": metadata append failed with an unknown outcome",
                    cause);
            resign("a metadata append failed: " + cause);
        }
    }

    private void touchSession(int brokerId, long brokerEpoch, ClientConnection connection, long nowMs) {
        sessions.touch(brokerId, brokerEpoch, connection, nowMs);
        if (connection != null && connection.isClosed()) {
            // The request was on its way to this loop when its connection closed, and the loss may
            // have been handled before it arrived: apply it again, or this touch would undo it.
            cutSessionsShort(connection, nowMs, " (a request it sent before that arrived late)");
        }
    }

    private void handleConnectionClosed(ClientConnection connection) {
        if (!active) {
            return;
        }
        if (cutSessionsShort(connection, time.monotonicMs(), "")) {
            rescheduleSessionCheck();
        }
    }

    /** Applies the loss of {@code connection} to the sessions; whether any was shortened. */
    private boolean cutSessionsShort(ClientConnection connection, long nowMs, String note) {
        List<Integer> shortened = sessions.connectionLost(connection, nowMs);
        for (int brokerId : shortened) {
            LOG.info("[node {}] broker {}'s heartbeat connection from {} closed{}; fencing it in {} ms unless it"
                    + " heartbeats", options.nodeId(), brokerId, connection.remoteAddress(), note,
                    sessions.connectionLossGraceMs());
        }
        return !shortened.isEmpty();
    }

    private void handleSnapshot(MetadataImage image) {
        committed = image;
        if (active) {
            // A leader does not load snapshots in its own term: its log is the newest.
            faultHandler.handleFault("node " + options.nodeId() + " loaded a snapshot while active controller");
            resign("loaded a snapshot while active");
        }
    }

    private void handleCommit(long offset, List<MetadataRecord> records, MetadataImage image) {
        MetadataImage before = committed;
        committed = image;
        if (!active) {
            return;
        }
        Inflight head = inflight.pollFirst();
        if (head == null || !head.records.equals(records)) {
            faultHandler.handleFault("node " + options.nodeId() + " is active controller at epoch " + epoch
                    + " but committed a batch at offset " + offset + " that it did not append next");
            resign("the committed log diverged from what this controller appended");
            return;
        }
        MetadataChangeLog.logCommitted(options.nodeId(), before, records, image);
        for (PendingReply<?> reply : head.replies) {
            reply.complete(offset, image);
        }
        if (inflight.isEmpty()) {
            pending = committed;
        } else if (records.stream().anyMatch(MetadataRecord::hasRegisterBroker)) {
            // The pending image still has this registration at the pending offset: rebuild it on
            // the committed image, which has the real one (used for the caught-up check).
            MetadataImage rebuilt = committed;
            for (Inflight batch : inflight) {
                rebuilt = MetadataDelta.replayBatch(rebuilt, MetadataImage.PENDING_OFFSET, batch.records);
            }
            pending = rebuilt;
        }
        rescheduleSessionCheck();
    }

    private void handleLeaderChange(LeaderAndEpoch newLeader, MetadataImage image) {
        leader = newLeader;
        committed = image;
        if (newLeader.isLeader(options.nodeId())) {
            if (active) {
                resign("a new epoch " + newLeader.epoch() + " began");
            }
            becomeActive(newLeader.epoch());
        } else if (active) {
            resign(newLeader.hasLeader()
                    ? "node " + newLeader.leaderId() + " leads epoch " + newLeader.epoch()
                    : "the quorum lost its leader (epoch " + newLeader.epoch() + ")");
        }
    }

    private void becomeActive(long newEpoch) {
        active = true;
        activeView = true;
        epoch = newEpoch;
        pending = committed;
        inflight.clear();
        long nowMs = time.monotonicMs();
        sessions.grantAll(committed, nowMs, options.takeoverSessionMs());
        LOG.info("[node {}] became the active controller at epoch {} (metadata offset {}, {} brokers, {} topics);"
                        + " every broker has {} ms to heartbeat",
                options.nodeId(), newEpoch, committed.offset(), committed.brokers().size(),
                committed.topicsById().size(), options.takeoverSessionMs());
        cutSessionOfGonePredecessor(committed);
        ControllerResult<Void> takeover = decisions.takeover(committed, options.nodeId(), newEpoch,
                options.endpoint());
        append(takeover.records(), null);
        rescheduleSessionCheck();
        scheduleLeaderBalance();
    }

    /**
     * A controller taking over after its predecessor's process died (a kill, a crash) would leave the
     * broker of that node its full takeover session: the new controller never had its heartbeat
     * connection, so the connection loss that fences a dead broker within the grace is not seen. The
     * Raft layer saw it: when the previous active controller's every Raft connection to this voter has
     * closed, and that node's broker is the same process (the broker's gRPC endpoint is the one the
     * controller registered), that broker's session is cut as a closed heartbeat connection cuts it.
     * A predecessor that is paused or cut off keeps its connections open: nothing changes.
     */
    private void cutSessionOfGonePredecessor(MetadataImage image) {
        ControllerRegistration predecessor = image.controller();
        if (predecessor == null || predecessor.controllerId() == options.nodeId()) {
            return;
        }
        int nodeId = predecessor.controllerId();
        BrokerRegistration broker = image.brokers().get(nodeId);
        long lostAtMs = log.voterConnectionLostAtMs(nodeId);
        if (broker == null || broker.isFenced() || lostAtMs < 0 || !sameEndpoint(predecessor.endpoint(),
                broker.endpoint(BrokerRegistration.GRPC_LISTENER).orElse(null))) {
            return;
        }
        if (sessions.processGone(nodeId, lostAtMs)) {
            LOG.info("[node {}] node {}, the previous active controller, closed its Raft connections {} ms ago;"
                    + " fencing its broker {} ms after that unless it heartbeats", options.nodeId(), nodeId,
                    time.monotonicMs() - lostAtMs, sessions.connectionLossGraceMs());
        }
    }

    private static boolean sameEndpoint(Endpoint a, Endpoint b) {
        return a != null && b != null && a.getHost().equals(b.getHost()) && a.getPort() == b.getPort();
    }

    private void scheduleLeaderBalance() {
        if (active && options.leaderImbalanceCheckIntervalMs() > 0) {
            loop.schedule(LEADER_BALANCE, time.nanoseconds() + options.leaderImbalanceCheckIntervalMs() * 1_000_000L,
                    this::balanceLeaders);
        }
    }

    private void balanceLeaders() {
        if (!active) {
            return;
        }
        ControllerResult<Void> result = decisions.electPreferredLeaders(pending,
                options.leaderImbalancePercentage());
        if (!result.records().isEmpty()) {
            LOG.info("[node {}] moving the leadership of {} partition(s) back to their preferred replicas (more than"
                    + " {} % of a broker's preferred partitions were led elsewhere)", options.nodeId(),
                    result.records().size(), options.leaderImbalancePercentage());
            append(result.records(), null);
        }
        scheduleLeaderBalance();
    }

    private void resign(String reason) {
        if (!active) {
            return;
        }
        active = false;
        activeView = false;
        NotControllerException error = notController();
        int failed = 0;
        for (Inflight batch : inflight) {
            for (PendingReply<?> reply : batch.replies) {
                reply.fail(error);
                failed++;
            }
        }
        inflight.clear();
        pending = committed;
        sessions.clear();
        loop.cancel(SESSION_CHECK);
        loop.cancel(LEADER_BALANCE);
        LOG.info("[node {}] is no longer the active controller (epoch {}): {}; {} waiting requests answered"
                + " NOT_CONTROLLER", options.nodeId(), epoch, reason, failed);
    }

    private void rescheduleSessionCheck() {
        if (!active) {
            return;
        }
        long nextExpiryMs = sessions.nextExpiryMs(pending);
        if (nextExpiryMs == Long.MAX_VALUE) {
            loop.cancel(SESSION_CHECK);
            return;
        }
        long deadlineNs = nextExpiryMs == Long.MIN_VALUE ? time.nanoseconds() : nextExpiryMs * 1_000_000L;
        loop.schedule(SESSION_CHECK, deadlineNs, this::checkSessions);
    }

    private void checkSessions() {
        if (!active) {
            return;
        }
        long nowMs = time.monotonicMs();
        List<Integer> expired = sessions.expired(pending, nowMs);
        if (!expired.isEmpty()) {
            for (int brokerId : expired) {
                long silentMs = sessions.sinceLastContactMs(brokerId, nowMs);
                long sinceLostMs = sessions.sinceConnectionLostMs(brokerId, nowMs);
                LOG.info("[node {}] fencing broker {}: {}", options.nodeId(), brokerId, silentMs < 0
                        ? "it has no session"
                        : sinceLostMs >= 0
                        ? "no heartbeat for " + silentMs + " ms, and its heartbeat connection closed " + sinceLostMs
                                + " ms ago (grace " + sessions.connectionLossGraceMs() + " ms)"
                        : "no heartbeat for " + silentMs + " ms (session timeout " + options.sessionTimeoutMs()
                                + " ms)");
            }
            ControllerResult<Void> result = decisions.fenceBrokers(pending, expired);
            if (!result.records().isEmpty()) {
                append(result.records(), null);
            }
        }
        rescheduleSessionCheck();
    }

    private NotControllerException notController() {
        ControllerHint hint = ControllerHints.of(leader, committed);
        return new NotControllerException("node " + options.nodeId() + " is not the active controller"
                + (hint.getControllerId() >= 0 ? "; node " + hint.getControllerId() + " is" : "; none is known yet"),
                hint);
    }

    private static String describeEndpoints(List<Endpoint> endpoints) {
        List<String> out = new ArrayList<>();
        for (Endpoint e : endpoints) {
            out.add(e.getListener() + "://" + e.getHost() + ":" + e.getPort());
        }
        return String.join(",", out);
    }
}
