package io.raftmq.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReplicaManager} with its purgatories on real logs (faults injected through {@link
 * FaultyFiles}) and no network: acks=all produce against ISR changes and failing disks.
 */
@Timeout(60)
class ReplicaManagerTest {
    private static final UUID TOPIC_ID = new UUID(7, 7);
    private static final TopicPartition A = new TopicPartition("t", 0);
    private static final TopicPartition B = new TopicPartition("t", 1);

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private final FaultyFiles files = new FaultyFiles();
    /** What the controller answers to ISR proposals: accepts them as proposed, unless set. */
    private volatile AlterPartitionClient alterPartition = proposal -> CompletableFuture.completedFuture(
            new AlterPartitionClient.Outcome(ApiError.NONE, proposal.leaderEpoch(), proposal.partitionEpoch() + 1,
                    proposal.isr()));
    private ScheduledExecutorService brokerScheduler;
    private ScheduledExecutorService logScheduler;
    private LogManager logs;
    private ReplicaManager replicas;
    /** Set when a test left threads stuck in partition locks: closing would block on them too. */
    private volatile boolean stuck;

    @BeforeEach
    void setUp() {
        brokerScheduler = Executors.newScheduledThreadPool(1);
        // One log-io thread: a stalled fsync holds up every other log's flushes, as a stalled disk does.
        logScheduler = Executors.newScheduledThreadPool(1);
        logs = new LogManager(dir, new LogEnvironment(time, logScheduler, (d, e) -> { }, files));
        replicas = new ReplicaManager(1, () -> 1L, id -> -1L, id -> true, logs,
                ReplicationConfig.of(Map.of("replica.lag.time.max.ms", "100")),
                proposal -> alterPartition.alter(proposal), time, brokerScheduler);
        replicas.startup();
    }

    @AfterEach
    void tearDown() {
        files.beforeWrite = FaultyFiles.Hook.NONE;
        files.beforeForce = FaultyFiles.Hook.NONE;
        if (stuck) {
            return;
        }
        replicas.close();
        logs.close();
        brokerScheduler.shutdownNow();
        logScheduler.shutdownNow();
    }

    private static PartitionAssignment leading(TopicPartition tp, List<Integer> isr, int minIsr) {
        return new PartitionAssignment(tp, TOPIC_ID, List.of(1, 2), isr, 1, 0, 0, null, minIsr,
                LogConfig.defaults());
    }

    private static ByteBuffer records(int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE, 64);
        for (int i = 0; i < count; i++) {
            b.append(1000 + i, null, ("v" + i).getBytes());
        }
        return b.build();
    }

    private CompletableFuture<Map<TopicPartition, ProduceResult>> produce(int acks, TopicPartition... tps) {
        Map<TopicPartition, ByteBuffer> batches = new LinkedHashMap<>();
        for (TopicPartition tp : tps) {
            batches.put(tp, records(3));
        }
        return replicas.appendRecords(acks, 30_000, batches);
    }

    @Test
    void acksAllWaitingWhileTheIsrShrinksBelowMinInsyncReplicasFailsNotEnoughReplicasAfterAppend() {
        replicas.applyMetadata(1, List.of(leading(A, List.of(1, 2), 2)), List.of());
        CompletableFuture<Map<TopicPartition, ProduceResult>> answer = produce(-1, A);
        assertFalse(answer.isDone(), "follower 2 has not fetched");

        // Follower 2 falls silent: the leader has it removed from the ISR, leaving itself alone.
        time.advanceMs(1_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> replicas.partition(A).isr().equals(List.of(1)));

        await().atMost(Duration.ofSeconds(10)).until(answer::isDone);
        ProduceResult result = answer.join().get(A);
        assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, result.error().code(),
                "one copy is not an acks=all answer: " + result.error());
        assertTrue(result.error().message().contains("min.insync.replicas is 2"), result.error().message());
    }

    @Test
    void twoPartitionsFailingTogetherUnderAWaitingProduceDoNotDeadlock() throws Exception {
        replicas.applyMetadata(1, List.of(leading(A, List.of(1), 1), leading(B, List.of(1), 1)), List.of());
        // The disk stalls, so an acks=all produce on both partitions waits for its fsyncs.
        CountDownLatch disk = new CountDownLatch(1);
        files.beforeForce = () -> {
            try {
                disk.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        };
        CompletableFuture<Map<TopicPartition, ProduceResult>> waiting;
        try {
            waiting = produce(-1, A, B);
            assertFalse(waiting.isDone());
        } catch (RuntimeException | Error e) {
            disk.countDown();
            throw e;
        }

        // Then writes fail on both partitions at once, each appender inside its partition's lock.
        CyclicBarrier together = new CyclicBarrier(2);
        files.beforeWrite = () -> {
            try {
                together.await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException(e);
            }
            throw new IOException("injected write failure");
        };
        AtomicReference<Map<TopicPartition, ProduceResult>> onA = new AtomicReference<>();
        AtomicReference<Map<TopicPartition, ProduceResult>> onB = new AtomicReference<>();
        Thread t1 = new Thread(() -> onA.set(produce(1, A).join()), "event-loop-1");
        Thread t2 = new Thread(() -> onB.set(produce(1, B).join()), "event-loop-2");
        t1.setDaemon(true);
        t2.setDaemon(true);
        t1.start();
        t2.start();
        t1.join(10_000);
        t2.join(10_000);
        boolean deadlocked = t1.isAlive() || t2.isAlive();
        stuck = deadlocked;
        disk.countDown();
        assertFalse(deadlocked, "two appenders deadlocked on each other's partition locks");
        assertEquals(ErrorCode.STORAGE_ERROR, onA.get().get(A).error().code());
        assertEquals(ErrorCode.STORAGE_ERROR, onB.get().get(B).error().code());

        await().atMost(Duration.ofSeconds(10)).until(waiting::isDone);
        for (ProduceResult r : waiting.join().values()) {
            assertTrue(r.error().isFailure(), "the logs failed before the records were flushed: " + r);
        }
    }
}
