package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerState;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.TopicDescription;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the active controller's JVM, on three real node processes: a new controller takes
 * over and accepts writes, no committed metadata is lost, the dead node's broker is fenced and its
 * leaderships move, and the node rejoins when restarted. Prints the failover times it measured.
 */
@Timeout(300)
class ControllerFailoverIT {
    @TempDir
    Path dir;

    @Test
    void killNineOfTheActiveControllerThenANewControllerAcceptsWrites() throws Exception {
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir)) {
            try {
                run(cluster);
            } catch (Throwable t) {
                cluster.dumpLogs();
                throw t;
            }
        }
    }

    private void run(NodeProcessCluster cluster) throws Exception {
        cluster.startAll();
        long lastOffset;
        try (ControllerClient client = cluster.client()) {
            cluster.awaitHealthy(client, Duration.ofSeconds(60));
            CreateTopicsResponse created = client.createTopics(CreateTopicsRequest.newBuilder().addTopics(
                    CreatableTopic.newBuilder().setName("before-kill").setNumPartitions(3).setReplicationFactor(3))
                    .build()).get(30, TimeUnit.SECONDS);
            assertEquals(ErrorCode.NONE, created.getTopics(0).getError().getCode());
            lastOffset = created.getMetadataOffset();
        }

        for (int trial = 1; trial <= 2; trial++) {
            ControllerFailover.Result result =
                    ControllerFailover.killActiveControllerAndMeasure(cluster, "after-kill-" + trial);
            System.out.printf("controller failover trial %d: killed node %d; node %d elected after %d ms; first write"
                            + " committed after %d ms%n", trial, result.killedNode(), result.newController(),
                    result.electedMs(), result.firstWriteMs());
            lastOffset = Math.max(lastOffset, result.writeOffset());
            NodeProcessCluster.Node[] survivors = cluster.nodes().stream().filter(NodeProcessCluster.Node::alive)
                    .toArray(NodeProcessCluster.Node[]::new);
            try (ControllerClient client = cluster.client(survivors)) {
                // The dead node's broker is fenced and leads nothing; nothing committed was lost. The
                // topics are read at or past the offset at which the answering voter saw the fence
                // (another voter may answer, and it may not have applied the fence yet).
                long committedBefore = lastOffset;
                int trialNumber = trial;
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                    DescribeClusterResponse clusterState =
                            client.describeCluster(DescribeClusterRequest.getDefaultInstance()).get(10, TimeUnit.SECONDS);
                    assertTrue(clusterState.getBrokersList().stream().anyMatch(b -> b.getBrokerId() == result.killedNode()
                            && b.getState() == BrokerState.FENCED), clusterState.toString());
                    DescribeTopicsResponse topics = client.describeTopics(DescribeTopicsRequest.newBuilder()
                            .setMinMetadataOffset(Math.max(committedBefore, clusterState.getMetadataOffset())).build())
                            .get(30, TimeUnit.SECONDS);
                    List<String> names = topics.getTopicsList().stream().map(TopicDescription::getName).toList();
                    assertTrue(names.contains("before-kill"), names.toString());
                    for (int t = 1; t <= trialNumber; t++) {
                        assertTrue(names.contains("after-kill-" + t), names.toString());
                    }
                    TopicDescription before = topics.getTopicsList().stream()
                            .filter(t -> t.getName().equals("before-kill")).findFirst().orElseThrow();
                    for (PartitionState p : before.getPartitionsList()) {
                        assertTrue(p.getLeader() != result.killedNode() && p.getLeader() >= 0, p.toString());
                        assertTrue(!p.getIsrList().contains(result.killedNode()), p.toString());
                    }
                });
            }
            ControllerFailover.restartAndAwaitRejoin(cluster, result.killedNode(), lastOffset);
        }
    }
}
