package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.batch;
import static io.raftmq.storage.TestLogs.config;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.Time;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class ConcurrencyAndFlushTest {
    @TempDir
    Path root;

    @Test
    void oneWriterAndConcurrentReadersSeeOnlyWholeValidBatchesInOrder() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(Time.SYSTEM)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("segment.bytes", "16384",
                    "index.interval.bytes", "512", "flush.mode", "os"), env.environment);
            int batches = 3000;
            AtomicBoolean done = new AtomicBoolean();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            AtomicInteger reads = new AtomicInteger();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                long seed = r;
                readers.add(new Thread(() -> {
                    Random random = new Random(seed);
                    try {
                        while (!done.get()) {
                            long end = log.logEndOffset();
                            if (end == 0) {
                                continue;
                            }
                            long start = random.nextLong(end);
                            ReadResult result = log.read(start, 1 + random.nextInt(8192), end, true);
                            ByteBuffer bytes = assertInstanceOf(ReadResult.Slice.class, result).records().read();
                            long expected = -1;
                            for (RecordBatch b : RecordBatch.readAll(bytes)) {
                                b.ensureValid();
                                if (expected >= 0 && b.baseOffset() != expected) {
                                    throw new AssertionError("gap: " + expected + " then " + b.baseOffset());
                                }
                                if (expected < 0 && !(b.baseOffset() <= start && start <= b.lastOffset())) {
                                    throw new AssertionError("read " + start + " got " + b);
                                }
                                if (b.lastOffset() >= end) {
                                    throw new AssertionError("read past the bound " + end + ": " + b);
                                }
                                expected = b.nextOffset();
                            }
                            reads.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                }, "reader-" + r));
            }
            // A consumer that follows the tail in order.
            AtomicInteger tailBatches = new AtomicInteger();
            readers.add(new Thread(() -> {
                long next = 0;
                try {
                    while (!done.get() || next < log.logEndOffset()) {
                        ReadResult result = log.read(next, 4096, log.logEndOffset(), true);
                        for (RecordBatch b : RecordBatch.readAll(((ReadResult.Slice) result).records().read())) {
                            if (b.baseOffset() != next) {
                                throw new AssertionError("tail: expected " + next + " got " + b.baseOffset());
                            }
                            next = b.nextOffset();
                            tailBatches.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }, "tail-reader"));
            readers.forEach(Thread::start);
            Random random = new Random(9);
            for (int i = 0; i < batches; i++) {
                assertInstanceOf(AppendResult.Appended.class,
                        log.appendAsLeader(batch(1 + random.nextInt(5), random.nextInt(200), i), 0));
            }
            done.set(true);
            for (Thread reader : readers) {
                reader.join(30_000);
            }
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.size() + " reader errors", errors.get(0));
            }
            assertEquals(batches, tailBatches.get());
            assertTrue(reads.get() > 0);
            assertTrue(log.segmentCount() > 5);
            log.close();
        }
    }

    @Test
    void concurrentAppendersShareFsyncs() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(Time.SYSTEM)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("flush.mode", "group"),
                    env.environment);
            int threads = 16;
            int appendsEach = 100;
            CountDownLatch start = new CountDownLatch(1);
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                appenders.add(new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < appendsEach; i++) {
                            AppendResult.Appended a = assertInstanceOf(AppendResult.Appended.class,
                                    log.appendAsLeader(batch(10, 100, i), 0));
                            a.durable().get(10, TimeUnit.SECONDS);
                            if (log.recoveryPoint() <= a.lastOffset()) {
                                throw new AssertionError("durable before the recovery point covered it");
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            appenders.forEach(Thread::start);
            int forcesBefore = env.forces.get();
            start.countDown();
            for (Thread t : appenders) {
                t.join(60_000);
            }
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.size() + " appender errors", errors.get(0));
            }
            int appends = threads * appendsEach;
            int forces = env.forces.get() - forcesBefore;
            System.out.printf("group commit: %d durable appends took %d fsyncs (%.1f appends per fsync)%n", appends,
                    forces, (double) appends / forces);
            assertTrue(forces <= appends / 2, forces + " fsyncs for " + appends + " appends: not shared");
            assertEquals(log.logEndOffset(), log.recoveryPoint());
            log.close();
        }
    }

    @Test
    void osModeAcknowledgesAtOnceAndFlushesOnlyOnRollAndClose() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(Time.SYSTEM)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("flush.mode", "os", "segment.bytes",
                    "4096"), env.environment);
            CompletableFuture<Void> durable = ((AppendResult.Appended) log.appendAsLeader(batch(2, 10, 1), 0))
                    .durable();
            assertTrue(durable.isDone());
            assertEquals(0, log.recoveryPoint());
            for (int i = 0; i < 60; i++) {
                log.appendAsLeader(batch(5, 50, i), 0);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> log.recoveryPoint() > 0);
            log.close();
        }
    }

    @Test
    void intervalModeFlushesOnItsPeriod() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(Time.SYSTEM)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("flush.mode", "interval",
                    "flush.interval.ms", "50"), env.environment);
            AppendResult.Appended a = (AppendResult.Appended) log.appendAsLeader(batch(2, 10, 1), 0);
            assertTrue(a.durable().isDone());
            await().atMost(Duration.ofSeconds(10)).until(() -> log.recoveryPoint() == log.logEndOffset());
            log.close();
        }
    }
}
