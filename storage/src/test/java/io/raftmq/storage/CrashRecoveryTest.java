package io.raftmq.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A log is written, then "crashes" (no clean close), then a file at or past the recovery point is
 * cut or has a byte changed at a random place. Recovery must keep exactly the longest valid prefix:
 * every batch before the damage, byte for byte, nothing after it; and the log must accept appends
 * again. Seeded: the seed is printed on failure; rerun one with {@code -Draftmq.test.seed=N}.
 */
@Timeout(120)
class CrashRecoveryTest {
    private static final int RUNS = 60;

    @TempDir
    Path root;

    /** A batch as it was on disk before the crash. */
    private record Stored(long baseOffset, long nextOffset, long segment, int position, ByteBuffer bytes,
            int epoch) {}

    @Test
    void recoveryKeepsExactlyTheLongestValidPrefix() throws Exception {
        Long fixed = Long.getLong("raftmq.test.seed");
        long base = fixed != null ? fixed : new Random().nextLong();
        int runs = fixed != null ? 1 : RUNS;
        for (int run = 0; run < runs; run++) {
            long seed = base + run;
            try {
                runOnce(seed, root.resolve("run-" + run));
            } catch (Throwable t) {
                throw new AssertionError("crash recovery failed with seed " + seed + " (rerun with"
                        + " -Draftmq.test.seed=" + seed + ")", t);
            }
        }
    }

    private void runOnce(long seed, Path dir) throws Exception {
        Random random = new Random(seed);
        LogConfig config = TestLogs.config("segment.bytes", String.valueOf(2048 + random.nextInt(4096)),
                "index.interval.bytes", "256", "flush.mode", "os");
        TestLogs.Env env = new TestLogs.Env(new MockTime());
        PartitionLog log = PartitionLog.open(dir, config, env.environment);
        int batches = 20 + random.nextInt(60);
        int epoch = 0;
        int flushAt = random.nextInt(batches);
        for (int i = 0; i < batches; i++) {
            if (random.nextInt(10) == 0) {
                epoch++;
            }
            AppendResult result = log.appendAsLeader(randomBatch(random), epoch);
            assertInstanceOf(AppendResult.Appended.class, result);
            if (i == flushAt) {
                log.flush().get(10, TimeUnit.SECONDS);
            }
        }
        List<Stored> stored = storedBatches(log);
        crash(env);
        long recoveryPoint = Long.parseLong(Files.readString(dir.resolve(PartitionLog.CHECKPOINT_FILE),
                StandardCharsets.US_ASCII).trim().split("\\s+")[0]);

        // Damage a segment that recovery will read: the one holding the recovery point, or a later one.
        List<Long> segments = log.segmentBaseOffsets();
        int firstScanned = 0;
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) <= recoveryPoint) {
                firstScanned = i;
            }
        }
        long victim = segments.get(firstScanned + random.nextInt(segments.size() - firstScanned));
        Path victimFile = dir.resolve(String.format("%020d.log", victim));
        long victimSize = Files.size(victimFile);
        List<Stored> inVictim = stored.stream().filter(s -> s.segment() == victim).toList();
        boolean cut = random.nextBoolean() || inVictim.isEmpty();
        long keepBytes;
        if (cut) {
            // At least one byte goes: a "cut" that keeps the whole file damages nothing.
            keepBytes = victimSize == 0 ? 0 : random.nextLong(victimSize);
            try (FileChannel channel = FileChannel.open(victimFile, StandardOpenOption.WRITE)) {
                channel.truncate(keepBytes);
            }
        } else {
            Stored target = inVictim.get(random.nextInt(inVictim.size()));
            int at;
            do {
                at = random.nextInt(target.bytes().limit());
            } while (at >= RecordBatch.PARTITION_LEADER_EPOCH_OFFSET && at < RecordBatch.MAGIC_OFFSET);
            // The partition leader epoch (bytes 12-15) is outside the CRC by design: changing it goes
            // unnoticed, as in Kafka. Every other byte of a batch is covered.
            try (FileChannel channel = FileChannel.open(victimFile, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                channel.read(one, target.position() + at);
                one.put(0, (byte) (one.get(0) ^ (1 + random.nextInt(255))));
                channel.write(one.rewind(), target.position() + at);
            }
            keepBytes = target.position();
        }
        List<Stored> expected = new ArrayList<>();
        for (Stored s : stored) {
            if (s.segment() < victim || (s.segment() == victim && s.position() + s.bytes().limit() <= keepBytes)) {
                expected.add(s);
            }
        }
        // Segments continue each other, so an emptied victim segment starts where the prefix ends.
        long expectedEnd = expected.isEmpty() ? victim : expected.get(expected.size() - 1).nextOffset();

        TestLogs.Env env2 = new TestLogs.Env(new MockTime());
        PartitionLog recovered = PartitionLog.open(dir, config, env2.environment);
        try {
            assertEquals(expectedEnd, recovered.logEndOffset(), "log end after recovery (recovery point "
                    + recoveryPoint + ", damaged segment " + victim + (cut ? ", cut at " : ", flipped before ")
                    + keepBytes + ")");
            List<RecordBatch> read = TestLogs.readAll(recovered);
            assertEquals(expected.size(), read.size());
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).bytes(), read.get(i).buffer(), "batch " + i + " differs");
            }
            int lastEpoch = expected.isEmpty() ? -1 : expected.get(expected.size() - 1).epoch();
            assertEquals(lastEpoch, recovered.latestEpoch());
            if (lastEpoch >= 0) {
                assertEquals(new EpochEndOffset(lastEpoch, expectedEnd), recovered.endOffsetForEpoch(lastEpoch));
            }
            AppendResult.Appended after = assertInstanceOf(AppendResult.Appended.class,
                    recovered.appendAsLeader(randomBatch(random), lastEpoch + 1));
            assertEquals(expectedEnd, after.firstOffset());
            recovered.close();
            recovered = PartitionLog.open(dir, config, env2.environment);
            assertEquals(after.lastOffset() + 1, recovered.logEndOffset());
        } finally {
            recovered.close();
            env2.close();
        }
    }

    /**
     * A segment cut exactly at a batch boundary has no torn batch; what gives the damage away is the
     * next segment, which no longer continues it. Everything from the gap on goes, later segment
     * files included, and the log continues from the end of the cut segment.
     */
    @Test
    void aSegmentCutAtABatchBoundaryDropsEverySegmentAfterIt() throws Exception {
        Path dir = root.resolve("boundary");
        LogConfig config = TestLogs.config("segment.bytes", "2048", "index.interval.bytes", "256",
                "flush.mode", "os");
        TestLogs.Env env = new TestLogs.Env(new MockTime());
        PartitionLog log = PartitionLog.open(dir, config, env.environment);
        for (int i = 0; i < 60; i++) {
            assertInstanceOf(AppendResult.Appended.class, log.appendAsLeader(TestLogs.batch(3, 40, i), 0));
        }
        List<Stored> stored = storedBatches(log);
        List<Long> segments = log.segmentBaseOffsets();
        assertTrue(segments.size() >= 4, "segments: " + segments);
        crash(env);

        // Keep only the first batch of the second segment.
        long victim = segments.get(1);
        Stored first = stored.stream().filter(s -> s.segment() == victim).findFirst().orElseThrow();
        try (FileChannel channel = FileChannel.open(dir.resolve(String.format("%020d.log", victim)),
                StandardOpenOption.WRITE)) {
            channel.truncate(first.bytes().limit());
        }
        List<Stored> expected = stored.stream()
                .filter(s -> s.segment() < victim || s == first).toList();

        TestLogs.Env env2 = new TestLogs.Env(new MockTime());
        PartitionLog recovered = PartitionLog.open(dir, config, env2.environment);
        try {
            assertEquals(first.nextOffset(), recovered.logEndOffset());
            assertEquals(List.of(segments.get(0), victim), recovered.segmentBaseOffsets());
            for (Long gone : segments.subList(2, segments.size())) {
                assertFalse(Files.exists(dir.resolve(String.format("%020d.log", gone))), "segment " + gone);
            }
            assertEquals(expected.stream().map(Stored::bytes).toList(),
                    TestLogs.readAll(recovered).stream().map(RecordBatch::buffer).toList());
            AppendResult.Appended after = assertInstanceOf(AppendResult.Appended.class,
                    recovered.appendAsLeader(TestLogs.batch(2, 40, 99), 1));
            assertEquals(first.nextOffset(), after.firstOffset());
            recovered.close();
            recovered = PartitionLog.open(dir, config, env2.environment);
            assertEquals(after.lastOffset() + 1, recovered.logEndOffset());
            List<RecordBatch> all = TestLogs.readAll(recovered);
            assertEquals(expected.size() + 1, all.size());
            assertEquals(first.nextOffset(), all.get(all.size() - 1).baseOffset());
        } finally {
            recovered.close();
            env2.close();
        }
    }

    /** The crash: the log is never closed; its background work stops, so the files stay as they are. */
    private static void crash(TestLogs.Env env) throws InterruptedException {
        env.scheduler.shutdown();
        env.scheduler.awaitTermination(10, TimeUnit.SECONDS);
        env.close();
    }

    private static ByteBuffer randomBatch(Random random) {
        CompressionType[] types = CompressionType.values();
        RecordBatchBuilder builder = new RecordBatchBuilder(types[random.nextInt(types.length)], 256);
        int records = 1 + random.nextInt(10);
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[random.nextInt(100)];
            random.nextBytes(value);
            builder.append(1_000_000 + random.nextInt(1000), ("k" + i).getBytes(), value);
        }
        return builder.build();
    }

    /** Each batch with its segment and position, read back before the crash. */
    private static List<Stored> storedBatches(PartitionLog log) throws IOException {
        List<Stored> out = new ArrayList<>();
        List<Long> segments = log.segmentBaseOffsets();
        for (int s = 0; s < segments.size(); s++) {
            long segment = segments.get(s);
            long next = s + 1 < segments.size() ? segments.get(s + 1) : log.logEndOffset();
            int position = 0;
            long offset = segment;
            while (offset < next) {
                LogSlice slice = ((ReadResult.Slice) log.read(offset, 1, Long.MAX_VALUE, true)).records();
                RecordBatch batch = RecordBatch.readFrom(slice.read());
                ByteBuffer copy = ByteBuffer.allocate(batch.sizeInBytes()).put(batch.buffer()).flip();
                out.add(new Stored(batch.baseOffset(), batch.nextOffset(), segment, position, copy,
                        batch.partitionLeaderEpoch()));
                position += batch.sizeInBytes();
                offset = batch.nextOffset();
            }
        }
        return out;
    }
}
