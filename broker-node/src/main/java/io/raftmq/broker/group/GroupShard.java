package io.raftmq.broker.group;

import io.raftmq.broker.group.ConsumerGroup.State;
import io.raftmq.common.ApiError;
import io.raftmq.common.Time;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.ListedGroup;
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

/**
 * The groups coordinated by one partition of __consumer_offsets, while this broker leads it:
 * Kafka's classic group membership ({@link ClassicMembership}: join, sync, heartbeat, leave,
 * session expiry, rebalance timeout, static members), plus the durable part of the state (each group's last
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
    private final ClassicMembership membership;
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
        this.membership = new ClassicMembership(this, memberIdSuffixes);
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

    // ---- classic membership ({@link ClassicMembership}) ----

    void join(ClassicGroupApi.JoinRequest req, Consumer<ClassicGroupApi.JoinResult> respond) {
        membership.join(req, respond);
    }

    void sync(ClassicGroupApi.SyncRequest req, Consumer<ClassicGroupApi.SyncResult> respond) {
        membership.sync(req, respond);
    }

    ApiError heartbeat(ClassicGroupApi.HeartbeatRequest req) {
        return membership.heartbeat(req);
    }

    ClassicGroupApi.LeaveResult leave(String groupId, List<ClassicGroupApi.LeavingMember> members) {
        return membership.leave(groupId, members);
    }

    /** UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION, or NONE for a member of the current generation. */
    ApiError checkMember(ConsumerGroup group, String groupId, String memberId, String groupInstanceId,
            int generation) {
        return membership.checkMember(group, groupId, memberId, groupInstanceId, generation);
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
        membership.poll(nowMs);
        return nextDeadlineMs();
    }

    long nextDeadlineMs() {
        long next = loaded && !closed ? Math.min(nextRetentionCheckMs, consumerProtocol.nextDeadlineMs())
                : Long.MAX_VALUE;
        return Math.min(next, ClassicMembership.nextDeadlineMs(groups.values()));
    }

    /**
     * Metadata changed: groups whose assignment the coordinator computed (an SDK leader) rebalance
     * when a subscribed topic changed partition count. A Kafka leader watches the metadata itself
     * and rejoins.
     */
    void onMetadataChanged() {
        consumerProtocol.onMetadataChanged();
        long nowMs = time.monotonicMs();
        for (ConsumerGroup group : groups.values()) {
            if (!group.is(State.STABLE) && !group.is(State.COMPLETING_REBALANCE)) {
                continue;
            }
            GroupMember leader = group.members.get(group.leaderId);
            if (leader == null || !leader.coordinatorAssigns) {
                continue;
            }
            for (String topic : group.subscribedTopics()) {
                int now = partitionCounts.applyAsInt(topic);
                int before = group.assignedPartitionCounts.getOrDefault(topic, 0);
                if (now != before) {
                    membership.prepareRebalance(group, nowMs, "topic '" + topic + "' has " + now + " partition(s), " + before
                            + " when the assignment was made");
                    break;
                }
            }
        }
    }

    Map<String, Integer> partitionCountsOf(Collection<String> topics) {
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

    ClassicGroupApi.GroupDescription describe(String groupId) {
        ConsumerGroup g = groups.get(groupId);
        if (g == null) {
            return new ClassicGroupApi.GroupDescription(groupId, ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND,
                    "group '%s' does not exist", groupId), State.DEAD.wireName, "", "", -1, false, List.of());
        }
        boolean assigned = g.is(State.STABLE) || (g.is(State.COMPLETING_REBALANCE)
                && g.members.containsKey(g.leaderId) && g.members.get(g.leaderId).coordinatorAssigns);
        List<ClassicGroupApi.MemberDescription> members = new ArrayList<>();
        for (GroupMember m : g.members.values()) {
            byte[] metadata = !g.protocolName.isEmpty() ? m.metadata(g.protocolName)
                    : m.protocols.isEmpty() ? GroupMember.NO_BYTES : m.protocols.get(0).metadata();
            members.add(new ClassicGroupApi.MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    metadata, assigned ? m.assignment : GroupMember.NO_BYTES));
        }
        return new ClassicGroupApi.GroupDescription(groupId, ApiError.NONE, g.state().wireName, g.protocolType,
                g.protocolName, g.generationId, assigned, members);
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
        ClassicMembership.answerAll(groups.values(), notCoordinator);
        while (!waitingReads.isEmpty()) {
            waitingReads.poll().read().run();
        }
    }
}
