package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own Java client across a {@code kill -9} of the partition leader, on three real node
 * processes: an idempotent producer at acks=all keeps writing through the failover, and every
 * acknowledged record is read back exactly once, at the offset its acknowledgement named.
 */
@Timeout(300)
class KafkaClientFailoverIT {
    @TempDir
    Path dir;

    @Test
    void anIdempotentKafkaProducerLosesAndDuplicatesNothingAcrossAKillOfTheLeader() throws Exception {
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir)) {
            try {
                cluster.startAll();
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                KafkaFailoverTrial.Result r = new KafkaFailoverTrial(cluster.kafkaBootstrap(), 500).run(
                        "kafka-failover", false, id -> {
                            long nanos = System.nanoTime();
                            cluster.node(id).kill9();
                            return nanos;
                        }, Duration.ofSeconds(2), Duration.ofSeconds(2));
                System.out.println("Kafka client failover: " + r);
                assertEquals(0, r.lost(), () -> String.join("\n", r.problems()));
                assertEquals(0, r.duplicates(), () -> String.join("\n", r.problems()));
                assertEquals(0, r.misplaced(), () -> String.join("\n", r.problems()));
                assertTrue(r.acked() >= 1_000, "acknowledged " + r.acked());
                assertTrue(r.resumedAfterKillMs() >= 0, "acknowledgements never resumed after the kill");
            } catch (Throwable t) {
                cluster.dumpLogs();
                throw t;
            }
        }
    }
}
