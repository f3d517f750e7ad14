package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.HostPort;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DeleteGroupsResponse;
import io.raftmq.protocol.broker.DescribeGroupsRequest;
import io.raftmq.protocol.broker.DescribedGroup;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.LeaveGroupRequest;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group coordinator on three combined nodes in this JVM, driven by raw gRPC calls: members
 * split a topic's partitions, a leave or a session expiry hands everything to the remaining
 * member, stale generations are refused, commits survive the coordinator's node stopping, and
 * List/Describe/DeleteGroups.
 */
@Timeout(120)
class GroupCoordinatorIntegrationTest {
    private static final List<String> RANGE = List.of("range");

    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestBrokerClient client;
    private TestGroupClient groups;

    @BeforeEach
    void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("replica.lag.time.max.ms", "2000",
                "group.min.session.timeout.ms", "500", "offsets.topic.num.partitions", "4",
                "offsets.checkpoint.min.records", "20"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
        groups = new TestGroupClient(cluster.addresses());
    }

    @AfterEach
    void stop() {
        if (groups != null) {
            groups.close();
        }
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @Test
    void membersSplitPartitionsAndTheRestTakeOverOnLeaveAndOnSessionExpiry() throws Exception {
        client.createTopic("orders", 4, 3, Map.of());
        String g = "billing";

        JoinGroupResponse a1 = groups.join(g, "", "a", 10_000, List.of("orders"), RANGE);
        assertEquals(ErrorCode.NONE, a1.getError().getCode(), a1.getError().getMessage());
        String a = a1.getMemberId();
        assertTrue(a.startsWith("a-"), a);
        assertEquals(Map.of("orders", List.of(0, 1, 2, 3)), assignment(groups.sync(g, a, a1.getGenerationId())));

        // B joins; A learns of the rebalance from its heartbeat and rejoins; they split the topic.
        CompletableFuture<JoinGroupResponse> bJoin = CompletableFuture.supplyAsync(() -> groups.join(g, "", "b",
                1_500, List.of("orders"), RANGE));
        await().atMost(Duration.ofSeconds(10)).until(() -> groups.heartbeat(g, a, a1.getGenerationId())
                == ErrorCode.REBALANCE_IN_PROGRESS);
        JoinGroupResponse a2 = groups.join(g, a, "a", 10_000, List.of("orders"), RANGE);
        JoinGroupResponse b2 = bJoin.get(20, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, b2.getError().getCode(), b2.getError().getMessage());
        assertEquals(a1.getGenerationId() + 1, a2.getGenerationId());
        assertEquals(a2.getGenerationId(), b2.getGenerationId());
        assertEquals("range", a2.getAssignor());
        String b = b2.getMemberId();
        // Range over sorted member ids: "a-..." first.
        assertEquals(Map.of("orders", List.of(0, 1)), assignment(groups.sync(g, a, a2.getGenerationId())));
        assertEquals(Map.of("orders", List.of(2, 3)), assignment(groups.sync(g, b, b2.getGenerationId())));

        // B leaves: A is told at its next heartbeat and gets everything at once.
        long leftAtMs = System.nanoTime() / 1_000_000;
        assertEquals(ErrorCode.NONE, groups.call(g, 5_000, s -> s.leaveGroup(LeaveGroupRequest.newBuilder()
                .setGroupId(g).setMemberId(b).build()), r -> r.getError().getCode()).getError().getCode());
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, groups.heartbeat(g, a, a2.getGenerationId()));
        JoinGroupResponse a3 = groups.join(g, a, "a", 10_000, List.of("orders"), RANGE);
        assertEquals(Map.of("orders", List.of(0, 1, 2, 3)), assignment(groups.sync(g, a, a3.getGenerationId())));
        long takeoverMs = System.nanoTime() / 1_000_000 - leftAtMs;
        assertTrue(takeoverMs < 2_000, "took " + takeoverMs + " ms after the leave");

        // A member of an old generation can neither commit nor heartbeat.
        assertEquals(ErrorCode.ILLEGAL_GENERATION, groups.heartbeat(g, a, a2.getGenerationId()));
        assertEquals(ErrorCode.ILLEGAL_GENERATION, groups.commit(g, a, a2.getGenerationId(), "orders",
                Map.of(0, 5L)).getTopics(0).getPartitions(0).getError().getCode());
        assertEquals(ErrorCode.NONE, groups.commit(g, a, a3.getGenerationId(), "orders", Map.of(0, 5L))
                .getTopics(0).getPartitions(0).getError().getCode());

        // C joins with a 1.5 s session and then goes silent: after it expires, A has everything again.
        CompletableFuture<JoinGroupResponse> cJoin = CompletableFuture.supplyAsync(() -> groups.join(g, "", "c",
                1_500, List.of("orders"), RANGE));
        await().atMost(Duration.ofSeconds(10)).until(() -> groups.heartbeat(g, a, a3.getGenerationId())
                == ErrorCode.REBALANCE_IN_PROGRESS);
        JoinGroupResponse a4 = groups.join(g, a, "a", 10_000, List.of("orders"), RANGE);
        JoinGroupResponse c4 = cJoin.get(20, TimeUnit.SECONDS);
        assertEquals(a4.getGenerationId(), c4.getGenerationId());
        assertEquals(Map.of("orders", List.of(0, 1)), assignment(groups.sync(g, a, a4.getGenerationId())));
        long silentFromMs = System.nanoTime() / 1_000_000;
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> groups.heartbeat(g, a, a4.getGenerationId()) == ErrorCode.REBALANCE_IN_PROGRESS);
        long expiredAfterMs = System.nanoTime() / 1_000_000 - silentFromMs;
        assertTrue(expiredAfterMs >= 1_000, "C expired after only " + expiredAfterMs + " ms");
        JoinGroupResponse a5 = groups.join(g, a, "a", 10_000, List.of("orders"), RANGE);
        assertEquals(Map.of("orders", List.of(0, 1, 2, 3)), assignment(groups.sync(g, a, a5.getGenerationId())));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, groups.heartbeat(g, c4.getMemberId(), c4.getGenerationId()));
    }

    @Test
    void committedOffsetsSurviveTheCoordinatorsNodeStopping() {
        String g = "survivor";
        client.createTopic("orders", 4, 3, Map.of()); // commits name partitions that exist
        Map<Integer, Long> offsets = Map.of(0, 10L, 1, 20L, 2, 30L);
        // A consumer that assigns partitions itself: generation -1, no member id.
        assertEquals(ErrorCode.NONE, groups.commit(g, "", -1, "orders", offsets).getTopics(0).getPartitions(0)
                .getError().getCode());
        assertEquals(offsets, committed(groups.fetchAll(g), "orders"));
        FindCoordinatorResponse before = groups.findCoordinator(g);

        cluster.stop(before.getNodeId());

        FindCoordinatorResponse after = groups.findCoordinator(g);
        assertNotEquals(before.getNodeId(), after.getNodeId());
        assertEquals(offsets, committed(groups.fetchAll(g), "orders"), "offsets after the coordinator moved");
        assertEquals(ErrorCode.NONE, groups.commit(g, "", -1, "orders", Map.of(0, 11L)).getTopics(0)
                .getPartitions(0).getError().getCode());
        assertEquals(Map.of(0, 11L, 1, 20L, 2, 30L), committed(groups.fetchAll(g), "orders"));

        // Only the coordinator writes the internal topic; a client's produce to it is refused.
        client.refreshMetadata();
        TestBrokerClient.ProduceOutcome refused = client.produceOnce("__consumer_offsets",
                0, 1, 5_000, TestBrokerClient.batch(List.of(new byte[] {1})));
        assertEquals(ErrorCode.INVALID_TOPIC, refused.error(), refused.toString());
    }

    @Test
    void checkpointsMoveTheLogStartOnEveryReplicaAndReplayStillGivesTheLatestCommits() {
        String g = "compacted";
        client.createTopic("orders", 4, 3, Map.of()); // commits name partitions that exist
        Map<Integer, Long> last = new TreeMap<>();
        for (int i = 0; i < 60; i++) {
            assertEquals(ErrorCode.NONE, groups.commit(g, "", -1, "orders", Map.of(i % 3, (long) i)).getTopics(0)
                    .getPartitions(0).getError().getCode());
            last.put(i % 3, (long) i);
        }
        TopicPartition tp = new TopicPartition("__consumer_offsets", Math.abs(g.hashCode()) % 4);
        // 60 commits and 3 live keys: two checkpoints; every replica drops what they superseded.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int id = 1; id <= 3; id++) {
                long start = cluster.node(id).broker().replicaManager().partition(tp).log().logStartOffset();
                assertTrue(start >= 40, "log start of " + tp + " on node " + id + " is " + start);
            }
        });
        assertEquals(last, committed(groups.fetchAll(g), "orders"));
        cluster.stop(groups.findCoordinator(g).getNodeId());
        assertEquals(last, committed(groups.fetchAll(g), "orders"), "after replaying the checkpoint elsewhere");
    }

    @Test
    void listDescribeAndDeleteGroups() {
        client.createTopic("events", 2, 3, Map.of());
        String g = "dashboards";
        JoinGroupResponse join = groups.join(g, "", "dash", 10_000, List.of("events"), List.of("roundrobin",
                "range"));
        assertEquals("roundrobin", join.getAssignor());
        groups.sync(g, join.getMemberId(), join.getGenerationId());
        groups.commit(g, join.getMemberId(), join.getGenerationId(), "events", Map.of(0, 3L));

        DescribedGroup described = groups.call(g, 5_000, s -> s.describeGroups(DescribeGroupsRequest.newBuilder()
                .addGroupIds(g).build()), r -> r.getGroups(0).getError().getCode()).getGroups(0);
        assertEquals("Stable", described.getState());
        assertEquals("roundrobin", described.getAssignor());
        assertEquals(1, described.getMembersCount());
        assertEquals("127.0.0.1", described.getMembers(0).getClientHost());
        assertEquals(List.of("events"), described.getMembers(0).getSubscribedTopicsList());
        assertEquals(List.of(0, 1), described.getMembers(0).getAssignment(0).getPartitionsList());

        FindCoordinatorResponse c = groups.findCoordinator(g);
        HostPort coordinator = new HostPort(c.getHost(), c.getPort());
        List<ListedGroup> listed = groups.stub(coordinator, 5_000).listGroups(ListGroupsRequest.newBuilder()
                .addStatesFilter("stable").build()).getGroupsList();
        assertTrue(listed.stream().anyMatch(l -> l.getGroupId().equals(g) && l.getState().equals("Stable")
                && l.getCoordinatorId() == c.getNodeId()), listed.toString());

        DeleteGroupsResponse refused = groups.call(g, 5_000, s -> s.deleteGroups(DeleteGroupsRequest.newBuilder()
                .addGroupIds(g).build()), r -> r.getGroups(0).getError().getCode());
        assertEquals(ErrorCode.NON_EMPTY_GROUP, refused.getGroups(0).getError().getCode());

        groups.call(g, 5_000, s -> s.leaveGroup(LeaveGroupRequest.newBuilder().setGroupId(g)
                .setMemberId(join.getMemberId()).build()), r -> r.getError().getCode());
        await().atMost(Duration.ofSeconds(5)).until(() -> groups.call(g, 5_000, s -> s.describeGroups(
                DescribeGroupsRequest.newBuilder().addGroupIds(g).build()), r -> r.getGroups(0).getError().getCode())
                .getGroups(0).getState().equals("Empty"));
        DeleteGroupsResponse deleted = groups.call(g, 5_000, s -> s.deleteGroups(DeleteGroupsRequest.newBuilder()
                .addGroupIds(g).addGroupIds("never-existed").build()), r -> r.getGroups(0).getError().getCode());
        assertEquals(ErrorCode.NONE, deleted.getGroups(0).getError().getCode());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, deleted.getGroups(1).getError().getCode());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, groups.call(g, 5_000, s -> s.describeGroups(
                DescribeGroupsRequest.newBuilder().addGroupIds(g).build()), r -> r.getGroups(0).getError().getCode())
                .getGroups(0).getError().getCode());
        assertEquals(Map.of(), committed(groups.fetchAll(g), "events"));
    }

    private static Map<String, List<Integer>> assignment(SyncGroupResponse sync) {
        assertEquals(ErrorCode.NONE, sync.getError().getCode(), sync.getError().getMessage());
        Map<String, List<Integer>> out = new TreeMap<>();
        for (TopicPartitions tp : sync.getAssignmentList()) {
            out.put(tp.getTopic(), new ArrayList<>(tp.getPartitionsList()));
        }
        return out;
    }

    private static Map<Integer, Long> committed(OffsetFetchResponse response, String topic) {
        assertEquals(ErrorCode.NONE, response.getError().getCode(), response.getError().getMessage());
        Map<Integer, Long> out = new TreeMap<>();
        response.getTopicsList().stream().filter(t -> t.getName().equals(topic)).forEach(t -> {
            for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                out.put(p.getPartition(), p.getCommittedOffset());
            }
        });
        return out;
    }
}
