package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
        try (InProcessCluster cluster = new InProcessCluster(3, dir, Map.of(
                "leader.imbalance.check.interval.seconds", "1", "replica.lag.time.max.ms", "2000"));
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            String topic = "rebalance";
            client.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2"));
            client.awaitLeaders(topic, 3, Duration.ofSeconds(30));
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

    private static List<byte[]> values(String prefix, int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add((prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }
}
