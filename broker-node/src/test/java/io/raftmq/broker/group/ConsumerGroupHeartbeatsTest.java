package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The consumer protocol (KIP-848) on a shard with a clock the test moves and an in-memory log:
 * members joining and reconciling (a partition moves only after its holder revoked it), leaving,
 * session expiry, partition count changes, rebalance-timeout fencing, static members, OffsetCommit
 * epochs, members' commits kept after they leave, and the state rebuilt from the records equal to
 * the state that wrote them.
 */
class ConsumerGroupHeartbeatsTest {
    static final int REBALANCE_TIMEOUT_MS = 10_000;

    private final MockTime time = new MockTime();
    private final GroupShardTest.MemoryLog log = new GroupShardTest.MemoryLog();
    private final Map<String, Integer> topics = new HashMap<>(Map.of("t", 6, "u", 2, "other", 1));
    private final GroupShard shard = newShard(log);

    {
        shard.finishLoad();
    }

    private GroupShard newShard(GroupShard.Writer writer) {
        return new GroupShard(0, 1, GroupShardTest.CONFIG, time, writer, t -> topics.getOrDefault(t, 0),
                () -> Set.copyOf(topics.keySet()), () -> "generated");
    }

    private ConsumerHeartbeatAnswer send(ConsumerHeartbeat hb) {
        AtomicReference<ConsumerHeartbeatAnswer> out = new AtomicReference<>();
        shard.consumerProtocol.heartbeat(hb, out::set);
        log.settle();
        assertNotNull(out.get(), "answered once committed");
        return out.get();
    }

    private ConsumerHeartbeatAnswer join(String member, List<String> subscribed) {
        return send(new ConsumerHeartbeat("g", member, 0, null, null, REBALANCE_TIMEOUT_MS, subscribed, null, null,
                Map.of(), "client-" + member, "10.0.0.1"));
    }

    /** A heartbeat reporting what the member owns (the client sends its owned partitions). */
    private ConsumerHeartbeatAnswer beat(String member, int epoch, Map<String, ? extends Set<Integer>> owned) {
        Map<String, Set<Integer>> copy = new TreeMap<>();
        owned.forEach((t, ps) -> copy.put(t, new TreeSet<>(ps)));
        return send(new ConsumerHeartbeat("g", member, epoch, null, null, -1, null, null, null, copy, "client-" + member,
                "10.0.0.1"));
    }

    private ConsumerProtocolGroup group() {
        return shard.consumerProtocol.groups.get("g");
    }

    private static SortedMap<String, SortedSet<Integer>> parts(String topic, Integer... partitions) {
        return TopicPartitionSets.copyOf(Map.of(topic, new TreeSet<>(List.of(partitions))));
    }

    /** Drives one member with heartbeats until its answer stops changing; returns its last answer. */
    private ConsumerHeartbeatAnswer settle(String member, ConsumerHeartbeatAnswer last) {
        ConsumerHeartbeatAnswer a = last;
        for (int i = 0; i < 5; i++) {
            a = beat(member, a.memberEpoch(), group().members.get(member).assigned());
        }
        return a;
    }

    private void assertNoPartitionHeldTwice() {
        Map<String, Set<Integer>> seen = new HashMap<>();
        for (ConsumerProtocolMember m : group().members.values()) {
            for (Map<String, SortedSet<Integer>> held : List.of(m.assigned(), m.pendingRevocation())) {
                held.forEach((t, ps) -> ps.forEach(p -> assertTrue(seen.computeIfAbsent(t, x -> new HashSet<>()).add(p),
                        t + "-" + p + " held by two members")));
            }
        }
    }

    @Test
    void twoMembersThenAThirdPartitionsMoveOnlyAfterRevocation() {
        ConsumerHeartbeatAnswer a = join("a", List.of("t"));
        assertEquals(ErrorCode.NONE, a.error().code());
        assertEquals(1, a.memberEpoch());
        assertEquals(parts("t", 0, 1, 2, 3, 4, 5), a.assignment());
        assertEquals(5000, a.heartbeatIntervalMs());

        ConsumerHeartbeatAnswer b = join("b", List.of("t"));
        assertEquals(2, group().groupEpoch);
        // b's target half is still a's: b gets nothing yet, at the new epoch (unreleased partitions).
        assertEquals(2, b.memberEpoch());
        assertEquals(TopicPartitionSets.EMPTY, b.assignment());
        assertEquals(3, TopicPartitionSets.count(group().target("b")));
        // a is told to drop b's half, keeps its epoch until it confirms.
        a = beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5));
        assertEquals(1, a.memberEpoch());
        assertEquals(group().target("a"), a.assignment());
        assertEquals(ConsumerProtocolMember.State.UNREVOKED_PARTITIONS, group().members.get("a").state());
        // b still gets nothing while a has not confirmed.
        b = beat("b", 2, Map.of());
        assertNull(b.assignment(), "unchanged");
        assertTrue(group().members.get("b").assigned().isEmpty());
        assertNoPartitionHeldTwice();
        // a confirms: it reaches epoch 2; then b gets its half.
        a = beat("a", 1, group().target("a"));
        assertEquals(2, a.memberEpoch());
        b = beat("b", 2, Map.of());
        assertEquals(group().target("b"), b.assignment());
        assertEquals("Stable", group().state());

        // A third member: the group epoch moves to 3; each of a and b gives up one partition first.
        ConsumerHeartbeatAnswer c = join("c", List.of("t"));
        assertEquals(3, group().groupEpoch);
        assertTrue(c.assignment().isEmpty());
        for (String m : List.of("a", "b", "c")) {
            assertEquals(2, TopicPartitionSets.count(group().target(m)), "uniform: 2 partitions each");
        }
        a = beat("a", 2, group().members.get("a").assigned());
        assertNoPartitionHeldTwice();
        c = beat("c", 3, Map.of());
        assertTrue(group().members.get("c").assigned().size() <= 1, "c has only what a released, if anything");
        assertNoPartitionHeldTwice();
        a = settle("a", a);
        ConsumerHeartbeatAnswer bb = settle("b", beat("b", 2, group().members.get("b").assigned()));
        c = settle("c", c);
        assertNoPartitionHeldTwice();
        assertEquals(3, a.memberEpoch());
        assertEquals(3, bb.memberEpoch());
        assertEquals(3, c.memberEpoch());
        assertEquals("Stable", group().state());
        ConsumerGroupDescription d = shard.consumerProtocol.describeNow("g");
        assertEquals("Stable", d.state());
        assertEquals("consumer", d.type());
        assertEquals("uniform", d.assignorName());
        assertEquals(3, d.members().size());
    }

    @Test
    void memberLeavesAndItsPartitionsGoToTheOthers() {
        join("a", List.of("t"));
        ConsumerHeartbeatAnswer b = join("b", List.of("t"));
        settle("a", beat("a", 1, group().members.get("a").assigned()));
        settle("b", b);
        int epoch = group().groupEpoch;
        ConsumerHeartbeatAnswer left = send(new ConsumerHeartbeat("g", "b", -1, null, null, -1, null, null, null, null,
                "c", "h"));
        assertEquals(ErrorCode.NONE, left.error().code());
        assertEquals(-1, left.memberEpoch());
        assertFalse(group().members.containsKey("b"));
        assertEquals(epoch + 1, group().groupEpoch);
        ConsumerHeartbeatAnswer a = beat("a", group().members.get("a").memberEpoch(), group().members.get("a")
                .assigned());
        assertEquals(parts("t", 0, 1, 2, 3, 4, 5), a.assignment());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, beat("b", epoch, Map.of()).error().code());
    }

    /** An OffsetCommit of {@code partitions} of "t" from {@code member} at {@code epoch}: its one error. */
    private ErrorCode commit(GroupShard on, String member, int epoch, long offset, int... partitions) {
        OffsetCommitTopic.Builder t = OffsetCommitTopic.newBuilder().setName("t");
        for (int p : partitions) {
            t.addPartitions(OffsetCommitPartition.newBuilder().setPartition(p).setCommittedOffset(offset)
                    .setCommittedLeaderEpoch(-1));
        }
        AtomicReference<OffsetCommitResponse> out = new AtomicReference<>();
        on.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId("g").setMemberId(member).setGenerationId(epoch)
                .addTopics(t).build(), out::set);
        log.settle();
        Set<ErrorCode> errors = new HashSet<>();
        out.get().getTopicsList().forEach(r -> r.getPartitionsList().forEach(pr -> errors.add(pr.getError()
                .getCode())));
        assertEquals(1, errors.size(), "one error for the whole commit: " + errors);
        return errors.iterator().next();
    }

    /** What OffsetFetch (every committed partition) answers: "topic-partition" -> offset. */
    private static Map<String, Long> committed(GroupShard on) {
        AtomicReference<OffsetFetchResponse> out = new AtomicReference<>();
        on.offsets.fetch(OffsetFetchRequest.newBuilder().setGroupId("g").build(), out::set);
        Map<String, Long> offsets = new TreeMap<>();
        out.get().getTopicsList().forEach(t -> t.getPartitionsList().forEach(p -> offsets.put(t.getName() + "-"
                + p.getPartition(), p.getCommittedOffset())));
        return offsets;
    }

    @Test
    void membersCommitsOutliveTheirLeaveTheEmptyGroupAndAReload() {
        join("a", List.of("t"));
        ConsumerHeartbeatAnswer b = join("b", List.of("t"));
        ConsumerHeartbeatAnswer a = settle("a", beat("a", 1, group().members.get("a").assigned()));
        b = settle("b", b);
        assertEquals(a.memberEpoch(), b.memberEpoch());
        assertEquals(ErrorCode.NONE, commit(shard, "a", a.memberEpoch(), 10, 0, 1, 2));
        assertEquals(ErrorCode.NONE, commit(shard, "b", b.memberEpoch(), 10, 3, 4, 5));
        // A refused commit stores nothing.
        assertEquals(ErrorCode.STALE_MEMBER_EPOCH, commit(shard, "b", b.memberEpoch() - 1, 99, 3));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, commit(shard, "", -1, 99, 3));
        Map<String, Long> all = Map.of("t-0", 10L, "t-1", 10L, "t-2", 10L, "t-3", 10L, "t-4", 10L, "t-5", 10L);
        assertEquals(all, committed(shard));

        send(new ConsumerHeartbeat("g", "b", -1, null, null, -1, null, null, null, null, "c", "h"));
        assertEquals(all, committed(shard), "b's commits after b left");
        send(new ConsumerHeartbeat("g", "a", -1, null, null, -1, null, null, null, null, "c", "h"));
        assertEquals("Empty", group().state());
        assertEquals(all, committed(shard), "the commits of an empty group");

        GroupShard replayed = newShard(new GroupShardTest.MemoryLog());
        log.records().forEach(replayed::replay);
        replayed.finishLoad();
        assertEquals(all, committed(replayed), "the commits rebuilt from the log");
        // Without members, a commit without membership is accepted again.
        assertEquals(ErrorCode.NONE, commit(shard, "", -1, 11, 3));
        assertEquals(11L, committed(shard).get("t-3"));
    }

    @Test
    void sessionExpiryFencesTheSilentMember() {
        join("a", List.of("t"));
        settle("b", join("b", List.of("t")));
        time.advanceMs(30_000);
        settle("a", beat("a", group().members.get("a").memberEpoch(), group().members.get("a").assigned()));
        time.advanceMs(20_000); // b silent for 50 s > 45 s; a heard from 20 s ago
        shard.poll();
        log.settle();
        assertEquals(Set.of("a"), group().members.keySet());
        ConsumerHeartbeatAnswer a = beat("a", group().members.get("a").memberEpoch(), group().members.get("a")
                .assigned());
        assertEquals(parts("t", 0, 1, 2, 3, 4, 5), a.assignment());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, beat("b", 2, Map.of()).error().code());
    }

    @Test
    void partitionCountIncreaseBumpsTheEpochAndAssignsTheNewPartitions() {
        ConsumerHeartbeatAnswer a = join("a", List.of("u"));
        assertEquals(parts("u", 0, 1), a.assignment());
        topics.put("u", 4);
        shard.onMetadataChanged();
        log.settle();
        assertEquals(2, group().groupEpoch);
        a = beat("a", 1, parts("u", 0, 1));
        assertEquals(2, a.memberEpoch());
        assertEquals(parts("u", 0, 1, 2, 3), a.assignment());
    }

    @Test
    void aMemberThatDoesNotRevokeIsFencedAfterItsRebalanceTimeout() {
        join("a", List.of("t"));
        ConsumerHeartbeatAnswer b = join("b", List.of("t"));
        beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5)); // told to revoke
        assertEquals(ConsumerProtocolMember.State.UNREVOKED_PARTITIONS, group().members.get("a").state());
        time.advanceMs(REBALANCE_TIMEOUT_MS - 1);
        beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5)); // still owns them
        shard.poll();
        log.settle();
        assertTrue(group().members.containsKey("a"));
        time.advanceMs(1);
        shard.poll();
        log.settle();
        assertFalse(group().members.containsKey("a"), "fenced");
        b = beat("b", b.memberEpoch(), Map.of());
        assertEquals(parts("t", 0, 1, 2, 3, 4, 5), b.assignment());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, beat("a", 1, Map.of()).error().code());
        // a rejoins under its id, owning nothing.
        assertEquals(ErrorCode.NONE, join("a", List.of("t")).error().code());
    }

    @Test
    void epochsAreChecked() {
        ConsumerHeartbeatAnswer a = join("a", List.of("t"));
        assertEquals(ErrorCode.FENCED_MEMBER_EPOCH, beat("a", a.memberEpoch() + 1, Map.of()).error().code());
        join("b", List.of("t"));
        a = settle("a", beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5)));
        assertEquals(2, a.memberEpoch());
        // The previous epoch with a subset of the assignment: the answer was lost, accepted.
        assertEquals(ErrorCode.NONE, beat("a", 1, group().members.get("a").assigned()).error().code());
        assertEquals(ErrorCode.FENCED_MEMBER_EPOCH, beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5)).error().code());
        assertEquals(ErrorCode.NONE, shard.consumerProtocol.validateOffsetCommit("g", "a", 2).code());
        assertEquals(ErrorCode.STALE_MEMBER_EPOCH, shard.consumerProtocol.validateOffsetCommit("g", "a", 1).code());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, shard.consumerProtocol.validateOffsetCommit("g", "x", 2).code());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, shard.consumerProtocol.validateOffsetCommit("g", "", -1).code());
    }

    @Test
    void badRequestsAreRefusedAndChangeNothing() {
        int before = log.batches.size();
        assertEquals(ErrorCode.INVALID_GROUP_ID, send(new ConsumerHeartbeat("", "a", 0, null, null, 1, List.of("t"),
                null, null, Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.INVALID_GROUP_ID, send(new ConsumerHeartbeat("g".repeat(256), "a", 0, null, null, 1,
                List.of("t"), null, null, Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.INVALID_REQUEST, send(new ConsumerHeartbeat("g", "a", 0, null, null, -1,
                List.of("t"), null, null, Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.INVALID_REQUEST, send(new ConsumerHeartbeat("g", "a", 0, null, null, 1, null, null,
                null, Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.INVALID_REQUEST, send(new ConsumerHeartbeat("g", "a", 0, null, null, 1, List.of("t"),
                null, null, null, "c", "h")).error().code());
        assertEquals(ErrorCode.UNSUPPORTED_ASSIGNOR, send(new ConsumerHeartbeat("g", "a", 0, null, null, 1,
                List.of("t"), null, "sticky", Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.INVALID_REGULAR_EXPRESSION, send(new ConsumerHeartbeat("g", "a", 0, null, null, 1,
                null, "t[", null, Map.of(), "c", "h")).error().code());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, beat("a", 3, Map.of()).error().code());
        assertEquals(before, log.batches.size());
        assertNull(group());
    }

    @Test
    void regexSubscriptionsMatchWholeTopicNames() {
        ConsumerHeartbeatAnswer a = send(new ConsumerHeartbeat("g", "a", 0, null, null, 1, null, "t|u", "range",
                Map.of(), "c", "h"));
        SortedMap<String, SortedSet<Integer>> expected = new TreeMap<>(parts("t", 0, 1, 2, 3, 4, 5));
        expected.putAll(parts("u", 0, 1));
        assertEquals(expected, a.assignment());
        topics.put("tt", 1); // "t|u" does not match "tt" as a whole
        topics.put("u", 3);
        shard.onMetadataChanged();
        log.settle();
        a = beat("a", a.memberEpoch(), a.assignment());
        assertEquals(Set.of("t", "u"), a.assignment().keySet());
        assertEquals(3, a.assignment().get("u").size());
        assertEquals("range", shard.consumerProtocol.describeNow("g").assignorName());
    }

    @Test
    void staticMemberLeavesForAWhileAndComesBackToItsPartitions() {
        ConsumerHeartbeatAnswer a = send(new ConsumerHeartbeat("g", "a1", 0, "inst", null, 1000, List.of("t"), null,
                null, Map.of(), "c", "h"));
        join("b", List.of("t"));
        a = settle("a1", a);
        SortedMap<String, SortedSet<Integer>> held = group().members.get("a1").assigned();
        assertEquals(ErrorCode.NONE, send(new ConsumerHeartbeat("g", "a1", -2, "inst", null, -1, null, null, null,
                null, "c", "h")).error().code());
        assertEquals(-2, group().members.get("a1").memberEpoch());
        int epoch = group().groupEpoch;
        // Another process with the same instance id while a1 is still there: refused until a1 left.
        ConsumerHeartbeatAnswer back = send(new ConsumerHeartbeat("g", "a2", 0, "inst", null, 1000, List.of("t"),
                null, null, Map.of(), "c", "h"));
        assertEquals(ErrorCode.NONE, back.error().code());
        assertEquals(held, back.assignment(), "takes over its partitions at once");
        assertEquals(epoch, group().groupEpoch, "no rebalance");
        assertFalse(group().members.containsKey("a1"));
        assertEquals(ErrorCode.UNRELEASED_INSTANCE_ID, send(new ConsumerHeartbeat("g", "a3", 0, "inst", null, 1000,
                List.of("t"), null, null, Map.of(), "c", "h")).error().code());
    }

    @Test
    void classicAndConsumerProtocolGroupsDoNotMix() {
        join("a", List.of("t"));
        AtomicReference<JoinGroupResponse> classic = new AtomicReference<>();
        shard.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("g").setClientId("x").setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(5_000).setProtocolType("consumer").addTopics("t").addAssignors("range")
                .build(), "h"),
                r -> classic.set(SdkGroupMembers.joinResponse(r)));
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, classic.get().getError().getCode());
        send(new ConsumerHeartbeat("g", "a", -1, null, null, -1, null, null, null, null, "c", "h"));
        // Empty now: a classic member takes the id over.
        AtomicReference<JoinGroupResponse> second = new AtomicReference<>();
        shard.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("g").setClientId("x").setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(5_000).setProtocolType("consumer").addTopics("t").addAssignors("range")
                .build(), "h"),
                r -> second.set(SdkGroupMembers.joinResponse(r)));
        log.settle();
        assertNull(group());
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join("z", List.of("t")).error().code());
    }

    @Test
    void stateRebuiltFromTheRecordsEqualsTheStateThatWroteThem() {
        join("a", List.of("t"));
        join("b", List.of("t", "u"));
        send(new ConsumerHeartbeat("g", "s", 0, "inst", "rack-1", 2000, List.of("u"), "oth.*", "uniform", Map.of(),
                "c", "h"));
        beat("a", 1, parts("t", 0, 1, 2, 3, 4, 5)); // a mid-revocation
        send(new ConsumerHeartbeat("g", "s", -2, "inst", null, -1, null, null, null, null, "c", "h"));
        send(new ConsumerHeartbeat("g2", "x", 0, null, null, 1, List.of("u"), null, null, Map.of(), "c", "h"));
        send(new ConsumerHeartbeat("g2", "x", -1, null, null, -1, null, null, null, null, "c", "h")); // empty group

        GroupShard replayed = newShard(new GroupShardTest.MemoryLog());
        log.records().forEach(replayed::replay);
        replayed.finishLoad();
        assertSameGroups(shard, replayed);

        GroupShard fromCheckpoint = newShard(new GroupShardTest.MemoryLog());
        shard.checkpointRecords().forEach(fromCheckpoint::replay);
        fromCheckpoint.finishLoad();
        assertSameGroups(shard, fromCheckpoint);
        assertEquals(shard.liveKeys(), shard.checkpointRecords().size());
    }

    private static void assertSameGroups(GroupShard expected, GroupShard actual) {
        assertEquals(expected.consumerProtocol.groups.keySet(), actual.consumerProtocol.groups.keySet());
        for (String id : expected.consumerProtocol.groups.keySet()) {
            ConsumerProtocolGroup e = expected.consumerProtocol.groups.get(id);
            ConsumerProtocolGroup a = actual.consumerProtocol.groups.get(id);
            assertEquals(e.groupEpoch, a.groupEpoch);
            assertEquals(e.assignmentEpoch, a.assignmentEpoch);
            assertEquals(e.subscribedPartitionCounts, a.subscribedPartitionCounts);
            assertEquals(e.members, a.members);
            assertEquals(e.targets, a.targets);
            assertEquals(e.staticMembers, a.staticMembers);
            assertEquals(e.state(), a.state());
            assertEquals(expected.consumerProtocol.describeNow(id), actual.consumerProtocol.describeNow(id));
        }
    }
}
