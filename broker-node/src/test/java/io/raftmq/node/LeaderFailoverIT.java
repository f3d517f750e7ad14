package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.DeliveryCheck;
import io.raftmq.protocol.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition leadership under process failures, on three real node processes (combined mode):
 * kill -9 of a partition leader (and of one that is also the active controller) with acks=all
 * production running; a follower paused with SIGSTOP past replica.lag.time.max.ms; a leader paused
 * past the broker session timeout. No acknowledged record may be lost in any of them.
 */
@Timeout(300)
class LeaderFailoverIT {
    @TempDir
    Path dir;

    interface Scenario {
        void run(NodeProcessCluster cluster, TestBrokerClient client) throws Exception;
    }

    private void withCluster(List<String> settings, Scenario scenario) throws Exception {
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir, settings);
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            try {
                cluster.startAll();
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                scenario.run(cluster, client);
                if (Boolean.getBoolean("raftmq.test.dumpLogs")) {
                    cluster.dumpLogs();
                }
            } catch (Throwable t) {
                cluster.dumpLogs();
                throw t;
            }
        }
    }

    @Test
    void killNineOfAPartitionLeaderLosesNoAcknowledgedRecord() throws Exception {
        withCluster(List.of(), (cluster, client) -> check(PartitionFailover.killLeader(cluster, client, "kill-leader",
                false)));
    }

    @Test
    void killNineOfAPartitionLeaderThatIsAlsoTheActiveControllerLosesNoAcknowledgedRecord() throws Exception {
        withCluster(List.of(), (cluster, client) -> check(PartitionFailover.killLeader(cluster, client,
                "kill-leader-and-controller", true)));
    }

    private static void check(PartitionFailover.Result r) {
        System.out.printf("leader failover (node %d%s): gap %.0f ms, acks resumed %.0f ms after the kill, back in the ISR"
                        + " %.0f ms after restart; %d acknowledged, %d lost, %d duplicates%n", r.victim(),
                r.victimWasController() ? ", the active controller" : "", r.gapMs(), r.resumedAfterKillMs(),
                r.rejoinedIsrAfterRestartMs(), r.verdict().acked(), r.verdict().lost(), r.verdict().duplicates());
        assertEquals(0, r.verdict().lost(), () -> String.join("\n", r.verdict().problems()));
        assertTrue(r.verdict().acked() >= 250, "acknowledged " + r.verdict().acked());
    }

    @Test
    void aFollowerPausedPastTheLagTimeLeavesTheIsrAndReturnsAfterResume() throws Exception {
        // A long session, so that it is the leader's lag check (not fencing) that removes the follower.
        withCluster(List.of("broker.session.timeout.ms=60000", "broker.heartbeat.interval.ms=150",
                "replica.lag.time.max.ms=1500"), (cluster, client) -> {
            String topic = "paused-follower";
            client.createTopic(topic, 1, 3, Map.of("min.insync.replicas", "2"));
            PartitionMetadata pm = client.partition(topic, 0);
            int controller = client.metadata().getControllerId();
            int follower = pm.getReplicasList().stream().filter(b -> b != pm.getLeader() && b != controller)
                    .findFirst().orElseThrow();
            NodeProcessCluster.Node node = cluster.node(follower);
            try (ContinuousProducer producer = new ContinuousProducer(client, topic, 0, 5_000)) {
                producer.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 50);
                node.pause();
                try {
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                            .until(() -> !client.refreshMetadata().getTopics(0).getPartitions(0).getIsrList()
                                    .contains(follower));
                    int shrunkAt = producer.ackCount();
                    // acks=all goes on with the two replicas left (min.insync.replicas = 2).
                    await().atMost(Duration.ofSeconds(10)).until(() -> producer.ackCount() >= shrunkAt + 50);
                } finally {
                    node.resume();
                }
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                        .until(() -> client.refreshMetadata().getTopics(0).getPartitions(0).getIsrList()
                                .contains(follower));
                int expandedAt = producer.ackCount();
                await().atMost(Duration.ofSeconds(10)).until(() -> producer.ackCount() >= expandedAt + 50);
                producer.stop();
                DeliveryCheck.Verdict verdict = producer.verify(client.readAll(topic, 0, 0));
                assertEquals(0, verdict.lost(), () -> String.join("\n", verdict.problems()));
            }
        });
    }

    @Test
    void aLeaderPausedPastItsSessionIsReplacedAndCannotAcknowledgeAfterResume() throws Exception {
        withCluster(List.of(), (cluster, client) -> {
            String topic = "paused-leader";
            client.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2"));
            int controller = client.metadata().getControllerId();
            int partition = -1;
            for (int p = 0; p < 3 && partition < 0; p++) {
                if (client.partition(topic, p).getLeader() != controller) {
                    partition = p;
                }
            }
            int p = partition;
            int staleLeader = client.partition(topic, p).getLeader();
            NodeProcessCluster.Node node = cluster.node(staleLeader);
            ManagedChannel direct = NettyChannelBuilder.forAddress("127.0.0.1", node.grpcPort).usePlaintext().build();
            try (ContinuousProducer producer = new ContinuousProducer(client, topic, p, 2_000)) {
                producer.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 50);
                node.pause();
                CompletableFuture<ProduceResponse> staleWrite;
                try {
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                            .until(() -> {
                                int leader = client.refreshMetadata().getTopics(0).getPartitions(p).getLeader();
                                return leader >= 0 && leader != staleLeader;
                            });
                    int replacedAt = producer.ackCount();
                    await().atMost(Duration.ofSeconds(10)).until(() -> producer.ackCount() >= replacedAt + 50);
                    // Sent while it is frozen: the old leader reads it as soon as it resumes, when it may
                    // still believe it leads (its metadata is behind). Either way it must not acknowledge.
                    ProduceRequest request = ProduceRequest.newBuilder()
                            .setAcks(-1)
                            .setTimeoutMs(5_000)
                            .addTopics(TopicProduceData.newBuilder().setName(topic).addPartitions(
                                    PartitionProduceData.newBuilder().setPartition(p).setRecords(ByteString.copyFrom(
                                            TestBrokerClient.batch(List.of("stale-write".getBytes(
                                                    StandardCharsets.UTF_8)))))))
                            .build();
                    staleWrite = CompletableFuture.supplyAsync(() -> BrokerGrpc.newBlockingStub(direct)
                            .withDeadlineAfter(20, TimeUnit.SECONDS).produce(request));
                } finally {
                    node.resume();
                }
                ProduceResponse answer;
                try {
                    answer = staleWrite.get(30, TimeUnit.SECONDS);
                    ErrorCode code = answer.getTopics(0).getPartitions(0).getError().getCode();
                    System.out.println("produce to the resumed stale leader: " + answer.getTopics(0).getPartitions(0)
                            .getError());
                    assertNotEquals(ErrorCode.NONE, code, "a stale leader acknowledged a write");
                } catch (java.util.concurrent.ExecutionException e) {
                    assertTrue(e.getCause() instanceof StatusRuntimeException, e.toString());
                }
                // It catches up, truncates what it wrote alone, and rejoins the ISR.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                        .until(() -> client.refreshMetadata().getTopics(0).getPartitions(p).getIsrList()
                                .contains(staleLeader));
                int rejoinedAt = producer.ackCount();
                await().atMost(Duration.ofSeconds(10)).until(() -> producer.ackCount() >= rejoinedAt + 20);
                producer.stop();
                List<Record> log = client.readAll(topic, p, 0);
                DeliveryCheck.Verdict verdict = producer.verify(log);
                assertEquals(0, verdict.lost(), () -> String.join("\n", verdict.problems()));
                assertTrue(log.stream().noneMatch(r -> new String(r.valueBytes(), StandardCharsets.UTF_8)
                        .equals("stale-write")), "the stale leader's write is in the log");
            } finally {
                direct.shutdownNow();
            }
        });
    }
}
