package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.group.ClassicGroupApi.JoinRequest;
import io.raftmq.broker.group.ClassicGroupApi.JoinResult;
import io.raftmq.broker.group.ClassicGroupApi.Protocol;
import io.raftmq.broker.group.ClassicGroupApi.SyncRequest;
import io.raftmq.broker.group.ClassicGroupApi.SyncResult;
import io.raftmq.broker.group.ConsumerGroup.State;
import io.raftmq.common.MockTime;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.group.GroupMemberValue;
import io.raftmq.protocol.group.GroupMetadataValue;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Kafka's classic membership on a shard with a clock the test moves and a log that commits when
 * the test settles it: protocol selection, the leader's view, the leader's assignments handed out
 * by SyncGroup, MEMBER_ID_REQUIRED, static members replaced without a rebalance (and the old id
 * fenced), SDK members (the coordinator assigns), records of older brokers, and refused requests
 * that change nothing.
 */
class ClassicMembershipTest {
    private final MockTime time = new MockTime();
    private final GroupShardTest.MemoryLog log = new GroupShardTest.MemoryLog();
    private final AtomicInteger ids = new AtomicInteger();
    private final GroupShard shard = new GroupShard(0, 1, GroupShardTest.CONFIG, time, log,
            t -> t.equals("t") ? 4 : 0, () -> "id" + ids.incrementAndGet());

    {
        shard.finishLoad();
    }

    private static Protocol protocol(String name, String metadata) {
        return new Protocol(name, metadata.getBytes(StandardCharsets.UTF_8));
    }

    private static JoinRequest kafkaJoin(String group, String memberId, String instanceId, List<Protocol> protocols) {
        return new JoinRequest(group, memberId, instanceId, "client", "/10.0.0.1", 10_000, 5_000, "consumer",
                protocols, false, true, false, null);
    }

    private AtomicReference<JoinResult> join(JoinRequest req) {
        AtomicReference<JoinResult> out = new AtomicReference<>();
        shard.join(req, out::set);
        log.settle();
        return out;
    }

    private AtomicReference<SyncResult> sync(String memberId, String instanceId, int generation,
            Map<String, byte[]> assignments) {
        AtomicReference<SyncResult> out = new AtomicReference<>();
        shard.sync(new SyncRequest("g", memberId, instanceId, generation, "consumer", null, assignments), out::set);
        log.settle();
        return out;
    }

    private ErrorCode heartbeat(String memberId, String instanceId, int generation) {
        return shard.heartbeat(new ClassicGroupApi.HeartbeatRequest("g", memberId, instanceId, generation)).code();
    }

    /** Two members join (the initial delay passes) and the first is the leader. */
    private JoinResult[] twoMembers(String instanceA, String instanceB) {
        var a = join(kafkaJoin("g", "", instanceA, List.of(protocol("cooperative-sticky", "a-cs"),
                protocol("range", "a-range"))));
        var b = join(kafkaJoin("g", "", instanceB, List.of(protocol("range", "b-range"))));
        time.sleep(300);
        shard.poll();
        log.settle();
        return new JoinResult[] {a.get(), b.get()};
    }

    @Test
    void theLeaderSeesEveryMembersMetadataForTheCommonProtocolAndItsAssignmentsReachEveryone() {
        JoinResult[] joined = twoMembers(null, null);
        JoinResult a = joined[0];
        JoinResult b = joined[1];
        assertEquals(ErrorCode.NONE, a.error().code());
        assertEquals("range", a.protocolName(), "cooperative-sticky is not supported by b");
        assertEquals("consumer", a.protocolType());
        assertEquals(1, a.generationId());
        JoinResult leader = a.leaderId().equals(a.memberId()) ? a : b;
        JoinResult follower = leader == a ? b : a;
        assertEquals(2, leader.members().size());
        assertEquals(List.of(), follower.members());
        Map<String, String> metadata = new HashMap<>();
        leader.members().forEach(m -> metadata.put(m.memberId(), new String(m.metadata(), StandardCharsets.UTF_8)));
        assertEquals(Map.of(a.memberId(), "a-range", b.memberId(), "b-range"), metadata);

        var followerSync = sync(follower.memberId(), null, 1, Map.of());
        assertNull(followerSync.get(), "a follower waits for the leader's assignment");
        assertEquals(ErrorCode.NONE, heartbeat(follower.memberId(), null, 1), "heartbeats while completing");
        var leaderSync = sync(leader.memberId(), null, 1, Map.of(leader.memberId(), new byte[] {1},
                follower.memberId(), new byte[] {2}));
        assertArrayEquals(new byte[] {1}, leaderSync.get().assignment());
        assertArrayEquals(new byte[] {2}, followerSync.get().assignment());
        assertEquals("range", followerSync.get().protocolName());
        assertEquals(State.STABLE, shard.groups.get("g").state());
        // a later SyncGroup of the same generation gets the stored assignment
        assertArrayEquals(new byte[] {2}, sync(follower.memberId(), null, 1, Map.of()).get().assignment());
    }

    @Test
    void aMemberTheLeaderLeftOutGetsAnEmptyAssignment() {
        JoinResult[] joined = twoMembers(null, null);
        JoinResult leader = joined[0].leaderId().equals(joined[0].memberId()) ? joined[0] : joined[1];
        JoinResult follower = leader == joined[0] ? joined[1] : joined[0];
        var followerSync = sync(follower.memberId(), null, 1, Map.of());
        sync(leader.memberId(), null, 1, Map.of(leader.memberId(), new byte[] {1}));
        assertEquals(0, followerSync.get().assignment().length);
    }

    @Test
    void aDynamicMembersFirstJoinAsksForItsMemberId() {
        AtomicReference<JoinResult> first = new AtomicReference<>();
        shard.join(new JoinRequest("g", "", null, "client", "", 10_000, 5_000, "consumer",
                List.of(protocol("range", "x")), true, true, false, null), first::set);
        assertEquals(ErrorCode.MEMBER_ID_REQUIRED, first.get().error().code());
        String memberId = first.get().memberId();
        assertTrue(memberId.startsWith("client-"), memberId);
        assertTrue(shard.groups.get("g").members.isEmpty(), "not a member before it joins with its id");
        var second = join(new JoinRequest("g", memberId, null, "client", "", 10_000, 5_000, "consumer",
                List.of(protocol("range", "x")), true, true, false, null));
        time.sleep(300);
        shard.poll();
        assertEquals(ErrorCode.NONE, second.get().error().code());
        assertEquals(memberId, second.get().memberId());
        assertEquals(memberId, second.get().leaderId());
    }

    @Test
    void aStaticMemberRejoiningWithANewMemberIdReplacesTheOldOneWithoutARebalanceAndFencesIt() {
        JoinResult[] joined = twoMembers("ia", "ib");
        JoinResult leader = joined[0].leaderId().equals(joined[0].memberId()) ? joined[0] : joined[1];
        JoinResult follower = leader == joined[0] ? joined[1] : joined[0];
        String followerInstance = follower == joined[0] ? "ia" : "ib";
        List<Protocol> followerProtocols = follower == joined[0]
                ? List.of(protocol("cooperative-sticky", "a-cs"), protocol("range", "a-range"))
                : List.of(protocol("range", "b-range"));
        sync(follower.memberId(), followerInstance, 1, Map.of());
        sync(leader.memberId(), leader == joined[0] ? "ia" : "ib", 1, Map.of(leader.memberId(), new byte[] {1},
                follower.memberId(), new byte[] {2}));
        ConsumerGroup group = shard.groups.get("g");
        assertEquals(State.STABLE, group.state());

        // The follower restarts (no LeaveGroup) and joins again with its instance id.
        var rejoined = join(kafkaJoin("g", "", followerInstance, followerProtocols));
        String newId = rejoined.get().memberId();
        assertEquals(ErrorCode.NONE, rejoined.get().error().code());
        assertNotEquals(follower.memberId(), newId);
        assertEquals(1, rejoined.get().generationId(), "no new generation");
        assertEquals(State.STABLE, group.state(), "no rebalance");
        assertEquals(newId, group.staticMemberId(followerInstance));
        assertArrayEquals(new byte[] {2}, sync(newId, followerInstance, 1, Map.of()).get().assignment(),
                "the new member id keeps the assignment");
        assertEquals(ErrorCode.NONE, heartbeat(leader.memberId(), leader == joined[0] ? "ia" : "ib", 1),
                "the other member is not asked to rejoin");
        assertTrue(group.persisted.getMembersList().stream().anyMatch(m -> m.getMemberId().equals(newId)),
                "the new member id is stored");

        // The old incarnation is fenced everywhere.
        assertEquals(ErrorCode.FENCED_INSTANCE_ID, heartbeat(follower.memberId(), followerInstance, 1));
        assertEquals(ErrorCode.FENCED_INSTANCE_ID, sync(follower.memberId(), followerInstance, 1, Map.of()).get()
                .error().code());
        AtomicReference<OffsetCommitResponse> commit = new AtomicReference<>();
        shard.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId("g").setMemberId(follower.memberId())
                .setGenerationId(1).addTopics(OffsetCommitTopic.newBuilder().setName("t").addPartitions(
                        OffsetCommitPartition.newBuilder().setPartition(0).setCommittedOffset(5)))
                .build(), followerInstance, commit::set);
        assertEquals(ErrorCode.FENCED_INSTANCE_ID, commit.get().getTopics(0).getPartitions(0).getError().getCode());
        assertTrue(group.offsets.isEmpty(), "nothing committed");
        var fencedLeave = shard.leave("g", List.of(new ClassicGroupApi.LeavingMember(follower.memberId(),
                followerInstance, null)));
        assertEquals(ErrorCode.FENCED_INSTANCE_ID, fencedLeave.members().get(0).error().code());
        assertEquals(2, group.members.size());

        // A leave by instance id (no member id) removes the current member and rebalances.
        var left = shard.leave("g", List.of(new ClassicGroupApi.LeavingMember("", followerInstance, "closing")));
        assertEquals(ErrorCode.NONE, left.members().get(0).error().code());
        assertEquals(newId, left.members().get(0).memberId());
        assertEquals(1, group.members.size());
        assertEquals(State.PREPARING_REBALANCE, group.state());
    }

    @Test
    void aStaticMemberThatDoesNotRejoinARebalanceStaysUntilItsSessionExpires() {
        JoinResult[] joined = twoMembers("ia", null);
        String staticId = joined[0].memberId();
        String dynamicId = joined[1].memberId();
        sync(staticId, "ia", 1, Map.of());
        sync(dynamicId, null, 1, Map.of());
        ConsumerGroup group = shard.groups.get("g");
        String leaderId = group.leaderId;
        // The leader rejoins (forcing a rebalance); the other member does not.
        var again = join(kafkaJoin("g", leaderId, leaderId.equals(staticId) ? "ia" : null,
                leaderId.equals(staticId) ? List.of(protocol("cooperative-sticky", "a-cs"),
                        protocol("range", "a-range")) : List.of(protocol("range", "b-range"))));
        time.sleep(5_000);
        shard.poll();
        log.settle();
        assertNotNull(again.get());
        if (leaderId.equals(dynamicId)) {
            assertTrue(group.members.containsKey(staticId), "a static member stays through a missed rebalance");
            assertEquals(2, again.get().members().size());
        } else {
            assertEquals(1, group.members.size(), "a dynamic member that missed the rebalance is removed");
        }
    }

    @Test
    void badRequestsGetKafkasErrorsAndChangeNothing() {
        JoinResult[] joined = twoMembers(null, null);
        ConsumerGroup group = shard.groups.get("g");
        GroupMetadataValue before = group.persisted;
        int generation = group.generationId;
        String a = joined[0].memberId();
        List<Protocol> range = List.of(protocol("range", "x"));

        assertEquals(ErrorCode.INVALID_GROUP_ID, join(kafkaJoin("", "", null, range)).get().error().code());
        assertEquals(ErrorCode.INVALID_GROUP_ID, join(kafkaJoin("g".repeat(256), "", null, range)).get().error()
                .code());
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join(new JoinRequest("g", "", null, "c", "", 10_000,
                5_000, "connect", range, false, true, false, null)).get().error().code(), "protocol type");
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join(kafkaJoin("g", "", null,
                List.of(protocol("sticky", "x")))).get().error().code(), "no common protocol");
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, join(kafkaJoin("g", "", null, List.of())).get().error()
                .code(), "no protocol");
        assertEquals(ErrorCode.INVALID_SESSION_TIMEOUT, join(new JoinRequest("g", "", null, "c", "", 99, 5_000,
                "consumer", range, false, true, false, null)).get().error().code());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, join(kafkaJoin("g", "nobody", null, range)).get().error().code());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, heartbeat(a, "unknown-instance", generation));
        assertEquals(ErrorCode.ILLEGAL_GENERATION, heartbeat(a, null, generation + 1));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, heartbeat("nobody", null, generation));
        AtomicReference<SyncResult> wrongName = new AtomicReference<>();
        shard.sync(new SyncRequest("g", a, null, generation, "consumer", "roundrobin", Map.of()), wrongName::set);
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, wrongName.get().error().code());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, shard.leave("g", List.of(new ClassicGroupApi.LeavingMember("nobody",
                null, null))).members().get(0).error().code());
        assertEquals(ErrorCode.INVALID_GROUP_ID, shard.leave("", List.of()).error().code());
        assertEquals(generation, group.generationId);
        assertEquals(before, group.persisted);
        assertTrue(group.members.keySet().containsAll(List.of(joined[0].memberId(), joined[1].memberId())));
    }

    @Test
    void aKafkaMemberLeadsAGroupItSharesWithAnSdkMemberAndAnSdkLeaderIsAssignedByTheCoordinator() {
        byte[] subscription = ConsumerProtocolBytes.subscription(List.of("t"));
        JoinRequest sdk = new JoinRequest("g", "", null, "sdk", "", 10_000, 5_000, "consumer",
                List.of(new Protocol("range", subscription)), false, false, true, null);
        var s = join(sdk);
        var k = join(kafkaJoin("g", "", null, List.of(new Protocol("range", subscription))));
        time.sleep(300);
        shard.poll();
        log.settle();
        assertEquals(k.get().memberId(), s.get().leaderId(), "the Kafka member leads");
        assertEquals(2, k.get().members().size());

        // Alone, an SDK member is assigned by the coordinator (range, consumer-protocol bytes).
        var alone = join(new JoinRequest("solo", "", null, "sdk", "", 10_000, 5_000, "consumer",
                List.of(new Protocol("range", subscription)), false, false, true, null));
        time.sleep(300);
        shard.poll();
        log.settle();
        AtomicReference<SyncResult> assigned = new AtomicReference<>();
        shard.sync(new SyncRequest("solo", alone.get().memberId(), null, 1, null, null, Map.of()), assigned::set);
        log.settle();
        assertEquals(Map.of("t", List.of(0, 1, 2, 3)), ConsumerProtocolBytes.partitions(assigned.get().assignment()));
    }

    @Test
    void aGroupStoredByAnOlderBrokerLoadsWithItsSubscriptionsAsProtocolMetadata() {
        GroupMetadataValue old = GroupMetadataValue.newBuilder().setProtocolType("consumer").setGenerationId(3)
                .setProtocolName("range").setLeaderId("m1")
                .addMembers(GroupMemberValue.newBuilder().setMemberId("m1").setClientId("c").setSessionTimeoutMs(10_000)
                        .setRebalanceTimeoutMs(5_000).addTopics("t").addAssignors("range").addAssignors("roundrobin")
                        .addAssignment(TopicPartitions.newBuilder().setTopic("t").addPartitions(0).addPartitions(1)))
                .build();
        GroupShard loaded = new GroupShard(0, 1, GroupShardTest.CONFIG, time, log, t -> 4, () -> "x");
        loaded.replay(new CoordinatorRecord.GroupMetadata("old", old));
        loaded.finishLoad();
        GroupMember m = loaded.groups.get("old").members.get("m1");
        assertTrue(m.coordinatorAssigns);
        assertEquals(List.of("range", "roundrobin"), m.protocolNames());
        assertEquals(List.of("t"), m.topics);
        assertEquals(Map.of("t", List.of(0, 1)), ConsumerProtocolBytes.partitions(m.assignment));
        var described = SdkGroupMembers.describedGroup(loaded.describe("old"), 1);
        assertEquals(List.of("t"), described.getMembers(0).getSubscribedTopicsList());
        assertEquals(List.of(0, 1), described.getMembers(0).getAssignment(0).getPartitionsList());
    }
}
