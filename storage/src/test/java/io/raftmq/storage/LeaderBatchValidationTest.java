package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a leader refuses from producers beyond the CRC: compressed batches that do not decompress,
 * decompress past the bound, or whose records disagree with the header; timestamps outside
 * message.timestamp.before/after.max.ms. Every refusal writes nothing.
 */
@Timeout(60)
class LeaderBatchValidationTest {
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
            log.close();
        }
        env.close();
    }

    private PartitionLog open(LogConfig config) throws Exception {
        PartitionLog log = PartitionLog.open(root.resolve("topic-" + opened.size()), config, env.environment);
        opened.add(log);
        return log;
    }

    /** Appends {@code batch}, expects {@code code} with {@code text} in the message, and nothing written. */
    private static void refused(PartitionLog log, ByteBuffer batch, ErrorCode code, String text) {
        long end = log.logEndOffset();
        long size = log.sizeInBytes();
        AppendResult result = log.appendAsLeader(batch, 0);
        AppendResult.Rejected rejected = assertInstanceOf(AppendResult.Rejected.class, result, result::toString);
        assertEquals(code, rejected.code(), rejected.message());
        assertTrue(rejected.message().contains(text), rejected.message());
        assertEquals(end, log.logEndOffset());
        assertEquals(size, log.sizeInBytes());
    }

    private static void accepted(PartitionLog log, ByteBuffer batch) {
        AppendResult result = log.appendAsLeader(batch, 0);
        assertInstanceOf(AppendResult.Appended.class, result, result::toString);
    }

    // ---- hand-made batches: the CRC is always right, the contents are not ----

    /** One record as Kafka encodes it: null key, the value, no headers. */
    private static void record(ByteArrayOutputStream out, long timestampDelta, int offsetDelta, byte[] value) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0); // attributes
        varlong(body, timestampDelta);
        varlong(body, offsetDelta);
        varlong(body, -1); // null key
        varlong(body, value.length);
        body.writeBytes(value);
        varlong(body, 0); // no headers
        varlong(out, body.size());
        out.writeBytes(body.toByteArray());
    }

    private static void varlong(ByteArrayOutputStream out, long value) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** A gzip batch (or uncompressed, when {@code gzip} is false) around {@code payload} with these header fields. */
    private static ByteBuffer batch(boolean gzip, byte[] payload, int count, long baseTimestamp, long maxTimestamp) {
        ByteBuffer b = ByteBuffer.allocate(RecordBatch.RECORDS_OFFSET + payload.length);
        b.putLong(RecordBatch.BASE_OFFSET_OFFSET, 0);
        b.putInt(RecordBatch.LENGTH_OFFSET, b.capacity() - RecordBatch.LOG_OVERHEAD);
        b.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, -1);
        b.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (gzip ? CompressionType.GZIP.id : 0));
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        b.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        b.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        b.putLong(RecordBatch.PRODUCER_ID_OFFSET, -1);
        b.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, (short) -1);
        b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, -1);
        b.putInt(RecordBatch.RECORD_COUNT_OFFSET, count);
        b.put(RecordBatch.RECORDS_OFFSET, payload);
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(RecordBatch.ATTRIBUTES_OFFSET));
        b.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
        return b;
    }

    private static byte[] records(int[] offsetDeltas, long[] timestampDeltas) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < offsetDeltas.length; i++) {
            record(out, timestampDeltas[i], offsetDeltas[i], ("v" + i).getBytes());
        }
        return out.toByteArray();
    }

    private long now() {
        return time.milliseconds();
    }

    @Test
    void wellFormedBatchesOfEveryCodecAreAccepted() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        for (CompressionType codec : CompressionType.values()) {
            RecordBatchBuilder b = new RecordBatchBuilder(codec, 256);
            for (int i = 0; i < 20; i++) {
                b.append(now() + i, ("k" + i).getBytes(), ("value " + i).getBytes());
            }
            accepted(log, b.build());
        }
        accepted(log, batch(true, gzip(records(new int[] {0, 1, 2}, new long[] {0, 5, 3})), 3, now(), now() + 5));
        assertEquals(5 * 20 + 3, log.logEndOffset());
    }

    @Test
    void aCompressedBatchThatDoesNotDecompressIsRefused() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        accepted(log, batch(true, gzip(records(new int[] {0}, new long[] {0})), 1, now(), now()));
        byte[] garbage = "this is not gzip at all, though the CRC covers it".getBytes();
        refused(log, batch(true, garbage, 1, now(), now()), ErrorCode.INVALID_RECORD, "gzip");
        byte[] cut = gzip(records(new int[] {0, 1}, new long[] {0, 0}));
        byte[] truncated = java.util.Arrays.copyOf(cut, cut.length - 6);
        refused(log, batch(true, truncated, 2, now(), now()), ErrorCode.INVALID_RECORD, "batch 0");
    }

    @Test
    void aCompressedBatchThatLiesAboutItsRecordsIsRefused() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        byte[] three = records(new int[] {0, 1, 2}, new long[] {0, 0, 0});
        refused(log, batch(true, gzip(three), 4, now(), now()), ErrorCode.INVALID_RECORD,
                "declares 4 records but holds 3");
        refused(log, batch(true, gzip(three), 2, now(), now()), ErrorCode.INVALID_RECORD,
                "declares 2 records but");
        refused(log, batch(true, gzip(records(new int[] {0, 2, 1}, new long[] {0, 0, 0})), 3, now(), now()),
                ErrorCode.INVALID_RECORD, "record 1 of the batch at offset 0 has offset delta 2");
        // A record whose value runs past its declared length.
        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        record(bad, 0, 0, "abc".getBytes());
        byte[] bytes = bad.toByteArray();
        bytes[0] = (byte) ((bytes[0] & 0xff) - 2); // declared length 2 bytes short (zig-zag: 1 less)
        refused(log, batch(true, gzip(bytes), 1, now(), now()), ErrorCode.INVALID_RECORD, "record 0");
        // The header's max timestamp is not the records' (retention would trust it).
        refused(log, batch(true, gzip(three), 3, now(), now() + 365L * 24 * 3600_000), ErrorCode.INVALID_RECORD,
                "declares max timestamp");
        refused(log, batch(false, three, 3, now(), now() + 1), ErrorCode.INVALID_RECORD, "declares max timestamp");
        assertEquals(0, log.logEndOffset());
    }

    @Test
    void decompressionStopsAtTheBound() throws Exception {
        PartitionLog log = open(config("max.uncompressed.batch.bytes", Integer.toString(1 << 20)));
        // 1000 records of 4 KiB zeros: 4 MiB decompressed, a few KiB compressed.
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            record(raw, 0, i, new byte[4096]);
        }
        byte[] compressed = gzip(raw.toByteArray());
        assertTrue(compressed.length < 64 << 10, "a small batch: " + compressed.length);
        refused(log, batch(true, compressed, 1000, now(), now()), ErrorCode.RECORD_TOO_LARGE,
                "decompress to more than 1048576 bytes");
        // Under the bound the same records pass.
        PartitionLog roomy = open(config("max.uncompressed.batch.bytes", Integer.toString(8 << 20)));
        accepted(roomy, batch(true, compressed, 1000, now(), now()));
    }

    @Test
    void timestampsTooFarAheadAreRefusedByDefault() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        long hour = 3600_000L;
        refused(log, batch(true, gzip(records(new int[] {0, 1}, new long[] {0, 2 * hour})), 2, now(), now() + 2 * hour),
                ErrorCode.INVALID_TIMESTAMP, "message.timestamp.after.max.ms is 3600000");
        refused(log, batch(false, records(new int[] {0}, new long[] {0}), 1, Long.MAX_VALUE, Long.MAX_VALUE),
                ErrorCode.INVALID_TIMESTAMP, "ahead of the leader's clock");
        accepted(log, batch(false, records(new int[] {0}, new long[] {0}), 1, now() + hour, now() + hour));
        // Before: no bound by default (Kafka's), and a record without a timestamp always passes.
        accepted(log, batch(false, records(new int[] {0}, new long[] {0}), 1, 0, 0));
        accepted(log, batch(false, records(new int[] {0}, new long[] {0}), 1, Long.MIN_VALUE + 1, Long.MIN_VALUE + 1));
        accepted(log, batch(false, records(new int[] {0}, new long[] {0}), 1, -1, -1));
    }

    @Test
    void topicBoundsOnTimestampsApplyToCreateTimeOnly() throws Exception {
        PartitionLog log = open(config("message.timestamp.after.max.ms", "1000",
                "message.timestamp.before.max.ms", "60000"));
        refused(log, batch(false, records(new int[] {0}, new long[] {0}), 1, now() + 1001, now() + 1001),
                ErrorCode.INVALID_TIMESTAMP, "1001 ms ahead");
        refused(log, batch(false, records(new int[] {0, 1}, new long[] {0, 60_001}), 2, now() - 60_001, now()),
                ErrorCode.INVALID_TIMESTAMP, "60001 ms behind the leader's clock");
        accepted(log, batch(false, records(new int[] {0, 1}, new long[] {0, 61_000}), 2, now() - 60_000,
                now() + 1000));
        accepted(log, batch(false, records(new int[] {0}, new long[] {0}), 1, -1, -1));

        PartitionLog appendTime = open(config("message.timestamp.type", "logappendtime",
                "message.timestamp.after.max.ms", "1000"));
        accepted(appendTime, batch(false, records(new int[] {0}, new long[] {0}), 1, now() + 3600_000,
                now() + 3600_000));
    }
}
