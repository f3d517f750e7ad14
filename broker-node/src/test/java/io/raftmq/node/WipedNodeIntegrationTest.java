package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.TopicPartition;
import io.raftmq.replication.Partition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A combined node whose data directory was wiped does not rejoin the quorum as an empty voter: it
 * refuses to start, naming the recovery; started once with metadata.recovery.allow.empty=true it
 * copies the metadata and its partitions from the others.
 */
@Timeout(180)
class WipedNodeIntegrationTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestBrokerClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @Test
    void aWipedVoterRefusesToStartUntilTheOperatorAllowsItToRejoinEmpty() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of());
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
        client.createTopic("orders", 1, 3, Map.of());
        for (int i = 0; i < 10; i++) {
            client.produce("orders", 0, -1, List.of(("r" + i).getBytes(StandardCharsets.UTF_8)),
                    Duration.ofSeconds(30));
        }
        Path node3 = dir.resolve("node-3");
        String clusterId = cluster.node(1).broker().image().clusterId();
        await().atMost(Duration.ofSeconds(10)).until(() -> clusterId.equals(MetaProperties.read(node3).clusterId()));

        cluster.stop(3);
        deleteTree(node3);
        DataDirIdentity.RefusedException refused = assertThrows(DataDirIdentity.RefusedException.class,
                () -> cluster.start(3));
        assertTrue(refused.getMessage().contains("already form cluster " + clusterId
                + " in which broker 3 is registered"), refused.getMessage());
        assertTrue(refused.getMessage().contains("metadata.recovery.allow.empty=true"), refused.getMessage());

        cluster.set(3, "metadata.recovery.allow.empty", "true");
        cluster.start(3);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Partition p = cluster.node(3).broker().replicaManager().partition(new TopicPartition("orders", 0));
            assertEquals(10, p == null ? -1 : p.log().logEndOffset());
            assertEquals(new MetaProperties(3, clusterId), MetaProperties.read(node3));
        });
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
