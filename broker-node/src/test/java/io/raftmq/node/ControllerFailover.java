package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One controller failover trial on a {@link NodeProcessCluster}: kill -9 the JVM of the active
 * controller and time, from the kill, (a) until a surviving voter reports a new active controller
 * and (b) until a new controller has committed a write (a topic created through the survivors).
 */
final class ControllerFailover {
    record Result(int killedNode, int newController, long electedMs, long firstWriteMs, long writeOffset) {}

    private ControllerFailover() {}

    static Result killActiveControllerAndMeasure(NodeProcessCluster cluster, String topic) throws Exception {
        DescribeClusterResponse before;
        try (ControllerClient all = cluster.client()) {
            before = cluster.awaitHealthy(all, Duration.ofSeconds(60));
        }
        int killed = before.getController().getControllerId();
        NodeProcessCluster.Node victim = cluster.node(killed);
        NodeProcessCluster.Node[] survivors = cluster.nodes().stream()
                .filter(n -> n.id != killed && n.alive()).toArray(NodeProcessCluster.Node[]::new);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ControllerClient survivorClient = cluster.client(survivors)) {
            long killNs = System.nanoTime();
            victim.kill9();
            Future<long[]> elected = pool.submit(() -> awaitNewController(survivorClient, killed, killNs));
            Future<long[]> written = pool.submit(() -> {
                while (true) {
                    CreateTopicsResponse r = survivorClient.createTopics(CreateTopicsRequest.newBuilder()
                            .addTopics(CreatableTopic.newBuilder().setName(topic).setNumPartitions(1)
                                    .setReplicationFactor(1)).build()).get(30, TimeUnit.SECONDS);
                    if (r.getError().getCode() == ErrorCode.NONE) {
                        assertEquals(ErrorCode.NONE, r.getTopics(0).getError().getCode(),
                                r.getTopics(0).getError().getMessage());
                        return new long[] {millisSince(killNs), r.getMetadataOffset()};
                    }
                }
            });
            long[] election = elected.get(60, TimeUnit.SECONDS);
            long[] write = written.get(60, TimeUnit.SECONDS);
            assertNotEquals(killed, (int) election[1]);
            return new Result(killed, (int) election[1], election[0], write[0], write[1]);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * {ms since the kill, new controller id}, polling the survivors every 5 ms (not spinning: the
     * nodes share this machine's two cores with the test).
     */
    private static long[] awaitNewController(ControllerClient client, int killed, long killNs) {
        long[] result = new long[2];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).pollDelay(Duration.ZERO)
                .ignoreExceptions().until(() -> {
                    DescribeClusterResponse r = client.describeCluster(DescribeClusterRequest.getDefaultInstance())
                            .get(30, TimeUnit.SECONDS);
                    int id = r.getController().getControllerId();
                    if (r.getError().getCode() == ErrorCode.NONE && id >= 0 && id != killed
                            && r.getVotersList().stream().anyMatch(v -> v.getNodeId() == id && v.getIsLeader())) {
                        result[0] = millisSince(killNs);
                        result[1] = id;
                        return true;
                    }
                    return false;
                });
        return result;
    }

    /** Restarts the killed node and waits until it is back: its voter caught up, its broker unfenced. */
    static void restartAndAwaitRejoin(NodeProcessCluster cluster, int nodeId, long caughtUpTo) throws Exception {
        NodeProcessCluster.Node node = cluster.node(nodeId);
        node.start();
        try (ControllerClient all = cluster.client(); ControllerClient itself = cluster.client(node)) {
            cluster.awaitHealthy(all, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
                DescribeClusterResponse r = itself.describeCluster(DescribeClusterRequest.newBuilder()
                        .setMinMetadataOffset(caughtUpTo).build()).get(10, TimeUnit.SECONDS);
                return r.getError().getCode() == ErrorCode.NONE && r.getAnsweredBy() == nodeId;
            });
        }
    }

    static long millisSince(long startNs) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
    }

    static String summary(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return String.format("min %d / median %d / p90 %d / max %d ms", sorted.get(0),
                sorted.get(sorted.size() / 2), sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * 0.9))),
                sorted.get(sorted.size() - 1));
    }
}
