package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.batch;
import static io.raftmq.storage.TestLogs.config;
import static io.raftmq.storage.TestLogs.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class PartitionLogTest {
    @TempDir
    Path root;

    private final MockTime time = new MockTime();
    private TestLogs.Env env;
    private final List<PartitionLog> opened = new ArrayList<>();

    @BeforeEach
    void setUp() {
        env = new TestLogs.Env(time);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (PartitionLog log : opened) {
            if (!log.isOffline()) {
                log.close();
            }
        }
        env.close();
    }

    private PartitionLog open(LogConfig config) throws Exception {
        PartitionLog log = PartitionLog.open(root.resolve("topic-0"), config, env.environment);
        opened.add(log);
        return log;
    }

    private static AppendResult.Appended appended(AppendResult result) {
        return assertInstanceOf(AppendResult.Appended.class, result, () -> result.toString());
    }

    private static AppendResult.Rejected rejected(AppendResult result) {
        return assertInstanceOf(AppendResult.Rejected.class, result, () -> result.toString());
    }

    @Test
    void leaderAppendAssignsOffsetsAndEpochAndReadsBackTheSameBytes() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        ByteBuffer first = batch(10, 50, 1000);
        AppendResult.Appended a = appended(log.appendAsLeader(first, 3));
        assertEquals(0, a.firstOffset());
        assertEquals(9, a.lastOffset());
        a.durable().get(10, TimeUnit.SECONDS);
        AppendResult.Appended b = appended(log.appendAsLeader(batch(5, 20, 2000), 3));
        assertEquals(10, b.firstOffset());
        assertEquals(15, log.logEndOffset());

        List<RecordBatch> batches = readAll(log);
        assertEquals(2, batches.size());
        assertEquals(3, batches.get(0).partitionLeaderEpoch());
        assertEquals(first, batches.get(0).buffer(), "stored as received, offsets stamped in place");
        List<Record> records = batches.get(1).records();
        assertEquals(10, records.get(0).offset());
        assertEquals(2000, records.get(0).timestamp());
        assertEquals(3, log.latestEpoch());
    }

    @Test
    void badAppendsAreRefusedWithTheReasonAndChangeNothing() throws Exception {
        PartitionLog log = open(config("max.message.bytes", "2000"));
        appended(log.appendAsLeader(batch(5, 10, 1), 0));
        long end = log.logEndOffset();
        long size = log.sizeInBytes();

        ByteBuffer corrupt = batch(5, 10, 1);
        corrupt.put(RecordBatch.RECORDS_OFFSET + 3, (byte) (corrupt.get(RecordBatch.RECORDS_OFFSET + 3) ^ 1));
        AppendResult.Rejected crc = rejected(log.appendAsLeader(corrupt, 0));
        assertEquals(ErrorCode.CORRUPT_MESSAGE, crc.code());
        assertTrue(crc.message().contains("CRC"), crc.message());

        AppendResult.Rejected tooLarge = rejected(log.appendAsLeader(batch(10, 300, 1), 0));
        assertEquals(ErrorCode.RECORD_TOO_LARGE, tooLarge.code());
        assertTrue(tooLarge.message().contains("max.message.bytes (2000)"), tooLarge.message());

        assertEquals(ErrorCode.INVALID_RECORD, rejected(log.appendAsLeader(ByteBuffer.allocate(0), 0)).code());
        ByteBuffer truncated = batch(5, 10, 1);
        truncated.limit(truncated.limit() - 1);
        assertEquals(ErrorCode.CORRUPT_MESSAGE, rejected(log.appendAsLeader(truncated, 0)).code());
        ByteBuffer magic = batch(5, 10, 1);
        magic.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        assertTrue(rejected(log.appendAsLeader(magic, 0)).message().contains("magic 1"));

        ByteBuffer transactional = batch(5, 10, 1);
        transactional.putShort(RecordBatch.ATTRIBUTES_OFFSET,
                (short) (transactional.getShort(RecordBatch.ATTRIBUTES_OFFSET) | 0x10));
        java.util.zip.CRC32C crc32c = new java.util.zip.CRC32C();
        crc32c.update(transactional.duplicate().position(RecordBatch.ATTRIBUTES_OFFSET));
        transactional.putInt(RecordBatch.CRC_OFFSET, (int) crc32c.getValue());
        AppendResult.Rejected txn = rejected(log.appendAsLeader(transactional, 0));
        assertEquals(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, txn.code());
        assertTrue(txn.message().contains("transactions are not supported"), txn.message());

        // One bad batch among good ones: nothing of the append is written.
        ByteBuffer good = batch(3, 10, 1);
        ByteBuffer mixed = ByteBuffer.allocate(good.limit() + corrupt.limit()).put(good).put(corrupt.rewind()).flip();
        assertEquals(ErrorCode.CORRUPT_MESSAGE, rejected(log.appendAsLeader(mixed, 0)).code());

        assertEquals(end, log.logEndOffset());
        assertEquals(size, log.sizeInBytes());
        assertEquals(1, readAll(log).size());
    }

    @Test
    void readsAreWholeBatchesBoundedByBytesAndTheUpperBound() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ByteBuffer b = batch(10, 100, i * 100L);
            sizes.add(b.remaining());
            appended(log.appendAsLeader(b, 0));
        }
        // From the middle of a batch: the whole batch containing the offset.
        LogSlice slice = ((ReadResult.Slice) log.read(15, sizes.get(1), Long.MAX_VALUE, true)).records();
        assertEquals(10, slice.firstOffset());
        assertEquals(20, slice.nextOffset());
        assertEquals(sizes.get(1), slice.sizeInBytes());
        // maxBytes below one batch: still one batch with minOneBatch, none without.
        assertEquals(sizes.get(0), ((ReadResult.Slice) log.read(0, 10, Long.MAX_VALUE, true)).records().sizeInBytes());
        assertTrue(((ReadResult.Slice) log.read(0, 10, Long.MAX_VALUE, false)).records().isEmpty());
        // The upper bound (high watermark) excludes any batch reaching it.
        LogSlice bounded = ((ReadResult.Slice) log.read(0, 1 << 20, 35, true)).records();
        assertEquals(30, bounded.nextOffset());
        assertTrue(((ReadResult.Slice) log.read(30, 1 << 20, 35, true)).records().isEmpty());
        assertTrue(((ReadResult.Slice) log.read(100, 1 << 20, Long.MAX_VALUE, true)).records().isEmpty(),
                "at the log end: empty");
        ReadResult.OffsetOutOfRange past = assertInstanceOf(ReadResult.OffsetOutOfRange.class,
                log.read(101, 100, Long.MAX_VALUE, true));
        assertEquals(0, past.logStartOffset());
        assertEquals(100, past.logEndOffset());
        assertTrue(past.message().contains("offset 101"));
        assertInstanceOf(ReadResult.OffsetOutOfRange.class, log.read(-1, 100, Long.MAX_VALUE, true));
    }

    @Test
    void segmentsRollBySizeAndAgeAndIndexLookupsWorkAcrossThem() throws Exception {
        PartitionLog log = open(config("segment.bytes", "8192", "index.interval.bytes", "512", "segment.ms",
                "60000"));
        Random random = new Random(4);
        List<long[]> batchRanges = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            AppendResult.Appended a = appended(log.appendAsLeader(batch(1 + random.nextInt(8), 20, i), 0));
            batchRanges.add(new long[] {a.firstOffset(), a.lastOffset()});
        }
        assertTrue(log.segmentCount() > 5, "segments: " + log.segmentCount());
        for (int i = 0; i < 2000; i++) {
            long offset = random.nextLong(log.logEndOffset());
            LogSlice slice = ((ReadResult.Slice) log.read(offset, 1, Long.MAX_VALUE, true)).records();
            RecordBatch first = RecordBatch.readFrom(slice.read());
            assertTrue(first.baseOffset() <= offset && offset <= first.lastOffset(),
                    "offset " + offset + " read batch " + first);
        }
        // Age: with no appends for longer than segment.ms, the next append rolls.
        int before = log.segmentCount();
        time.advanceMs(60_001);
        appended(log.appendAsLeader(batch(1, 10, 1), 0));
        assertEquals(before + 1, log.segmentCount());
        assertEquals(log.logEndOffset() - 1, log.segmentBaseOffsets().get(log.segmentCount() - 1));
    }

    @Test
    void offsetForTimestampFindsTheFirstRecordAtOrAfterIt() throws Exception {
        PartitionLog log = open(config("segment.bytes", "4096", "index.interval.bytes", "256"));
        for (int i = 0; i < 200; i++) {
            appended(log.appendAsLeader(batch(5, 30, 10_000L + i * 10L), 0)); // record j: ts 10000+10i+j
        }
        TimestampOffset found = log.offsetForTimestamp(10_000L + 50 * 10 + 3, Long.MAX_VALUE);
        assertEquals(50 * 5 + 3, found.offset());
        assertEquals(10_503, found.timestamp());
        assertEquals(0, log.offsetForTimestamp(0, Long.MAX_VALUE).offset());
        assertNull(log.offsetForTimestamp(99_999_999, Long.MAX_VALUE));
        assertNull(log.offsetForTimestamp(10_000L + 150 * 10, 100), "nothing below the upper bound");
    }

    @Test
    void offsetsByTimeAndTheMaxTimestampCountOnlyRecordsFromTheLogStart() throws Exception {
        PartitionLog log = open(LogConfig.defaults()); // one segment
        long t = time.milliseconds() - 60_000; // recent: retention keeps it, and not ahead of the leader's clock
        // Batch i holds records 10i..10i+9 with timestamps t+10i+j, except batch 2's last record,
        // which carries the largest timestamp of the log (t+9999, at offset 29).
        for (int i = 0; i < 10; i++) {
            RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, 512);
            for (int j = 0; j < 10; j++) {
                builder.append(i == 2 && j == 9 ? t + 9_999 : t + 10 * i + j, null, new byte[] {(byte) j});
            }
            appended(log.appendAsLeader(builder.build(), 0));
        }
        assertEquals(new TimestampOffset(29, t + 9_999), log.offsetOfMaxTimestamp(Long.MAX_VALUE));
        assertEquals(new TimestampOffset(0, t), log.offsetForTimestamp(0, Long.MAX_VALUE));

        log.deleteRecordsBefore(35, log.logEndOffset()); // the log now starts inside batch 3
        assertEquals(35, log.logStartOffset());
        assertEquals(new TimestampOffset(35, t + 35), log.offsetForTimestamp(0, Long.MAX_VALUE),
                "the first record the log still holds");
        assertEquals(new TimestampOffset(99, t + 99), log.offsetOfMaxTimestamp(Long.MAX_VALUE),
                "the largest timestamp from the log start on");
        assertEquals(new TimestampOffset(39, t + 39), log.offsetOfMaxTimestamp(40), "below an upper bound");
        assertNull(log.offsetForTimestamp(t + 100, Long.MAX_VALUE));
    }

    @Test
    void followerAppendsKeepOffsetsAndEpochsAndMustContinueTheLog() throws Exception {
        PartitionLog leader = PartitionLog.open(root.resolve("leader-0"), LogConfig.defaults(), env.environment);
        opened.add(leader);
        appended(leader.appendAsLeader(batch(4, 10, 1), 1));
        appended(leader.appendAsLeader(batch(4, 10, 2), 2));
        PartitionLog follower = open(LogConfig.defaults());
        ByteBuffer fetched = ((ReadResult.Slice) leader.read(0, 1 << 20, Long.MAX_VALUE, true)).records().read();
        appended(follower.appendAsFollower(fetched));
        assertEquals(8, follower.logEndOffset());
        assertEquals(List.of(new long[] {1, 0}[0], 0L), List.of(follower.epochEntries().get(0)[0],
                follower.epochEntries().get(0)[1]));
        assertEquals(new EpochEndOffset(1, 4), follower.endOffsetForEpoch(1));

        ByteBuffer gap = batch(2, 10, 3);
        RecordBatch.readFrom(gap).setBaseOffset(20);
        AppendResult.Rejected rejected = rejected(follower.appendAsFollower(gap));
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, rejected.code());
        assertTrue(rejected.message().contains("continues at 8"), rejected.message());
    }

    @Test
    void truncationRemovesWholeBatchesAndEpochsPastIt() throws Exception {
        PartitionLog log = open(config("segment.bytes", "2048"));
        for (int epoch = 0; epoch < 4; epoch++) {
            for (int i = 0; i < 10; i++) {
                appended(log.appendAsLeader(batch(5, 20, i), epoch));
            }
        }
        assertEquals(200, log.logEndOffset());
        assertEquals(new EpochEndOffset(1, 100), log.endOffsetForEpoch(1));
        log.truncateTo(123); // inside the batch 120..124: it goes whole
        assertEquals(120, log.logEndOffset());
        assertEquals(2, log.latestEpoch());
        assertEquals(new EpochEndOffset(2, 120), log.endOffsetForEpoch(2));
        assertEquals(24, readAll(log).size());
        log.truncateTo(500); // past the end: nothing
        assertEquals(120, log.logEndOffset());
        log.assignLeaderEpoch(4); // led epoch 4 without appending to it
        assertEquals(4, log.latestEpoch());
        log.truncateTo(120); // at the end: no record goes, the empty epoch does
        assertEquals(120, log.logEndOffset());
        assertEquals(2, log.latestEpoch());
        appended(log.appendAsLeader(batch(1, 1, 1), 5));
        assertEquals(121, log.logEndOffset());
        assertEquals(new EpochEndOffset(2, 120), log.endOffsetForEpoch(3), "epoch 3 unknown: ends where 5 starts");

        log.truncateFullyAndStartAt(1000);
        assertEquals(1000, log.logStartOffset());
        assertEquals(1000, log.logEndOffset());
        assertEquals(EpochEndOffset.UNDEFINED, log.endOffsetForEpoch(5));
        assertInstanceOf(ReadResult.OffsetOutOfRange.class, log.read(0, 100, Long.MAX_VALUE, true));
    }

    @Test
    void retentionBySizeAndTimeDeletesWholeOldSegmentsButNotPastTheHighWatermark() throws Exception {
        PartitionLog log = open(config("segment.bytes", "4096", "retention.bytes", "16384", "retention.ms", "3600000",
                "file.delete.delay.ms", "0"));
        long now = time.milliseconds();
        for (int i = 0; i < 100; i++) {
            appended(log.appendAsLeader(batch(5, 40, now - 7_200_000L + i), 0)); // two hours old
        }
        int segments = log.segmentCount();
        assertEquals(0, log.deleteOldSegments(0), "nothing below the high watermark 0");
        int belowTwoHundred = log.deleteOldSegments(200);
        assertTrue(belowTwoHundred > 0 && log.logStartOffset() <= 200 && log.logStartOffset() > 0,
                "only segments ending at or below the high watermark: start " + log.logStartOffset());
        int deleted = log.deleteOldSegments(log.logEndOffset());
        // Everything is two hours old: the idle active segment is rolled, then every segment goes.
        assertEquals(segments, belowTwoHundred + deleted);
        assertEquals(log.logEndOffset(), log.logStartOffset());
        assertEquals(log.segmentBaseOffsets().get(0), log.logStartOffset());
        assertInstanceOf(ReadResult.OffsetOutOfRange.class, log.read(0, 100, Long.MAX_VALUE, true));

        // By size only (fresh timestamps).
        for (int i = 0; i < 200; i++) {
            appended(log.appendAsLeader(batch(5, 40, time.milliseconds()), 0));
        }
        log.deleteOldSegments(log.logEndOffset());
        assertTrue(log.sizeInBytes() < 16384 + 4096, "size " + log.sizeInBytes());
        assertTrue(log.sizeInBytes() >= 16384 - 4096, "size " + log.sizeInBytes());

        // An idle active segment older than retention.ms is rolled and deleted too.
        time.advanceMs(3_600_010);
        log.deleteOldSegments(log.logEndOffset());
        log.deleteOldSegments(log.logEndOffset());
        assertEquals(log.logEndOffset(), log.logStartOffset());
        assertEquals(0, log.sizeInBytes());
    }

    @Test
    void deleteRecordsMovesTheLogStart() throws Exception {
        PartitionLog log = open(config("segment.bytes", "2048", "file.delete.delay.ms", "0"));
        for (int i = 0; i < 50; i++) {
            appended(log.appendAsLeader(batch(4, 20, time.milliseconds()), 0));
        }
        log.deleteRecordsBefore(101, 150);
        assertEquals(101, log.logStartOffset());
        assertTrue(log.segmentBaseOffsets().get(0) <= 101);
        assertInstanceOf(ReadResult.OffsetOutOfRange.class, log.read(100, 100, Long.MAX_VALUE, true));
        assertInstanceOf(ReadResult.Slice.class, log.read(101, 100, Long.MAX_VALUE, true));
        assertThrows(IllegalArgumentException.class, () -> log.deleteRecordsBefore(190, 150));
    }

    @Test
    void cleanCloseAndReopenKeepsEverythingWithoutRecovery() throws Exception {
        LogConfig cfg = config("segment.bytes", "4096", "index.interval.bytes", "256");
        PartitionLog log = open(cfg);
        for (int i = 0; i < 100; i++) {
            appended(log.appendAsLeader(batch(3, 30, i), i / 10));
        }
        List<RecordBatch> before = readAll(log);
        List<long[]> epochs = log.epochEntries();
        int segments = log.segmentCount();
        log.close();
        opened.remove(log);
        assertTrue(Files.exists(root.resolve("topic-0").resolve(PartitionLog.CLEAN_SHUTDOWN_FILE)));

        PartitionLog reopened = open(cfg);
        assertFalse(Files.exists(root.resolve("topic-0").resolve(PartitionLog.CLEAN_SHUTDOWN_FILE)),
                "the marker is consumed, so a crash later is detected");
        assertEquals(300, reopened.logEndOffset());
        assertEquals(300, reopened.recoveryPoint());
        assertEquals(segments, reopened.segmentCount());
        assertEquals(before.stream().map(RecordBatch::buffer).toList(),
                readAll(reopened).stream().map(RecordBatch::buffer).toList());
        assertEquals(epochs.size(), reopened.epochEntries().size());
        assertEquals(new EpochEndOffset(4, 150), reopened.endOffsetForEpoch(4));
        appended(reopened.appendAsLeader(batch(1, 1, 1), 9));
        assertEquals(301, reopened.logEndOffset());
    }

    @Test
    void lostIndexFilesAreRebuilt() throws Exception {
        LogConfig cfg = config("segment.bytes", "4096", "index.interval.bytes", "256");
        PartitionLog log = open(cfg);
        for (int i = 0; i < 60; i++) {
            appended(log.appendAsLeader(batch(3, 30, i), 0));
        }
        log.close();
        opened.remove(log);
        try (var files = Files.list(root.resolve("topic-0"))) {
            for (Path f : files.toList()) {
                if (f.toString().endsWith(".index")) {
                    Files.write(f, new byte[] {1, 2, 3}); // not a multiple of 8: rejected, rebuilt
                } else if (f.toString().endsWith(".timeindex")) {
                    Files.delete(f);
                }
            }
        }
        PartitionLog reopened = open(cfg);
        assertEquals(180, reopened.logEndOffset());
        for (long offset = 0; offset < 180; offset += 7) {
            RecordBatch b = RecordBatch.readFrom(((ReadResult.Slice) reopened.read(offset, 1, Long.MAX_VALUE, true))
                    .records().read());
            assertTrue(b.baseOffset() <= offset && offset <= b.lastOffset());
        }
        // Batch i holds timestamps i, i+1, i+2: the first record at 10 is batch 8's last (offset 26).
        assertEquals(26, reopened.offsetForTimestamp(10, Long.MAX_VALUE).offset());
    }

    @Test
    void logAppendTimeStampsTheLeadersClock() throws Exception {
        PartitionLog log = open(config("message.timestamp.type", "LogAppendTime"));
        AppendResult.Appended a = appended(log.appendAsLeader(batch(CompressionType.LZ4, 3, 10, 5), 0));
        assertEquals(time.milliseconds(), a.logAppendTimeMs());
        RecordBatch stored = readAll(log).get(0);
        stored.ensureValid();
        assertEquals(TimestampType.LOG_APPEND_TIME, stored.timestampType());
        stored.records().forEach(r -> assertEquals(time.milliseconds(), r.timestamp()));
    }

    @Test
    void anIoErrorTakesTheLogOfflineLoudly() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        appended(log.appendAsLeader(batch(2, 10, 1), 0));
        env.failWrites.set(true);
        AppendResult.Rejected rejected = rejected(log.appendAsLeader(batch(2, 10, 1), 0));
        assertEquals(ErrorCode.STORAGE_ERROR, rejected.code());
        assertTrue(rejected.message().contains("injected write failure"), rejected.message());
        assertEquals(1, env.offline.size());
        assertTrue(log.isOffline());
        env.failWrites.set(false);
        assertEquals(ErrorCode.STORAGE_ERROR, rejected(log.appendAsLeader(batch(2, 10, 1), 0)).code(),
                "offline for good, even once the disk answers again");
        assertInstanceOf(ReadResult.Offline.class, log.read(0, 100, Long.MAX_VALUE, true));
        assertThrows(java.io.IOException.class, () -> log.truncateTo(0));
    }

    @Test
    void aFailedFsyncFailsTheWaitingAppendsAndTakesTheLogOffline() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        env.failForces.set(true);
        AppendResult.Appended a = appended(log.appendAsLeader(batch(2, 10, 1), 0));
        Exception e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> a.durable().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("injected fsync failure"), e.getCause().toString());
        assertTrue(log.isOffline());
        assertEquals(1, env.offline.size());
    }
}
