package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.record.Record;
import io.raftmq.replication.Partition;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three combined nodes in this JVM: produce with acks=all to an RF 3 topic, read everything back
 * in order, and check that every replica ends with the same high watermark and the same log bytes.
 */
@Timeout(180)
class ReplicationIntegrationTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestBrokerClient client;

    @BeforeEach
    void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("replica.lag.time.max.ms", "2000"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
    }

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
    void acksAllRecordsAreReadBackInOrderAndEveryReplicaHoldsTheSameBytes() throws Exception {
        int partitions = 3;
        int batches = 200;
        client.createTopic("orders", partitions, 3, Map.of("min.insync.replicas", "2"));
        List<List<String>> sent = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            sent.add(new ArrayList<>());
        }
        for (int i = 0; i < batches; i++) {
            int p = i % partitions;
            List<byte[]> values = new ArrayList<>();
            for (int r = 0; r < 1 + i % 5; r++) {
                String v = "p" + p + "-b" + i + "-r" + r;
                values.add(v.getBytes(StandardCharsets.UTF_8));
            }
            long base = client.produce("orders", p, -1, values, Duration.ofSeconds(30));
            // acks=all: the offsets are assigned in order, with no gap.
            assertEquals(sent.get(p).size(), base, "base offset of batch " + i);
            for (byte[] v : values) {
                sent.get(p).add(new String(v, StandardCharsets.UTF_8));
            }
        }
        for (int p = 0; p < partitions; p++) {
            List<Record> read = client.readAll("orders", p, 0);
            List<String> values = read.stream().map(r -> new String(r.valueBytes(), StandardCharsets.UTF_8)).toList();
            assertEquals(sent.get(p), values, "partition " + p);
            for (int i = 0; i < read.size(); i++) {
                assertEquals(i, read.get(i).offset());
            }
        }
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = new TopicPartition("orders", p);
            long expectedEnd = sent.get(p).size();
            // Followers learn the final high watermark on their next fetch.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (int id = 1; id <= 3; id++) {
                    Partition replica = cluster.node(id).broker().replicaManager().partition(tp);
                    assertEquals(expectedEnd, replica.log().logEndOffset(), "log end of " + tp + " on node " + id);
                    assertEquals(expectedEnd, replica.highWatermark(), "high watermark of " + tp + " on node " + id);
                }
            });
            byte[] first = logBytes(cluster.node(1).broker().replicaManager().partition(tp).log());
            for (int id = 2; id <= 3; id++) {
                byte[] other = logBytes(cluster.node(id).broker().replicaManager().partition(tp).log());
                assertArrayEquals(first, other, "log bytes of " + tp + " on node " + id + " differ from node 1");
            }
            assertTrue(first.length > 0);
        }
    }

    private static byte[] logBytes(PartitionLog log) throws Exception {
        long offset = log.logStartOffset();
        List<ByteBuffer> parts = new ArrayList<>();
        while (offset < log.logEndOffset()) {
            ReadResult r = log.read(offset, 1 << 20, log.logEndOffset(), true);
            ByteBuffer bytes = ((ReadResult.Slice) r).records().read();
            parts.add(bytes);
            offset = ((ReadResult.Slice) r).records().nextOffset();
        }
        int size = parts.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer all = ByteBuffer.allocate(size);
        parts.forEach(all::put);
        return all.array();
    }
}
