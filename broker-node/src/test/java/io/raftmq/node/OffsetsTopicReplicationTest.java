package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.HostPort;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * __consumer_offsets is created with offsets.topic.replication.factor replicas, never fewer: while
 * fewer brokers are live, FindCoordinator answers COORDINATOR_NOT_AVAILABLE (as Kafka does) instead
 * of creating it with the replicas at hand, which it would keep forever.
 */
@Timeout(120)
class OffsetsTopicReplicationTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestGroupClient groups;

    @AfterEach
    void stop() {
        if (groups != null) {
            groups.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @Test
    void theOffsetsTopicWaitsForAsManyLiveBrokersAsItsReplicationFactor() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("offsets.topic.num.partitions", "2"));
        cluster.start(1);
        cluster.start(2);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        groups = new TestGroupClient(cluster.addresses());
        HostPort node1 = cluster.addresses().get(0);

        FindCoordinatorResponse early = groups.findCoordinatorOnce(node1, "g");
        assertEquals(ErrorCode.COORDINATOR_NOT_AVAILABLE, early.getError().getCode(), early.getError().getMessage());
        // Names the replication factor and the live count (2, or fewer if a loaded machine just
        // fenced one of them).
        assertTrue(early.getError().getMessage().contains("offsets.topic.replication.factor=3"),
                early.getError().getMessage());
        assertTrue(early.getError().getMessage().matches(".*only [012] brokers are live.*"),
                early.getError().getMessage());
        assertNull(cluster.node(1).broker().image().topic("__consumer_offsets"), "created with too few replicas");

        cluster.start(3);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        FindCoordinatorResponse found = groups.findCoordinator("g");
        assertEquals(ErrorCode.NONE, found.getError().getCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.node(1).broker().image()
                .topic("__consumer_offsets") != null);
        TopicImage offsets = cluster.node(1).broker().image().topic("__consumer_offsets");
        assertEquals(3, offsets.replicationFactor());
    }
}
