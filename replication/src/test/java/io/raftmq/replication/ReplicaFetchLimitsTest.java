package io.raftmq.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.common.config.Config;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower's fetch is bounded by the leader's replica.fetch.response.max.bytes and
 * replica.fetch.max.bytes, whatever it asks for: no fetch reads a whole segment into the heap.
 */
@Timeout(60)
class ReplicaFetchLimitsTest {
    private static final UUID TOPIC_ID = new UUID(7, 7);
    private static final int BATCH_BYTES = 20 << 10;

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private ScheduledExecutorService scheduler;
    private LogManager logs;
    private ReplicaManager replicas;

    @BeforeEach
    void setUp() {
        scheduler = Executors.newScheduledThreadPool(1);
        logs = new LogManager(dir, new LogEnvironment(time, scheduler, (d, e) -> { }));
        ReplicationConfig config = new ReplicationConfig(new Config(Map.of(
                "replica.fetch.max.bytes", Integer.toString(100 << 10),
                "replica.fetch.response.max.bytes", Integer.toString(150 << 10)), ReplicationConfig.KEYS));
        replicas = new ReplicaManager(1, () -> 1, id -> -1, id -> true, logs, config,
                proposal -> new CompletableFuture<>(), time, scheduler);
    }

    @AfterEach
    void tearDown() throws Exception {
        replicas.close();
        scheduler.shutdownNow();
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Broker 1 leads partitions 0..n-1 of topic "t" with broker 2 following; each gets {@code batches} batches. */
    private void lead(int partitions, int batches) throws Exception {
        List<PartitionAssignment> assignments = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            assignments.add(new PartitionAssignment(new TopicPartition("t", p), TOPIC_ID, List.of(1, 2), List.of(1, 2),
                    1, 0, 0, null, 1, LogConfig.defaults()));
        }
        replicas.applyMetadata(1, assignments, List.of());
        Random random = new Random(42);
        for (int p = 0; p < partitions; p++) {
            for (int b = 0; b < batches; b++) {
                byte[] value = new byte[BATCH_BYTES];
                random.nextBytes(value);
                ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE, BATCH_BYTES + 64)
                        .append(time.milliseconds(), null, value).build();
                ProduceResult r = replicas.appendRecords(1, 10_000, Map.of(new TopicPartition("t", p), batch)).get()
                        .get(new TopicPartition("t", p));
                assertTrue(r.error().isSuccess(), r.error().toString());
            }
        }
    }

    private List<ReplicaManager.ReplicaFetchResult> fetch(int partitions, int maxBytes, int partitionMaxBytes)
            throws Exception {
        List<ReplicaManager.ReplicaFetchSpec> specs = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            specs.add(new ReplicaManager.ReplicaFetchSpec(TOPIC_ID, p, 0, 0, 0, -1, partitionMaxBytes));
        }
        return replicas.fetchForFollower(2, 1, 0, maxBytes, specs).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aFollowerAskingForEverythingGetsThePartitionCap() throws Exception {
        lead(1, 20); // 400 KiB
        for (int[] asked : new int[][] {{0, Integer.MAX_VALUE}, {Integer.MAX_VALUE, 0}, {1 << 30, 1 << 30}}) {
            List<ReplicaManager.ReplicaFetchResult> answer = fetch(1, asked[0], asked[1]);
            int bytes = answer.get(0).records().remaining();
            assertTrue(bytes > 0 && bytes <= 100 << 10, "asked " + asked[0] + "/" + asked[1] + ", got " + bytes);
        }
    }

    @Test
    void theResponseCapHoldsAcrossPartitionsAndLaterOnesGetNothing() throws Exception {
        lead(4, 8); // 160 KiB each
        List<ReplicaManager.ReplicaFetchResult> answer = fetch(4, 0, 0);
        int total = 0;
        for (ReplicaManager.ReplicaFetchResult r : answer) {
            assertTrue(r.error().isSuccess(), r.error().toString());
            total += r.records().remaining();
        }
        assertTrue(answer.get(0).records().remaining() <= 100 << 10, "partition cap");
        assertTrue(total <= (150 << 10) + BATCH_BYTES + 128, "response cap plus the batch that crosses it: " + total);
        assertEquals(0, answer.get(3).records().remaining(), "nothing once the budget is spent");
    }

    @Test
    void aBatchBiggerThanTheCapsStillReplicates() throws Exception {
        lead(1, 0);
        byte[] value = new byte[200 << 10];
        ByteBuffer big = new RecordBatchBuilder(CompressionType.NONE, value.length + 64)
                .append(time.milliseconds(), null, value).build();
        assertTrue(replicas.appendRecords(1, 10_000, Map.of(new TopicPartition("t", 0), big)).get()
                .get(new TopicPartition("t", 0)).error().isSuccess());
        assertEquals(big.remaining(), fetch(1, 0, 0).get(0).records().remaining(), "one whole batch");
    }
}
