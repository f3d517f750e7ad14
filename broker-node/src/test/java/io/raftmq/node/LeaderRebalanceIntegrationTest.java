package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.record.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's automatic leader rebalance on three in-process nodes: leadership that moved away from a
 * partition's preferred replica (here by a controlled shutdown) moves back once that replica is in
 * the ISR again, and no record is lost by the move.
 */
@Timeout(180)
class LeaderRebalanceIntegrationTest {
    @TempDir
    Path dir;

    @Test
    void leadershipReturnsToThePreferredReplicaAfterItRestarts() throws Exception {
        try (InProcessCluster cluster = rebalancingCluster();
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            String topic = "rebalance";
            startWithTopic(cluster, client, topic);
            PartitionMetadata initial = client.partition(topic, 0);
            int preferred = initial.getReplicas(0);
            assertEquals(preferred, initial.getLeader(), "placement starts with the preferred replica leading");
            client.produce(topic, 0, -1, values("before", 20), Duration.ofSeconds(30));

            cluster.stop(preferred);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> {
                        int leader = client.refreshMetadata().getTopics(0).getPartitions(0).getLeader();
                        return leader >= 0 && leader != preferred;
                    });
            client.produce(topic, 0, -1, values("while-away", 20), Duration.ofSeconds(30));

            cluster.start(preferred);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> {
                        PartitionMetadata p = client.refreshMetadata().getTopics(0).getPartitions(0);
                        return p.getLeader() == preferred && p.getIsrList().contains(preferred);
                    });
            client.produce(topic, 0, -1, values("back", 20), Duration.ofSeconds(30));

            List<String> read = new ArrayList<>();
            for (Record r : client.readAll(topic, 0, 0)) {
                read.add(new String(r.valueBytes(), StandardCharsets.UTF_8));
            }
            List<String> expected = new ArrayList<>();
            for (String phase : List.of("before", "while-away", "back")) {
                for (byte[] v : values(phase, 20)) {
                    expected.add(new String(v, StandardCharsets.UTF_8));
                }
            }
            assertEquals(expected, read, "every record, once, in order, across both leader moves");
            cluster.assertNoFaults();
        }
    }

    /**
     * After a restart of the whole cluster the first broker back leads every partition, writing
     * nothing (an idle topic); the rebalance then hands each partition to its preferred replica.
     * The broker that led in between must follow and stay in every ISR: it used to keep the epoch it
     * led without writes, diverge on every fetch, spin, and leave the ISR for good.
     */
    @Test
    void replicasThatLedWithoutWritesAfterARestartFollowAndStayInTheIsr() throws Exception {
        try (InProcessCluster cluster = rebalancingCluster();
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            String topic = "idle-restart";
            startWithTopic(cluster, client, topic);
            for (int p = 0; p < 3; p++) {
                client.produce(topic, p, -1, values("before", 10), Duration.ofSeconds(30));
            }
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> allIsrsFull(client));

            for (int n = 1; n <= 3; n++) {
                cluster.stop(n);
            }
            cluster.startAll(); // nothing is written from here on
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            boolean[] moved = {false};
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> {
                        boolean preferredLeadAll = true;
                        for (PartitionMetadata p : client.refreshMetadata().getTopics(0).getPartitionsList()) {
                            if (p.getLeader() >= 0 && p.getLeader() != p.getReplicas(0)) {
                                moved[0] = true;
                            }
                            preferredLeadAll &= p.getLeader() == p.getReplicas(0);
                        }
                        return preferredLeadAll;
                    });
            assertTrue(moved[0], "some partition was led by another replica before the rebalance");

            // Every replica in every ISR, and still so after more than twice replica.lag.time.max.ms.
            await().atMost(Duration.ofSeconds(30)).during(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions().until(() -> allIsrsFull(client));
            cluster.assertNoFaults();
        }
    }

    /** Three nodes that check leader imbalance every second and drop a silent follower after 2 s. */
    private InProcessCluster rebalancingCluster() {
        return new InProcessCluster(3, dir, Map.of(
                "leader.imbalance.check.interval.seconds", "1", "replica.lag.time.max.ms", "2000"));
    }

    /** Starts every node and creates {@code topic}: 3 partitions, RF 3, min.insync.replicas 2, all led. */
    private static void startWithTopic(InProcessCluster cluster, TestBrokerClient client, String topic)
            throws Exception {
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2")); // waits for every leader
    }

    private static boolean allIsrsFull(TestBrokerClient client) {
        for (PartitionMetadata p : client.refreshMetadata().getTopics(0).getPartitionsList()) {
            if (p.getIsrCount() != 3) {
                return false;
            }
        }
        return true;
    }

    private static List<byte[]> values(String prefix, int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add((prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }
}
