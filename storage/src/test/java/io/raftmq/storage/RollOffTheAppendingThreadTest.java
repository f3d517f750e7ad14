package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.batch;
import static io.raftmq.storage.TestLogs.config;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.raftmq.common.Time;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A roll happens on the appending thread (a produce's event loop), which must not do the finished
 * segment's file writes: they wait for the scheduler, and happen there.
 */
@Timeout(60)
class RollOffTheAppendingThreadTest {
    @TempDir
    Path root;

    @Test
    void theFinishedSegmentsIndexIsWrittenOnTheScheduler() throws Exception {
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
        CountDownLatch busy = new CountDownLatch(1);
        scheduler.execute(() -> {
            try {
                busy.await(); // the scheduler's only thread is busy until the test says
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            Path dir = root.resolve("t-0");
            PartitionLog log = PartitionLog.open(dir, config("segment.bytes", "4096", "flush.mode", "os"),
                    new LogEnvironment(Time.SYSTEM, scheduler, (d, e) -> { }));
            while (log.segmentCount() < 2) {
                log.appendAsLeader(batch(5, 100, 0), 0);
            }
            Path index = dir.resolve(LogSegment.fileName(0, LogSegment.INDEX_SUFFIX));
            assertFalse(Files.exists(index), "the appending thread wrote the finished segment's index");
            busy.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(index));
            log.close();
        } finally {
            busy.countDown();
            scheduler.shutdownNow();
        }
    }
}
