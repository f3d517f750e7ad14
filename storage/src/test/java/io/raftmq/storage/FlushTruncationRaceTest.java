package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.batch;
import static io.raftmq.storage.TestLogs.config;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A truncation while a group-commit fsync is in flight (a demoted leader under load): the fsync
 * must not carry the recovery point or the durable offset back past the new log end, the
 * checkpoint on disk must not claim more than the log holds, and appends after the truncation are
 * durable only after an fsync of their own. Futures the truncation fails complete off its thread.
 */
@Timeout(60)
class FlushTruncationRaceTest {
    @TempDir
    Path root;

    private final MockTime time = new MockTime();

    /**
     * Appends {@code batches} batches of 10 records in one append (so that a flush it starts covers
     * all of them).
     */
    private static AppendResult.Appended appendBatches(PartitionLog log, int batches) {
        java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(1 << 16);
        for (int i = 0; i < batches; i++) {
            all.put(batch(10, 20, i));
        }
        return assertInstanceOf(AppendResult.Appended.class, log.appendAsLeader(all.flip(), 0));
    }

    private static long checkpointedRecoveryPoint(Path dir) throws Exception {
        String text = Files.readString(dir.resolve(PartitionLog.CHECKPOINT_FILE), StandardCharsets.US_ASCII);
        return Long.parseLong(text.trim().split("\\s+")[0]);
    }

    @Test
    void aFlushThatStartedBeforeATruncationDoesNotMoveTheDurableOffsetPastTheNewEnd() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(time)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("flush.mode", "group"), env.environment);
            appendBatches(log, 10).durable().get(10, TimeUnit.SECONDS);
            assertEquals(100, log.recoveryPoint());

            CountDownLatch stall = new CountDownLatch(1);
            env.stallScheduledForces = stall;
            CompletableFuture<Void> cut = appendBatches(log, 10).durable();
            assertTrue(env.stalledForces.tryAcquire(10, TimeUnit.SECONDS), "the flush of 100..200 started");
            log.truncateTo(150); // on this thread: the fsync it does itself is not stalled
            assertEquals(150, log.logEndOffset());
            env.stallScheduledForces = null;
            stall.countDown();
            // Waits until the stalled flush (and any that follows it) has finished.
            log.flush().get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(cut::isDone);
            assertTrue(cut.isCompletedExceptionally(), "records truncated away never became durable");
            assertTrue(log.recoveryPoint() <= log.logEndOffset(), "recovery point " + log.recoveryPoint()
                    + " past the log end " + log.logEndOffset());

            CountDownLatch stallAgain = new CountDownLatch(1);
            env.stallScheduledForces = stallAgain;
            CompletableFuture<Void> after = appendBatches(log, 5).durable();
            assertEquals(200, log.logEndOffset());
            assertFalse(after.isDone(), "records appended after the truncation counted as durable without an fsync");
            env.stallScheduledForces = null;
            stallAgain.countDown();
            after.get(10, TimeUnit.SECONDS);
            assertEquals(200, log.recoveryPoint());
            log.close();
        }
    }

    @Test
    void aTruncationBelowTheCheckpointedRecoveryPointRewritesTheCheckpoint() throws Exception {
        Path dir = root.resolve("t-0");
        try (TestLogs.Env env = new TestLogs.Env(time)) {
            PartitionLog log = PartitionLog.open(dir, config("flush.mode", "group"), env.environment);
            appendBatches(log, 10).durable().get(10, TimeUnit.SECONDS);
            time.advanceMs(11_000); // the next flush writes the checkpoint
            appendBatches(log, 10).durable().get(10, TimeUnit.SECONDS);
            assertEquals(200, checkpointedRecoveryPoint(dir));

            log.truncateTo(150);
            // A crash now must re-check (CRC) whatever is appended from 150 on, which is not fsynced.
            assertTrue(checkpointedRecoveryPoint(dir) <= 150, "the checkpoint still claims offsets up to "
                    + checkpointedRecoveryPoint(dir) + " are fsynced; the log ends at 150");
            log.close();
        }
    }

    @Test
    void futuresATruncationFailsCompleteOffTheTruncatingThread() throws Exception {
        try (TestLogs.Env env = new TestLogs.Env(time)) {
            PartitionLog log = PartitionLog.open(root.resolve("t-0"), config("flush.mode", "group"), env.environment);
            appendBatches(log, 2).durable().get(10, TimeUnit.SECONDS);
            CountDownLatch stall = new CountDownLatch(1);
            env.stallScheduledForces = stall;
            CompletableFuture<Void> waiting = appendBatches(log, 2).durable();
            assertTrue(env.stalledForces.tryAcquire(10, TimeUnit.SECONDS));
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            waiting.whenComplete((v, e) -> ranOn.set(Thread.currentThread()));

            log.truncateTo(20);
            env.stallScheduledForces = null;
            stall.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> ranOn.get() != null);
            // Callbacks run requests' completions (which take partition locks): never under the log's lock.
            assertNotSame(Thread.currentThread(), ranOn.get());
            log.close();
        }
    }
}
