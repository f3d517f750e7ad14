package io.raftmq.metadata.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.ElectionTopic;
import io.raftmq.protocol.controller.TopicDescription;
import io.raftmq.protocol.metadata.ConfigResourceType;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The metadata quorum on real SOFAJRaft voters and gRPC, in one JVM. */
@Timeout(120)
class QuorumIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private TestQuorum quorum;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        if (quorum != null) {
            quorum.close();
            quorum.assertNoFaults();
        }
    }

    private List<TestBroker> startBrokers(int n) {
        List<TestBroker> brokers = new ArrayList<>();
        for (int id = 1; id <= n; id++) {
            TestBroker broker = new TestBroker(id, quorum.addresses(), 150, 900).start();
            closeables.add(broker);
            brokers.add(broker);
        }
        for (TestBroker broker : brokers) {
            await().atMost(WAIT).until(() -> broker.lifecycle.unfenced().isDone());
        }
        return brokers;
    }

    private ControllerClient clientOf(List<TestQuorum.Voter> voters) {
        ControllerClient client = new ControllerClient(
                ControllerClient.Options.defaults(voters.stream().map(TestQuorum.Voter::address).toList()));
        closeables.add(client);
        return client;
    }

    private static CreateTopicsRequest create(String name, int partitions, int rf) {
        return CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName(name).setNumPartitions(partitions)
                        .setReplicationFactor(rf))
                .build();
    }

    private static void assertCreated(CreateTopicsResponse response) {
        assertEquals(ErrorCode.NONE, response.getError().getCode(), response.getError().getMessage());
        response.getTopicsList().forEach(t ->
                assertEquals(ErrorCode.NONE, t.getError().getCode(), t.getName() + ": " + t.getError().getMessage()));
    }

    @Test
    void topicsCreatedAndDescribedThroughAnyVoter() throws Exception {
        quorum = TestQuorum.start(3, dir);
        TestQuorum.Voter leader = quorum.awaitActiveController(WAIT);
        for (TestQuorum.Voter v : quorum.voters()) {
            await().atMost(WAIT).until(() -> v.server.loader().leader().leaderId() == leader.nodeId);
        }
        startBrokers(3);

        // Each voter takes a create: a follower answers NOT_CONTROLLER and the client follows it.
        long lastOffset = 0;
        for (TestQuorum.Voter via : quorum.voters()) {
            CreateTopicsResponse response = clientOf(List.of(via)).createTopics(create("via-" + via.nodeId, 3, 3))
                    .get(20, TimeUnit.SECONDS);
            assertCreated(response);
            lastOffset = Math.max(lastOffset, response.getMetadataOffset());
        }

        List<DescribeTopicsResponse> descriptions = new ArrayList<>();
        for (TestQuorum.Voter via : quorum.voters()) {
            DescribeTopicsResponse described = clientOf(List.of(via)).describeTopics(DescribeTopicsRequest.newBuilder()
                    .setMinMetadataOffset(lastOffset).build()).get(20, TimeUnit.SECONDS);
            assertEquals(ErrorCode.NONE, described.getError().getCode(), described.getError().getMessage());
            assertEquals(List.of("via-1", "via-2", "via-3"),
                    described.getTopicsList().stream().map(TopicDescription::getName).toList());
            for (TopicDescription topic : described.getTopicsList()) {
                assertEquals(3, topic.getPartitionsCount());
                topic.getPartitionsList().forEach(p -> {
                    assertEquals(3, p.getReplicasCount());
                    assertEquals(3, p.getIsrCount());
                    assertEquals(p.getReplicas(0), p.getLeader());
                });
            }
            descriptions.add(described.toBuilder().clearMetadataOffset().clearController().build());
        }
        assertEquals(descriptions.get(0), descriptions.get(1));
        assertEquals(descriptions.get(0), descriptions.get(2));

        DescribeClusterResponse cluster = clientOf(List.of(quorum.voter(2))).describeCluster(
                DescribeClusterRequest.getDefaultInstance()).get(20, TimeUnit.SECONDS);
        assertEquals(leader.nodeId, cluster.getController().getControllerId());
        assertEquals(leader.grpcPort, cluster.getController().getEndpoint().getPort());
        assertEquals(3, cluster.getVotersCount());
        assertEquals(3, cluster.getBrokersCount());
        cluster.getBrokersList().forEach(b ->
                assertEquals(io.raftmq.protocol.controller.BrokerState.UNFENCED, b.getState()));
        assertEquals(22, cluster.getClusterId().length(), cluster.getClusterId());
        assertEquals(leader.server.loader().image().clusterId(), cluster.getClusterId());

        // Placement made every first replica the leader: no election is needed, and nothing is written.
        ControllerClient viaFollower = clientOf(List.of(quorum.voters().stream()
                .filter(v -> v.nodeId != leader.nodeId).findFirst().orElseThrow()));
        ElectLeadersResponse one = viaFollower.electLeaders(ElectLeadersRequest.newBuilder()
                .setElectionType(ElectLeadersRequest.ElectionType.PREFERRED)
                .addTopics(ElectionTopic.newBuilder().setTopic("via-1").addPartitionIds(0)).build())
                .get(20, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, one.getError().getCode(), one.getError().getMessage());
        assertEquals(ErrorCode.ELECTION_NOT_NEEDED, one.getResults(0).getError().getCode());
        assertEquals(-1, one.getMetadataOffset());
        ElectLeadersResponse all = viaFollower.electLeaders(ElectLeadersRequest.newBuilder()
                .setElectionType(ElectLeadersRequest.ElectionType.PREFERRED).build()).get(20, TimeUnit.SECONDS);
        assertEquals(List.of(), all.getResultsList());
        assertEquals(-1, all.getMetadataOffset());
    }

    @Test
    void leaderStoppedThenNewControllerAcceptsWritesAndOldLeaderCatchesUp() throws Exception {
        quorum = TestQuorum.start(3, dir);
        startBrokers(3);
        ControllerClient client = clientOf(quorum.voters());
        assertCreated(client.createTopics(create("before", 2, 3)).get(20, TimeUnit.SECONDS));

        TestQuorum.Voter oldLeader = quorum.awaitActiveController(WAIT);
        quorum.stop(oldLeader.nodeId);
        TestQuorum.Voter newLeader = quorum.awaitActiveController(WAIT);
        assertNotEquals(oldLeader.nodeId, newLeader.nodeId);

        CreateTopicsResponse after = client.createTopics(create("after", 2, 3)).get(20, TimeUnit.SECONDS);
        assertCreated(after);

        quorum.start(oldLeader.nodeId);
        MetadataImage restarted = quorum.voter(oldLeader.nodeId).server.loader()
                .whenApplied(after.getMetadataOffset()).get(20, TimeUnit.SECONDS);
        assertTrue(restarted.topic("before") != null && restarted.topic("after") != null);
    }

    @Test
    void fullRestartOfAllVotersKeepsAllMetadata() throws Exception {
        quorum = TestQuorum.start(3, dir);
        List<TestBroker> brokers = startBrokers(3);
        ControllerClient client = clientOf(quorum.voters());
        assertCreated(client.createTopics(create("snapshotted", 4, 3)).get(20, TimeUnit.SECONDS));
        for (TestQuorum.Voter v : quorum.voters()) {
            v.server.log().snapshot().get(20, TimeUnit.SECONDS);
        }
        // More after the snapshot: these are replayed from the Raft log on restart.
        assertCreated(client.createTopics(create("logged", 2, 2)).get(20, TimeUnit.SECONDS));
        var altered = client.alterConfigs(AlterConfigsRequest.newBuilder().addResources(AlterConfigsResource
                .newBuilder().setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC)
                .setResourceName("snapshotted")
                .addOps(AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.SET).setKey("retention.ms")
                        .setValue("60000"))).build()).get(20, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, altered.getResources(0).getError().getCode());
        for (TestBroker broker : brokers) {
            broker.close();
        }
        closeables.removeAll(brokers);
        // Their connections closed with them: the controller fences them within the connection loss
        // grace. Compare the image after that, so no fencing races the stop.
        await().atMost(WAIT).until(() -> quorum.voter(1).server.loader().image().brokers().values().stream()
                .allMatch(BrokerRegistration::isFenced));
        MetadataImage before = quorum.voter(1).server.loader().image();
        long lastOffset = before.offset();
        for (TestQuorum.Voter v : quorum.voters()) {
            v.server.loader().whenApplied(lastOffset).get(20, TimeUnit.SECONDS);
        }

        for (TestQuorum.Voter v : quorum.voters()) {
            quorum.stop(v.nodeId);
        }
        for (TestQuorum.Voter v : quorum.voters()) {
            try (Stream<Path> files = Files.walk(v.dir.resolve("metadata").resolve("snapshot"))) {
                assertTrue(files.anyMatch(p -> p.getFileName().toString().equals("metadata.snapshot")),
                        "no snapshot file for node " + v.nodeId);
            }
        }
        for (TestQuorum.Voter v : quorum.voters()) {
            quorum.start(v.nodeId);
        }
        quorum.awaitActiveController(WAIT);
        for (TestQuorum.Voter v : quorum.voters()) {
            MetadataImage image = v.server.loader().whenApplied(lastOffset).get(20, TimeUnit.SECONDS);
            assertEquals(withoutController(before), withoutController(image), "node " + v.nodeId);
            assertEquals("60000", image.topic("snapshotted").configs().get("retention.ms"));
            assertEquals(4, image.topic("snapshotted").numPartitions());
            assertEquals(2, image.topic("logged").replicationFactor());
        }
    }

    private static List<?> withoutController(MetadataImage image) {
        return ImageRecords.of(image).stream().filter(r -> !r.hasControllerChange()).toList();
    }

    @Test
    void watchStreamsImageThenEveryChangeAndResumesOnAnotherVoter() throws Exception {
        quorum = TestQuorum.start(3, dir);
        startBrokers(3);
        ControllerClient client = clientOf(quorum.voters());
        assertCreated(client.createTopics(create("first", 1, 3)).get(20, TimeUnit.SECONDS));

        List<Long> offsets = new CopyOnWriteArrayList<>();
        MetadataWatcher watcher = new MetadataWatcher(new MetadataWatcher.Options(-1, quorum.addresses(), 20),
                (image, delta) -> offsets.add(image.offset()), new io.raftmq.common.MockFaultHandler("watcher"));
        closeables.add(watcher);
        watcher.start();
        await().atMost(WAIT).until(() -> watcher.image().topic("first") != null);

        // Stop whichever voter the watcher streams from; it resumes elsewhere without a gap.
        int watched = watcher.target().port();
        TestQuorum.Voter streaming = quorum.voters().stream().filter(v -> v.grpcPort == watched).findFirst()
                .orElseThrow();
        quorum.stop(streaming.nodeId);
        quorum.awaitActiveController(WAIT);
        long last = 0;
        for (int i = 0; i < 5; i++) {
            CreateTopicsResponse r = client.createTopics(create("later-" + i, 1, 2)).get(20, TimeUnit.SECONDS);
            assertCreated(r);
            last = r.getMetadataOffset();
        }
        MetadataImage image = watcher.whenApplied(last).get(20, TimeUnit.SECONDS);
        for (int i = 0; i < 5; i++) {
            assertTrue(image.topic("later-" + i) != null, "later-" + i);
        }
        assertNotEquals(watched, watcher.target().port());
        for (int i = 1; i < offsets.size(); i++) {
            assertTrue(offsets.get(i) > offsets.get(i - 1), "offsets went back: " + offsets);
        }
        TestQuorum.Voter live = quorum.activeController().orElseThrow();
        assertEquals(ImageRecords.of(live.server.loader().whenApplied(last).get(20, TimeUnit.SECONDS)),
                ImageRecords.of(watcher.image()));
    }

    @Test
    void brokerThatStopsHeartbeatingIsFencedAndLosesLeadership() throws Exception {
        quorum = TestQuorum.start(3, dir);
        List<TestBroker> brokers = startBrokers(3);
        ControllerClient client = clientOf(quorum.voters());
        CreateTopicsResponse created = client.createTopics(create("t", 3, 3)).get(20, TimeUnit.SECONDS);
        assertCreated(created);

        TestBroker silent = brokers.get(1);
        silent.close();
        closeables.remove(silent);
        long stoppedNs = System.nanoTime();
        TestQuorum.Voter leader = quorum.awaitActiveController(WAIT);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(10))
                .until(() -> leader.server.loader().image().broker(2).state() == BrokerState.FENCED);
        long fencedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedNs);
        // Its client closed its connection too, so the controller's connection loss grace applies.
        System.out.printf("broker 2 fenced %d ms after it stopped%n", fencedAfterMs);

        TopicImage topic = leader.server.loader().image().topic("t");
        for (PartitionRegistration p : topic.partitions()) {
            assertFalse(p.isInIsr(2), "ISR " + p.isr());
            assertNotEquals(2, p.leader());
            assertTrue(p.hasLeader());
        }
    }

    @Test
    void singleVoterQuorumLeadsAtOnceAndKeepsMetadataAcrossRestart() throws Exception {
        quorum = TestQuorum.start(1, dir);
        quorum.awaitActiveController(WAIT);
        TestBroker broker = new TestBroker(1, quorum.addresses(), 150, 900).start();
        closeables.add(broker);
        await().atMost(WAIT).until(() -> broker.lifecycle.unfenced().isDone());
        CreateTopicsResponse created = clientOf(quorum.voters()).createTopics(create("solo", 2, 1))
                .get(20, TimeUnit.SECONDS);
        assertCreated(created);
        broker.close();
        closeables.remove(broker);
        quorum.stop(1);
        quorum.start(1);
        quorum.awaitActiveController(WAIT);
        MetadataImage image = quorum.voter(1).server.loader().whenApplied(created.getMetadataOffset())
                .get(20, TimeUnit.SECONDS);
        assertEquals(2, image.topic("solo").numPartitions());
    }

    @Test
    void aVoterWhoseRaftPortIsTakenSaysSo() throws Exception {
        quorum = TestQuorum.start(1, dir);
        quorum.awaitActiveController(WAIT);
        quorum.stop(1);
        TestQuorum.Voter voter = quorum.voter(1);
        try (ServerSocket taken = await().atMost(WAIT).ignoreExceptions()
                .until(() -> new ServerSocket(voter.raftPort, 50, InetAddress.getByName("127.0.0.1")), s -> true)) {
            assertTrue(taken.isBound());
            IOException e = assertThrows(IOException.class, () -> quorum.start(1));
            assertTrue(e.getMessage().contains("cannot listen on its Raft address 127.0.0.1:" + voter.raftPort),
                    e.getMessage());
        } finally {
            voter.server = null; // it never started; nothing to stop
        }
        quorum.start(1);
        quorum.awaitActiveController(WAIT);
    }

    @Test
    void writesToAFollowerAnswerNotControllerNamingTheLeader() throws Exception {
        quorum = TestQuorum.start(3, dir, Map.of());
        TestQuorum.Voter leader = quorum.awaitActiveController(WAIT);
        TestQuorum.Voter follower = quorum.voters().stream().filter(v -> v != leader).findFirst().orElseThrow();
        await().atMost(WAIT).until(() -> follower.server.loader().image().controller() != null
                && follower.server.loader().image().controller().controllerId() == leader.nodeId);
        var channel = io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", follower.grpcPort).usePlaintext()
                .build();
        try {
            CreateTopicsResponse response = io.raftmq.protocol.controller.ControllerGrpc.newBlockingStub(channel)
                    .createTopics(create("x", 1, 1));
            assertEquals(ErrorCode.NOT_CONTROLLER, response.getError().getCode());
            assertEquals(leader.nodeId, response.getController().getControllerId());
            assertEquals(leader.grpcPort, response.getController().getEndpoint().getPort());
            assertTrue(response.getError().getMessage().contains("node " + leader.nodeId),
                    ApiError.fromProto(response.getError()).toString());
        } finally {
            channel.shutdownNow();
        }
    }

}
