package io.raftmq.protocol.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Our RecordBatch v2 bytes against Kafka's own record classes (kafka-clients 4.4, test scope):
 * batches we build are read by Kafka, batches Kafka builds are read by us, for every codec, with
 * null and empty keys and values, headers, and values large enough to span compression blocks.
 */
class KafkaCompatibilityTest {

    /** One record as a test describes it. */
    record Sample(long timestamp, byte[] key, byte[] value, List<Header> headers) {}

    static List<Sample> samples(long seed) {
        Random random = new Random(seed);
        List<Sample> out = new ArrayList<>();
        long now = 1_700_000_000_000L;
        out.add(new Sample(now, bytes("key-0"), bytes("value-0"), List.of()));
        out.add(new Sample(now + 5, null, bytes("no key"), List.of()));
        out.add(new Sample(now - 3, bytes("tombstone"), null, List.of()));
        out.add(new Sample(now + 9, new byte[0], new byte[0], List.of(new Header("h1", bytes("v1")),
                new Header("null-header", null), new Header("ünicode", new byte[] {1, 2, 3}))));
        byte[] large = new byte[200_000];
        random.nextBytes(large);
        out.add(new Sample(now + 11, bytes("large"), large, List.of()));
        for (int i = 0; i < 300; i++) {
            byte[] value = new byte[random.nextInt(200)];
            random.nextBytes(value);
            out.add(new Sample(now + random.nextInt(1000), bytes("k" + (i % 7)), value, List.of()));
        }
        return out;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static org.apache.kafka.common.record.internal.CompressionType kafkaType(CompressionType type) {
        return org.apache.kafka.common.record.internal.CompressionType.forId(type.id);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void batchesWeBuildAreReadByKafka(CompressionType compression) {
        List<Sample> samples = samples(1);
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 1000, 42L,
                (short) 7, 100, 5, RecordBatch.NO_TIMESTAMP, 1024);
        samples.forEach(s -> builder.append(s.timestamp(), wrap(s.key()), wrap(s.value()), s.headers()));
        ByteBuffer ours = builder.build();

        List<MutableRecordBatch> batches = new ArrayList<>();
        MemoryRecords.readableRecords(ours.duplicate()).batches().forEach(batches::add);
        assertEquals(1, batches.size());
        MutableRecordBatch kafka = batches.get(0);
        kafka.ensureValid();
        assertEquals(1000, kafka.baseOffset());
        assertEquals(1000 + samples.size() - 1, kafka.lastOffset());
        assertEquals(5, kafka.partitionLeaderEpoch());
        assertEquals(42L, kafka.producerId());
        assertEquals(7, kafka.producerEpoch());
        assertEquals(100, kafka.baseSequence());
        assertEquals(kafkaType(compression), kafka.compressionType());
        assertEquals(samples.stream().mapToLong(Sample::timestamp).max().orElseThrow(), kafka.maxTimestamp());
        int i = 0;
        for (org.apache.kafka.common.record.internal.Record record : kafka) {
            Sample expected = samples.get(i);
            assertEquals(1000 + i, record.offset());
            assertEquals(expected.timestamp(), record.timestamp());
            assertEquals(100 + i, record.sequence());
            assertArrayEquals(expected.key(), toBytes(record.key()), "key " + i);
            assertArrayEquals(expected.value(), toBytes(record.value()), "value " + i);
            assertEquals(expected.headers().size(), record.headers().length);
            for (int h = 0; h < expected.headers().size(); h++) {
                assertEquals(expected.headers().get(h).key(), record.headers()[h].key());
                assertArrayEquals(expected.headers().get(h).value(), record.headers()[h].value());
            }
            i++;
        }
        assertEquals(samples.size(), i);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void batchesKafkaBuildsAreReadByUs(CompressionType compression) {
        List<Sample> samples = samples(2);
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024), (byte) 2,
                Compression.of(kafkaType(compression)).build(),
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 77, RecordBatch.NO_TIMESTAMP, 9L,
                (short) 3, 50, false, 11);
        for (Sample s : samples) {
            builder.append(s.timestamp(), s.key(), s.value(), s.headers().stream()
                    .map(h -> new RecordHeader(h.key(), h.value()))
                    .toArray(org.apache.kafka.common.header.Header[]::new));
        }
        ByteBuffer kafka = builder.build().buffer();

        RecordBatch batch = RecordBatch.readFrom(kafka);
        assertEquals(kafka.remaining(), batch.sizeInBytes());
        batch.ensureValid();
        batch.ensureRecordsWellFormed();
        // What a leader checks of a producer's batch holds for Kafka's own: count, deltas, max timestamp.
        RecordBatch.RecordsSummary summary = batch.validateRecords(1 << 20);
        assertEquals(samples.stream().mapToLong(Sample::timestamp).max().orElseThrow(), summary.maxTimestamp());
        assertEquals(77, batch.baseOffset());
        assertEquals(11, batch.partitionLeaderEpoch());
        assertEquals(9L, batch.producerId());
        assertEquals(3, batch.producerEpoch());
        assertEquals(50, batch.baseSequence());
        assertEquals(compression, batch.compressionType());
        assertEquals(samples.size(), batch.recordCount());
        List<Record> records = batch.records();
        for (int i = 0; i < samples.size(); i++) {
            Sample expected = samples.get(i);
            Record record = records.get(i);
            assertEquals(77 + i, record.offset());
            assertEquals(expected.timestamp(), record.timestamp());
            assertEquals(50 + i, record.sequence());
            assertArrayEquals(expected.key(), record.keyBytes());
            assertArrayEquals(expected.value(), record.valueBytes());
            assertEquals(expected.headers(), record.headers());
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void offsetAndEpochStampedInPlaceKeepTheCrcValid(CompressionType compression) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, 256);
        samples(3).subList(0, 20).forEach(s -> builder.append(s.timestamp(), s.key(), s.value()));
        ByteBuffer bytes = builder.build();
        RecordBatch batch = RecordBatch.readFrom(bytes);
        long crc = batch.checksum();
        batch.setBaseOffset(123_456_789L);
        batch.setPartitionLeaderEpoch(17);
        assertEquals(crc, batch.checksum());
        batch.ensureValid();
        MutableRecordBatch kafka = MemoryRecords.readableRecords(bytes.duplicate()).batches().iterator().next();
        kafka.ensureValid();
        assertEquals(123_456_789L, kafka.baseOffset());
        assertEquals(17, kafka.partitionLeaderEpoch());

        batch.setLogAppendTime(1_800_000_000_000L);
        batch.ensureValid();
        kafka = MemoryRecords.readableRecords(bytes.duplicate()).batches().iterator().next();
        kafka.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        for (org.apache.kafka.common.record.internal.Record record : kafka) {
            assertEquals(1_800_000_000_000L, record.timestamp());
        }
        batch.records().forEach(r -> assertEquals(1_800_000_000_000L, r.timestamp()));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void nullAndEmptyAreDistinct(CompressionType compression) {
        ByteBuffer bytes = new RecordBatchBuilder(compression, 64)
                .append(1, null, new byte[0])
                .append(2, new byte[0], null)
                .build();
        List<Record> records = RecordBatch.readFrom(bytes).records();
        assertNull(records.get(0).key());
        assertEquals(0, records.get(0).value().remaining());
        assertEquals(0, records.get(1).key().remaining());
        assertNull(records.get(1).value());
        assertTrue(RecordBatch.readFrom(bytes).isValid());
    }

    private static ByteBuffer wrap(byte[] bytes) {
        return bytes == null ? null : ByteBuffer.wrap(bytes);
    }

    private static byte[] toBytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
