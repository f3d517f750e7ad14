package io.raftmq.broker.group;

import io.raftmq.broker.group.ConsumerGroup.State;
import io.raftmq.common.ApiError;
import io.raftmq.common.Time;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.DescribedGroup;
import io.raftmq.protocol.broker.DescribedGroupMember;
import io.raftmq.protocol.broker.HeartbeatRequest;
import io.raftmq.protocol.broker.HeartbeatResponse;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.LeaveGroupRequest;
import io.raftmq.protocol.broker.LeaveGroupResponse;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The groups coordinated by one partition of __consumer_offsets, while this broker leads it:
 * Kafka's classic group membership (join, sync, heartbeat, leave, session expiry, rebalance
 * timeout), with assignments computed here, plus the durable part of the state (each group's last
 * generation and its committed offsets) kept as records in that partition. Offset commits and
 * administration are in {@link OffsetsAndAdmin}, on the same state.
 *
 * <p>Writes: a command builds records and hands them to the {@link Writer}; once they are in the
 * local log they are replayed into this state at once (so later commands and checkpoints see
 * them), and the command is answered when the partition's high watermark covers them. If this
 * broker loses the partition first, the whole shard is dropped and the next leader replays the
 * log, which holds exactly what was committed. Reads of durable state ({@link
 * #afterPendingWrites}) wait until every earlier write has committed or failed, so that no
 * answer shows state that could still be lost.
 *
 * <p>Threads: a shard is built and loaded by the loader, then handed to the coordinator's event
 * loop, which is its only user from then on (no locks). Writer callbacks must arrive on that loop.
 * Timers: {@link #poll()} does what is due by the injected {@link Time} (session and rebalance
 * deadlines, and every offsets.retention.check.interval.ms the expiry of groups without members,
 * {@link OffsetsAndAdmin#expireOffsets}) and returns the next deadline; the owner calls it again then.
 */
final class GroupShard {
    private static final Logger LOG = LoggerFactory.getLogger(GroupShard.class);

    /** Appends records to this shard's partition as its leader. */
    interface Writer {
        /**
         * Appends {@code records} (acks=all). Returns NONE when they are in the local log; {@code
         * onCommitted} is then called once, on the owner's thread, with NONE when the high
         * watermark covers them or with the error that ended the wait. Returns the error when
         * nothing was written; {@code onCommitted} is then never called. Never calls {@code
         * onCommitted} from inside this call (the records are replayed after it returns).
         */
        ApiError append(List<CoordinatorRecord> records, Consumer<ApiError> onCommitted);
    }

    final int partition;
    final int coordinatorId;
    final String logPrefix;
    final GroupCoordinatorConfig config;
    final Time time;
    private final Writer writer;
    /** A topic's partition count in this broker's metadata, 0 when it has no such topic. */
    final ToIntFunction<String> partitionCounts;
    private final Supplier<String> memberIdSuffixes;
    private final Map<String, PartitionAssignor> assignors = PartitionAssignor.known();
    final Map<String, ConsumerGroup> groups = new HashMap<>();
    final OffsetsAndAdmin offsets;
    /** The consumer-protocol (KIP-848) groups of this partition. */
    final ConsumerGroupHeartbeats consumerProtocol;

    private boolean loaded;
    private boolean closed;
    /** When (monotonic) to look next for groups whose offsets expired (offsets.retention.minutes). */
    private long nextRetentionCheckMs;
    // Read barrier: sequence numbers of writes in the log and not yet committed or failed.
    private long writesIssued;
    private final TreeSet<Long> writesInFlight = new TreeSet<>();
    private final ArrayDeque<WaitingRead> waitingReads = new ArrayDeque<>();

    private record WaitingRead(long barrier, Runnable read) {}

    /**
     * @param partitionCounts a topic's partition count in this broker's metadata, 0 if none
     * @param memberIdSuffixes unique suffixes for new member ids (random UUIDs in production)
     */
    GroupShard(int partition, int coordinatorId, GroupCoordinatorConfig config, Time time, Writer writer,
            ToIntFunction<String> partitionCounts, Supplier<String> memberIdSuffixes) {
        this(partition, coordinatorId, config, time, writer, partitionCounts, Set::of, memberIdSuffixes);
    }

    /** @param topicNames every topic name in this broker's metadata (consumer-protocol regex subscriptions) */
    GroupShard(int partition, int coordinatorId, GroupCoordinatorConfig config, Time time, Writer writer,
            ToIntFunction<String> partitionCounts, Supplier<? extends Collection<String>> topicNames,
            Supplier<String> memberIdSuffixes) {
        this.partition = partition;
        this.coordinatorId = coordinatorId;
        this.logPrefix = "[broker " + coordinatorId + "] [" + GroupCoordinatorConfig.OFFSETS_TOPIC + "-" + partition
                + "]";
        this.config = config;
        this.time = time;
        this.writer = writer;
        this.partitionCounts = partitionCounts;
        this.memberIdSuffixes = memberIdSuffixes;
        this.offsets = new OffsetsAndAdmin(this);
        this.consumerProtocol = new ConsumerGroupHeartbeats(this, partitionCounts, topicNames, memberIdSuffixes);
    }

    // ---- loading and replay ----

    /** Applies one stored record (while loading, and for this shard's own writes once in the log). */
    void replay(CoordinatorRecord record) {
        if (record instanceof CoordinatorRecord.GroupMetadata gm) {
            ConsumerGroup group = groups.get(gm.groupId());
            if (gm.value() == null) {
                if (group != null) {
                    group.persisted = null;
                    if (group.members.isEmpty()) {
                        if (loaded) {
                            group.transitionTo(State.DEAD, "deleted");
                        }
                        groups.remove(gm.groupId());
                    }
                }
            } else if (!loaded) {
                groupOrNew(gm.groupId()).restore(gm.value());
            } else {
                groupOrNew(gm.groupId()).persisted = gm.value();
            }
        } else if (record instanceof CoordinatorRecord.ConsumerProtocolRecord cp) {
            consumerProtocol.replay(cp);
        } else if (record instanceof CoordinatorRecord.OffsetCommit oc) {
            if (oc.value() == null) {
                ConsumerGroup group = groups.get(oc.groupId());
                if (group != null) {
                    group.offsets.remove(oc.tp());
                    // A group that only ever had commits ends with its last one (OffsetDelete), as
                    // it would after a reload: nothing of it is left in the log.
                    if (group.offsets.isEmpty() && group.members.isEmpty() && group.persisted == null) {
                        groups.remove(oc.groupId());
                    }
                }
            } else {
                groupOrNew(oc.groupId()).offsets.put(oc.tp(), oc.value());
            }
        }
    }

    /** Loading is over: restored members get a full session from now, assignments keep their partition counts. */
    void finishLoad() {
        long nowMs = time.monotonicMs();
        for (ConsumerGroup group : groups.values()) {
            group.members.values().forEach(m -> m.heardFrom(nowMs));
            group.assignedPartitionCounts = partitionCountsOf(group.subscribedTopics());
        }
        consumerProtocol.finishLoad(nowMs);
        nextRetentionCheckMs = nowMs + config.offsetsRetentionCheckIntervalMs();
        loaded = true;
    }

    /** Records that rewrite every live key: replaying them alone rebuilds the durable state. */
    List<CoordinatorRecord> checkpointRecords() {
        List<CoordinatorRecord> out = new ArrayList<>();
        for (ConsumerGroup group : new TreeMap<>(groups).values()) {
            if (group.persisted != null) {
                out.add(new CoordinatorRecord.GroupMetadata(group.groupId, group.persisted));
            }
            group.offsets.entrySet().stream()
                    .sorted(Map.Entry.comparingByKey(OffsetsAndAdmin::compare))
                    .forEach(e -> out.add(new CoordinatorRecord.OffsetCommit(group.groupId, e.getKey(), e.getValue())));
        }
        out.addAll(consumerProtocol.checkpointRecords());
        return out;
    }

    /** How many keys a checkpoint would write. */
    int liveKeys() {
        int n = consumerProtocol.liveKeys();
        for (ConsumerGroup group : groups.values()) {
            n += (group.persisted != null ? 1 : 0) + group.offsets.size();
        }
        return n;
    }

    ConsumerGroup groupOrNew(String groupId) {
        return groups.computeIfAbsent(groupId, id -> new ConsumerGroup(id, logPrefix));
    }

    // ---- writes and the read barrier ----

    /** Writes records; on success they are replayed now and {@code onCommitted} follows. */
    ApiError write(List<CoordinatorRecord> records, Consumer<ApiError> onCommitted) {
        long seq = ++writesIssued;
        writesInFlight.add(seq);
        ApiError error = writer.append(records, committed -> {
            writesInFlight.remove(seq);
            onCommitted.accept(committed);
            runReadyReads();
        });
        if (error.isFailure()) {
            writesInFlight.remove(seq);
            runReadyReads();
            return error;
        }
        records.forEach(this::replay);
        return ApiError.NONE;
    }

    /** Runs {@code read} once every write issued so far has committed or failed. */
    void afterPendingWrites(Runnable read) {
        if (writesInFlight.isEmpty()) {
            read.run();
        } else {
            waitingReads.add(new WaitingRead(writesIssued, read));
        }
    }

    private void runReadyReads() {
        while (!waitingReads.isEmpty()
                && (writesInFlight.isEmpty() || waitingReads.peek().barrier() < writesInFlight.first())) {
            waitingReads.poll().read().run();
        }
    }

    boolean isClosed() {
        return closed;
    }

    // ---- JoinGroup ----

    void join(JoinGroupRequest req, String clientHost, Consumer<JoinGroupResponse> respond) {
        long nowMs = time.monotonicMs();
        String groupId = req.getGroupId();
        String memberId = req.getMemberId();
        ApiError invalid = validateJoin(req);
        if (invalid.isSuccess()) {
            invalid = consumerProtocol.refuseClassicJoin(groupId);
        }
        if (invalid.isFailure()) {
            respond.accept(joinError(invalid, memberId));
            return;
        }
        List<String> memberAssignors = req.getAssignorsList().isEmpty() ? List.of(RangeAssignor.NAME)
                : req.getAssignorsList().stream().filter(assignors::containsKey).distinct().toList();
        String protocolType = req.getProtocolType().isEmpty() ? "consumer" : req.getProtocolType();
        List<String> topics = req.getTopicsList().stream().distinct().sorted().toList();
        int rebalanceTimeoutMs = req.getRebalanceTimeoutMs() > 0 ? req.getRebalanceTimeoutMs()
                : req.getSessionTimeoutMs();
        ConsumerGroup group = groups.get(groupId);
        if (group == null && !memberId.isEmpty()) {
            respond.accept(joinError(ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no member '%s' (it"
                    + " has no members at all); join with an empty member id", groupId, memberId), memberId));
            return;
        }
        if (group != null) {
            ApiError compatible = checkCompatible(group, memberId, protocolType, memberAssignors);
            if (compatible.isFailure()) {
                respond.accept(joinError(compatible, memberId));
                return;
            }
        } else {
            group = groupOrNew(groupId);
        }
        if (memberId.isEmpty()) {
            if (group.members.size() >= config.maxGroupSize()) {
                respond.accept(joinError(ApiError.of(ErrorCode.GROUP_MAX_SIZE_REACHED, "group '%s' has %d members,"
                        + " the most group.max.size allows", groupId, group.members.size()), memberId));
                return;
            }
            String clientId = req.getClientId().isEmpty() ? "consumer" : req.getClientId();
            GroupMember member = new GroupMember(clientId + "-" + memberIdSuffixes.get(), clientId, clientHost,
                    req.getSessionTimeoutMs(), rebalanceTimeoutMs, topics, memberAssignors);
            member.pendingJoin = respond;
            member.heardFrom(nowMs);
            group.members.put(member.memberId, member);
            group.protocolType = protocolType;
            String reason = "member " + member.memberId + " joined";
            switch (group.state()) {
                case EMPTY, STABLE, COMPLETING_REBALANCE -> prepareRebalance(group, nowMs, reason);
                case PREPARING_REBALANCE -> {
                    if (group.initialDelay) {
                        group.rebalanceDeadlineMs = Math.min(nowMs + config.initialRebalanceDelayMs(),
                                group.initialDelayLimitMs);
                    }
                }
                case DEAD -> throw new IllegalStateException("dead group " + groupId + " still in the shard");
            }
        } else {
            GroupMember member = group.members.get(memberId);
            if (member == null) {
                respond.accept(joinError(ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no member '%s';"
                        + " join with an empty member id", groupId, memberId), memberId));
                return;
            }
            member.heardFrom(nowMs);
            boolean unchanged = member.matches(topics, memberAssignors);
            member.sessionTimeoutMs = req.getSessionTimeoutMs();
            member.rebalanceTimeoutMs = rebalanceTimeoutMs;
            member.topics = topics;
            member.assignors = memberAssignors;
            switch (group.state()) {
                case PREPARING_REBALANCE -> setPendingJoin(member, respond);
                case COMPLETING_REBALANCE, STABLE -> {
                    if (unchanged) {
                        // A member re-sending its join: it is already in this generation.
                        respond.accept(joinResponse(group, member.memberId));
                    } else {
                        setPendingJoin(member, respond);
                        prepareRebalance(group, nowMs, "member " + memberId + " changed its subscription");
                    }
                }
                case EMPTY, DEAD -> throw new IllegalStateException("group " + groupId + " is " + group.state()
                        + " with member " + memberId);
            }
        }
        maybeCompleteJoin(group, nowMs);
    }

    private ApiError validateJoin(JoinGroupRequest req) {
        if (req.getGroupId().isEmpty()) {
            return ApiError.of(ErrorCode.INVALID_GROUP_ID, "the group id is empty");
        }
        int session = req.getSessionTimeoutMs();
        if (session < config.minSessionTimeoutMs() || session > config.maxSessionTimeoutMs()) {
            return ApiError.of(ErrorCode.INVALID_SESSION_TIMEOUT, "session timeout %d ms is outside"
                    + " group.min.session.timeout.ms .. group.max.session.timeout.ms (%d .. %d ms)", session,
                    config.minSessionTimeoutMs(), config.maxSessionTimeoutMs());
        }
        if (!req.getAssignorsList().isEmpty()
                && req.getAssignorsList().stream().noneMatch(assignors::containsKey)) {
            return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "none of the assignors %s is known to the"
                    + " coordinator, which has %s", req.getAssignorsList(), new TreeSet<>(assignors.keySet()));
        }
        return ApiError.NONE;
    }

    private static ApiError checkCompatible(ConsumerGroup group, String memberId, String protocolType,
            List<String> memberAssignors) {
        boolean others = group.members.keySet().stream().anyMatch(id -> !id.equals(memberId));
        if (!others) {
            return ApiError.NONE;
        }
        if (!group.protocolType.equals(protocolType)) {
            return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "group '%s' has protocol type '%s', not '%s'",
                    group.groupId, group.protocolType, protocolType);
        }
        Set<String> common = null;
        for (GroupMember m : group.members.values()) {
            if (m.memberId.equals(memberId)) {
                continue;
            }
            if (common == null) {
                common = new TreeSet<>(m.assignors);
            } else {
                common.retainAll(m.assignors);
            }
        }
        if (common != null && memberAssignors.stream().noneMatch(common::contains)) {
            return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "group '%s' members all support %s; this"
                    + " member supports %s", group.groupId, common, memberAssignors);
        }
        return ApiError.NONE;
    }

    private static void setPendingJoin(GroupMember member, Consumer<JoinGroupResponse> respond) {
        Consumer<JoinGroupResponse> previous = member.pendingJoin;
        member.pendingJoin = respond;
        if (previous != null) {
            previous.accept(joinError(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "superseded by a newer"
                    + " JoinGroup from member %s", member.memberId), member.memberId));
        }
    }

    private void prepareRebalance(ConsumerGroup group, long nowMs, String reason) {
        if (group.is(State.COMPLETING_REBALANCE)) {
            for (GroupMember m : group.members.values()) {
                answerSync(m, syncError(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '%s' is rebalancing"
                        + " again: %s", group.groupId, reason)));
            }
        }
        boolean fromEmpty = group.is(State.EMPTY);
        group.transitionTo(State.PREPARING_REBALANCE, reason);
        if (fromEmpty && config.initialRebalanceDelayMs() > 0) {
            group.initialDelay = true;
            group.initialDelayLimitMs = nowMs + group.maxRebalanceTimeoutMs();
            group.rebalanceDeadlineMs = Math.min(nowMs + config.initialRebalanceDelayMs(), group.initialDelayLimitMs);
        } else {
            group.initialDelay = false;
            group.rebalanceDeadlineMs = nowMs + group.maxRebalanceTimeoutMs();
        }
    }

    private void maybeCompleteJoin(ConsumerGroup group, long nowMs) {
        if (group.is(State.PREPARING_REBALANCE)
                && (group.members.isEmpty() || (!group.initialDelay && group.allMembersJoined()))) {
            completeJoin(group, nowMs, group.members.isEmpty() ? "no members left" : "every member joined");
        }
    }

    /** Ends the join phase: members that did not rejoin leave; the rest get the next generation. */
    private void completeJoin(ConsumerGroup group, long nowMs, String reason) {
        for (GroupMember m : new ArrayList<>(group.members.values())) {
            if (m.pendingJoin == null) {
                LOG.info("{} group '{}': member {} did not rejoin within the rebalance timeout; removed", logPrefix,
                        group.groupId, m.memberId);
                group.members.remove(m.memberId);
                answerSync(m, syncError(unknownMember(group, m.memberId)));
            }
        }
        group.initialDelay = false;
        group.generationId++;
        if (group.members.isEmpty()) {
            group.assignor = "";
            group.leaderId = "";
            group.assignedPartitionCounts = Map.of();
            group.transitionTo(State.EMPTY, reason);
            ApiError error = write(List.of(new CoordinatorRecord.GroupMetadata(group.groupId,
                    group.toValue(time.milliseconds()))), committed -> { });
            if (error.isFailure()) {
                LOG.warn("{} group '{}': storing the empty generation {} failed: {}", logPrefix, group.groupId,
                        group.generationId, error);
            }
            return;
        }
        group.assignor = group.selectAssignor();
        if (!group.members.containsKey(group.leaderId)) {
            group.leaderId = group.members.firstKey();
        }
        Map<String, List<String>> subscriptions = new TreeMap<>();
        group.members.values().forEach(m -> subscriptions.put(m.memberId, m.topics));
        Map<String, Integer> counts = partitionCountsOf(group.subscribedTopics());
        SortedMap<String, SortedMap<String, List<Integer>>> assignment = assignors.get(group.assignor)
                .assign(subscriptions, t -> counts.getOrDefault(t, 0));
        group.assignedPartitionCounts = counts;
        for (GroupMember m : group.members.values()) {
            m.assignment = assignment.get(m.memberId);
        }
        group.transitionTo(State.COMPLETING_REBALANCE, reason + "; generation " + group.generationId + " with "
                + group.assignor + " assignor");
        int generation = group.generationId;
        for (GroupMember m : group.members.values()) {
            Consumer<JoinGroupResponse> pending = m.pendingJoin;
            m.pendingJoin = null;
            m.heardFrom(nowMs);
            pending.accept(joinResponse(group, m.memberId));
        }
        ApiError error = write(List.of(new CoordinatorRecord.GroupMetadata(group.groupId,
                group.toValue(time.milliseconds()))), committed -> onGenerationStored(group, generation, committed));
        if (error.isFailure()) {
            onGenerationStored(group, generation, error);
        }
    }

    private void onGenerationStored(ConsumerGroup group, int generation, ApiError error) {
        if (closed || groups.get(group.groupId) != group || group.generationId != generation
                || !group.is(State.COMPLETING_REBALANCE)) {
            return;
        }
        if (error.isSuccess()) {
            group.transitionTo(State.STABLE, "assignment of generation " + generation + " stored");
            for (GroupMember m : group.members.values()) {
                answerSync(m, SyncGroupResponse.newBuilder().setError(ApiError.NONE.toProto())
                        .addAllAssignment(m.assignmentProto()).build());
            }
        } else {
            for (GroupMember m : group.members.values()) {
                answerSync(m, syncError(error));
            }
            prepareRebalance(group, time.monotonicMs(), "storing generation " + generation + " failed: " + error);
        }
    }

    private static JoinGroupResponse joinResponse(ConsumerGroup group, String memberId) {
        return JoinGroupResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setGenerationId(group.generationId)
                .setMemberId(memberId)
                .setLeaderId(group.leaderId)
                .setAssignor(group.assignor)
                .build();
    }

    static JoinGroupResponse joinError(ApiError error, String memberId) {
        return JoinGroupResponse.newBuilder().setError(error.toProto()).setGenerationId(-1).setMemberId(memberId)
                .build();
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup ----

    void sync(SyncGroupRequest req, Consumer<SyncGroupResponse> respond) {
        ConsumerGroup group = groups.get(req.getGroupId());
        GroupMember member = group == null ? null : group.members.get(req.getMemberId());
        ApiError check = checkMember(group, member, req.getGroupId(), req.getMemberId(), req.getGenerationId());
        if (check.isFailure()) {
            respond.accept(syncError(check));
            return;
        }
        member.heardFrom(time.monotonicMs());
        switch (group.state()) {
            case PREPARING_REBALANCE -> respond.accept(syncError(rebalancing(group)));
            case COMPLETING_REBALANCE -> {
                answerSync(member, syncError(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "superseded by a newer"
                        + " SyncGroup from member %s", member.memberId)));
                member.pendingSync = respond;
            }
            case STABLE -> respond.accept(SyncGroupResponse.newBuilder().setError(ApiError.NONE.toProto())
                    .addAllAssignment(member.assignmentProto()).build());
            case EMPTY, DEAD -> respond.accept(syncError(unknownMember(group, member.memberId)));
        }
    }

    HeartbeatResponse heartbeat(HeartbeatRequest req) {
        ConsumerGroup group = groups.get(req.getGroupId());
        GroupMember member = group == null ? null : group.members.get(req.getMemberId());
        ApiError error = checkMember(group, member, req.getGroupId(), req.getMemberId(), req.getGenerationId());
        if (error.isSuccess()) {
            member.heardFrom(time.monotonicMs());
            if (group.is(State.PREPARING_REBALANCE)) {
                error = rebalancing(group);
            }
        }
        return HeartbeatResponse.newBuilder().setError(error.toProto()).build();
    }

    LeaveGroupResponse leave(LeaveGroupRequest req) {
        ConsumerGroup group = groups.get(req.getGroupId());
        GroupMember member = group == null ? null : group.members.get(req.getMemberId());
        if (member == null) {
            return LeaveGroupResponse.newBuilder().setError(unknownMember(group, req.getMemberId(),
                    req.getGroupId()).toProto()).build();
        }
        removeMember(group, member, "member " + member.memberId + " left the group");
        return LeaveGroupResponse.newBuilder().setError(ApiError.NONE.toProto()).build();
    }

    /** UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, or NONE for a member of the group's current generation. */
    ApiError checkMember(ConsumerGroup group, GroupMember member, String groupId, String memberId, int generation) {
        if (member == null) {
            return unknownMember(group, memberId, groupId);
        }
        if (generation != group.generationId) {
            return ApiError.of(ErrorCode.ILLEGAL_GENERATION, "generation %d of group '%s' is over; the current"
                    + " generation is %d: join again", generation, groupId, group.generationId);
        }
        return ApiError.NONE;
    }

    private static ApiError unknownMember(ConsumerGroup group, String memberId) {
        return unknownMember(group, memberId, group.groupId);
    }

    static ApiError unknownMember(ConsumerGroup group, String memberId, String groupId) {
        return group == null
                ? ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no members; join with an empty member"
                        + " id", groupId)
                : ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member '%s' is not in group '%s' (removed after a"
                        + " leave, a session timeout or a missed rebalance); join with an empty member id",
                        memberId, groupId);
    }

    private static ApiError rebalancing(ConsumerGroup group) {
        return ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '%s' is rebalancing: join again",
                group.groupId);
    }

    private static SyncGroupResponse syncError(ApiError error) {
        return SyncGroupResponse.newBuilder().setError(error.toProto()).build();
    }

    private static void answerSync(GroupMember m, SyncGroupResponse response) {
        Consumer<SyncGroupResponse> pending = m.pendingSync;
        m.pendingSync = null;
        if (pending != null) {
            pending.accept(response);
        }
    }

    private void removeMember(ConsumerGroup group, GroupMember member, String reason) {
        ApiError gone = ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member '%s' was removed from group '%s': %s",
                member.memberId, group.groupId, reason);
        Consumer<JoinGroupResponse> join = member.pendingJoin;
        member.pendingJoin = null;
        if (join != null) {
            join.accept(joinError(gone, member.memberId));
        }
        answerSync(member, syncError(gone));
        group.members.remove(member.memberId);
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = group.members.isEmpty() ? "" : group.members.firstKey();
        }
        long nowMs = time.monotonicMs();
        if (group.is(State.STABLE) || group.is(State.COMPLETING_REBALANCE)) {
            prepareRebalance(group, nowMs, reason);
        }
        maybeCompleteJoin(group, nowMs);
    }

    // ---- timers and metadata ----

    /** Completes join phases whose time is up and removes members whose session expired; the next deadline. */
    long poll() {
        long nowMs = time.monotonicMs();
        if (loaded && !closed && nowMs >= nextRetentionCheckMs) {
            nextRetentionCheckMs = nowMs + config.offsetsRetentionCheckIntervalMs();
            offsets.expireOffsets(time.milliseconds());
        }
        if (loaded && !closed) {
            consumerProtocol.poll(nowMs);
        }
        for (ConsumerGroup group : new ArrayList<>(groups.values())) {
            if (group.is(State.PREPARING_REBALANCE) && nowMs >= group.rebalanceDeadlineMs) {
                completeJoin(group, nowMs, group.initialDelay ? "initial rebalance delay over"
                        : "rebalance timeout of " + group.maxRebalanceTimeoutMs() + " ms over");
            }
            for (GroupMember m : new ArrayList<>(group.members.values())) {
                if (!m.isAwaiting() && nowMs >= m.sessionDeadlineMs && group.members.containsKey(m.memberId)) {
                    removeMember(group, m, "session timeout of " + m.sessionTimeoutMs + " ms of member "
                            + m.memberId + " expired");
                }
            }
        }
        return nextDeadlineMs();
    }

    long nextDeadlineMs() {
        long next = loaded && !closed ? Math.min(nextRetentionCheckMs, consumerProtocol.nextDeadlineMs())
                : Long.MAX_VALUE;
        for (ConsumerGroup group : groups.values()) {
            if (group.is(State.PREPARING_REBALANCE)) {
                next = Math.min(next, group.rebalanceDeadlineMs);
            }
            for (GroupMember m : group.members.values()) {
                if (!m.isAwaiting()) {
                    next = Math.min(next, m.sessionDeadlineMs);
                }
            }
        }
        return next;
    }

    /** Metadata changed: groups whose subscribed topics changed partition count rebalance. */
    void onMetadataChanged() {
        consumerProtocol.onMetadataChanged();
        long nowMs = time.monotonicMs();
        for (ConsumerGroup group : groups.values()) {
            if (!group.is(State.STABLE) && !group.is(State.COMPLETING_REBALANCE)) {
                continue;
            }
            for (String topic : group.subscribedTopics()) {
                int now = partitionCounts.applyAsInt(topic);
                int before = group.assignedPartitionCounts.getOrDefault(topic, 0);
                if (now != before) {
                    prepareRebalance(group, nowMs, "topic '" + topic + "' has " + now + " partition(s), " + before
                            + " when the assignment was made");
                    break;
                }
            }
        }
    }

    private Map<String, Integer> partitionCountsOf(Collection<String> topics) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String t : topics) {
            counts.put(t, Math.max(0, partitionCounts.applyAsInt(t)));
        }
        return counts;
    }

    // ---- ListGroups, DescribeGroups ----

    /**
     * The groups of this shard in the states and of the types asked for (lower case; empty: all):
     * classic groups (type "classic") and KIP-848 groups (type "consumer"). A KIP-848 group's
     * offsets live in a classic entry of the same id, which is not listed on its own.
     */
    List<ListedGroup> listGroups(Set<String> statesLowerCase, Set<String> typesLowerCase) {
        TreeMap<String, ListedGroup> out = new TreeMap<>();
        if (typesLowerCase.isEmpty() || typesLowerCase.contains(GroupCoordinator.CLASSIC_GROUP_TYPE)) {
            for (ConsumerGroup g : groups.values()) {
                if (!consumerProtocol.isConsumerProtocolGroup(g.groupId) && wanted(statesLowerCase, g.state().wireName)) {
                    out.put(g.groupId, ListedGroup.newBuilder().setGroupId(g.groupId).setProtocolType(g.protocolType)
                            .setState(g.state().wireName).setCoordinatorId(coordinatorId)
                            .setGroupType(GroupCoordinator.CLASSIC_GROUP_TYPE).build());
                }
            }
        }
        if (typesLowerCase.isEmpty() || typesLowerCase.contains(ConsumerProtocolGroup.TYPE)) {
            for (ConsumerProtocolGroup g : consumerProtocol.groups.values()) {
                if (wanted(statesLowerCase, g.state())) {
                    out.put(g.groupId, ListedGroup.newBuilder().setGroupId(g.groupId)
                            .setProtocolType(ConsumerProtocolGroup.TYPE).setState(g.state())
                            .setCoordinatorId(coordinatorId).setGroupType(ConsumerProtocolGroup.TYPE).build());
                }
            }
        }
        return new ArrayList<>(out.values());
    }

    private static boolean wanted(Set<String> statesLowerCase, String state) {
        return statesLowerCase.isEmpty() || statesLowerCase.contains(state.toLowerCase(java.util.Locale.ROOT));
    }

    DescribedGroup describe(String groupId) {
        ConsumerGroup g = groups.get(groupId);
        DescribedGroup.Builder out = DescribedGroup.newBuilder().setGroupId(groupId).setCoordinatorId(coordinatorId);
        if (g == null) {
            return out.setError(ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does not exist", groupId)
                    .toProto()).setState(State.DEAD.wireName).build();
        }
        out.setError(ApiError.NONE.toProto()).setState(g.state().wireName).setProtocolType(g.protocolType)
                .setAssignor(g.assignor).setGenerationId(g.generationId);
        boolean assigned = g.is(State.STABLE) || g.is(State.COMPLETING_REBALANCE);
        for (GroupMember m : g.members.values()) {
            DescribedGroupMember.Builder d = DescribedGroupMember.newBuilder().setMemberId(m.memberId)
                    .setClientId(m.clientId).setClientHost(m.clientHost).addAllSubscribedTopics(m.topics);
            if (assigned) {
                d.addAllAssignment(m.assignmentProto());
            }
            out.addMembers(d);
        }
        return out.build();
    }

    void delete(String groupId, Consumer<DeletedGroup> respond) {
        offsets.delete(groupId, respond);
    }

    // ---- closing ----

    /** This broker no longer leads the partition: every waiting join and sync is answered NOT_COORDINATOR. */
    void close(String reason) {
        closed = true;
        ApiError notCoordinator = ApiError.of(ErrorCode.NOT_COORDINATOR, "broker %d no longer coordinates the"
                + " groups of %s-%d: %s", coordinatorId, GroupCoordinatorConfig.OFFSETS_TOPIC, partition, reason);
        for (ConsumerGroup g : groups.values()) {
            for (GroupMember m : g.members.values()) {
                Consumer<JoinGroupResponse> join = m.pendingJoin;
                m.pendingJoin = null;
                if (join != null) {
                    join.accept(joinError(notCoordinator, m.memberId));
                }
                answerSync(m, syncError(notCoordinator));
            }
        }
        while (!waitingReads.isEmpty()) {
            waitingReads.poll().read().run();
        }
    }
}
