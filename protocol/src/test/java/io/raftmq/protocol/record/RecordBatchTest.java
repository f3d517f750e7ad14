package io.raftmq.protocol.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RecordBatchTest {

    @Test
    void varintsMatchKafkasEncoding() {
        Random random = new Random(5);
        ByteBuffer ours = ByteBuffer.allocate(16);
        ByteBuffer kafka = ByteBuffer.allocate(16);
        long[] fixed = {0, 1, -1, 63, 64, -64, -65, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE,
            Long.MIN_VALUE};
        for (int i = 0; i < 10_000; i++) {
            long v = i < fixed.length ? fixed[i] : random.nextLong() >> random.nextInt(64);
            ours.clear();
            kafka.clear();
            ByteUtils.writeVarlong(v, ours);
            org.apache.kafka.common.utils.internals.ByteUtils.writeVarlong(v, kafka);
            assertEquals(kafka.flip(), ours.flip(), "varlong " + v);
            assertEquals(ours.remaining(), ByteUtils.sizeOfVarlong(v));
            assertEquals(v, RecordReader.of(ours.duplicate()).readVarlong());
            int iv = (int) v;
            ours.clear();
            kafka.clear();
            ByteUtils.writeVarint(iv, ours);
            org.apache.kafka.common.utils.internals.ByteUtils.writeVarint(iv, kafka);
            assertEquals(kafka.flip(), ours.flip(), "varint " + iv);
            assertEquals(ours.remaining(), ByteUtils.sizeOfVarint(iv));
            assertEquals(iv, RecordReader.of(ours.duplicate()).readVarint());
        }
        assertThrows(CorruptRecordException.class, () -> RecordReader.of(ByteBuffer.wrap(new byte[] {
            (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1})).readVarint());
        byte[] elevenBytes = new byte[11];
        java.util.Arrays.fill(elevenBytes, (byte) 0xff);
        assertThrows(CorruptRecordException.class, () -> RecordReader.of(ByteBuffer.wrap(elevenBytes)).readVarlong());
        assertThrows(CorruptRecordException.class, () -> RecordReader.of(ByteBuffer.wrap(new byte[] {
            (byte) 0x80})).readVarint(), "a varint cut off by the end");
    }

    /** {@code bytes} with the CRC of what they now hold, so that only the record checks can object. */
    private static ByteBuffer withRecomputedCrc(ByteBuffer bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes.duplicate().position(RecordBatch.ATTRIBUTES_OFFSET));
        bytes.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
        return bytes;
    }

    private static ByteBuffer batch(CompressionType compression, int records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, 128);
        for (int i = 0; i < records; i++) {
            builder.append(1000 + i, ("k" + i).getBytes(), ("value-" + i).getBytes());
        }
        return builder.build();
    }

    @Test
    void everyFlippedByteIsCaughtByTheCrcOrTheHeaderChecks() {
        ByteBuffer good = batch(CompressionType.NONE, 10);
        for (int i = RecordBatch.MAGIC_OFFSET; i < good.limit(); i++) {
            ByteBuffer bad = ByteBuffer.allocate(good.limit()).put(good.duplicate()).flip();
            bad.put(i, (byte) (bad.get(i) ^ 0x5a));
            RecordBatch batch = RecordBatch.readFrom(bad);
            assertFalse(batch.isValid(), "flipping byte " + i + " went unnoticed");
        }
        // Base offset and leader epoch are outside the CRC by design.
        RecordBatch batch = RecordBatch.readFrom(good);
        batch.setBaseOffset(5);
        assertTrue(batch.isValid());
    }

    @Test
    void truncatedOrMislabelledBatchesAreRefusedWithTheReason() {
        ByteBuffer good = batch(CompressionType.LZ4, 10);
        CorruptRecordException shortBuffer = assertThrows(CorruptRecordException.class,
                () -> RecordBatch.readFrom(good.duplicate().limit(good.limit() - 1)));
        assertTrue(shortBuffer.getMessage().contains("only"), shortBuffer.getMessage());
        assertThrows(CorruptRecordException.class, () -> RecordBatch.readFrom(good.duplicate().limit(8)));
        ByteBuffer wrongMagic = ByteBuffer.allocate(good.limit()).put(good.duplicate()).flip();
        wrongMagic.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        CorruptRecordException magic = assertThrows(CorruptRecordException.class,
                () -> RecordBatch.readFrom(wrongMagic).ensureValid());
        assertTrue(magic.getMessage().contains("magic 1"), magic.getMessage());
    }

    @Test
    void recordsStructureIsCheckedWithoutAllocating() {
        ByteBuffer good = batch(CompressionType.NONE, 50);
        RecordBatch.readFrom(good).ensureRecordsWellFormed();
        // A record count that disagrees with the records present, with a recomputed CRC.
        ByteBuffer bad = ByteBuffer.allocate(good.limit()).put(good.duplicate()).flip();
        bad.putInt(RecordBatch.RECORD_COUNT_OFFSET, 49);
        bad.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 48);
        RecordBatch batch = RecordBatch.readFrom(withRecomputedCrc(bad));
        batch.ensureValid();
        CorruptRecordException e = assertThrows(CorruptRecordException.class, batch::ensureRecordsWellFormed);
        assertTrue(e.getMessage().contains("after its 49 records"), e.getMessage());
    }

    @Test
    void recordsAreReadFromReadOnlyDirectAndOffsetBuffers() {
        ByteBuffer good = batch(CompressionType.NONE, 5);
        byte[] larger = new byte[good.limit() + 17];
        good.duplicate().get(larger, 7, good.limit());
        ByteBuffer atOffset = ByteBuffer.wrap(larger, 7, good.limit()).slice();
        ByteBuffer direct = ByteBuffer.allocateDirect(good.limit()).put(good.duplicate()).flip();
        for (ByteBuffer bytes : List.of(good.asReadOnlyBuffer(), atOffset, direct)) {
            RecordBatch batch = RecordBatch.readFrom(bytes);
            batch.ensureRecordsWellFormed();
            List<Record> records = batch.records();
            assertEquals(5, records.size());
            assertEquals(1004, records.get(4).timestamp());
            ByteBuffer value = records.get(4).value();
            byte[] valueBytes = new byte[value.remaining()];
            value.duplicate().get(valueBytes);
            assertEquals("value-4", new String(valueBytes));
            List<String> keys = new java.util.ArrayList<>();
            batch.forEachRecordCopy((offset, timestamp, key, v, headers) -> keys.add(new String(key)));
            assertEquals(List.of("k0", "k1", "k2", "k3", "k4"), keys);
        }
    }

    @Test
    void aVarintRunningPastTheBatchIsACorruptRecord() {
        ByteBuffer good = batch(CompressionType.NONE, 3);
        ByteBuffer bad = ByteBuffer.allocate(good.limit()).put(good.duplicate()).flip();
        // The last record's header count (0) becomes a varint whose continuation bit runs off the end.
        bad.put(bad.limit() - 1, (byte) 0x80);
        RecordBatch batch = RecordBatch.readFrom(withRecomputedCrc(bad));
        batch.ensureValid();
        CorruptRecordException e = assertThrows(CorruptRecordException.class, batch::records);
        assertTrue(e.getMessage().contains("past the end of its batch"), e.getMessage());
        assertThrows(CorruptRecordException.class, () -> batch.forEachRecordCopy((o, t, k, v, h) -> { }));
    }

    @Test
    void severalBatchesInOneBuffer() {
        ByteBuffer a = batch(CompressionType.NONE, 3);
        ByteBuffer b = batch(CompressionType.ZSTD, 4);
        ByteBuffer both = ByteBuffer.allocate(a.limit() + b.limit()).put(a.duplicate()).put(b.duplicate()).flip();
        List<RecordBatch> batches = RecordBatch.readAll(both);
        assertEquals(2, batches.size());
        assertEquals(3, batches.get(0).recordCount());
        assertEquals(4, batches.get(1).records().size());
        assertEquals(a.limit(), RecordBatch.sizeOfBatchAt(both, 0));
        assertEquals(-1, RecordBatch.sizeOfBatchAt(both, both.limit() - 5));
    }

    @Test
    void aBatchBuiltInPlaceEqualsACopiedOneOnceStamped() {
        for (CompressionType compression : CompressionType.values()) {
            // 100 bytes of room: the records outgrow it and move; 64 KiB: they stay in place.
            for (int capacity : new int[] {100, 65_536}) {
                ByteBuffer pooled = ByteBuffer.allocate(capacity);
                pooled.put(0, (byte) 42); // left over from an earlier batch
                RecordBatchBuilder inPlace = RecordBatchBuilder.inPlace(compression, pooled, 300);
                RecordBatchBuilder copied = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0, 7L,
                        (short) 3, 11, RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP, 64);
                for (int i = 0; i < 20; i++) {
                    List<Header> headers = i % 3 == 0 ? List.of(new Header("h", new byte[] {(byte) i})) : List.of();
                    byte[] key = i % 2 == 0 ? null : ("k" + i).getBytes();
                    inPlace.append(1000 + i, key, ("value-" + i).getBytes(), headers);
                    copied.append(1000 + i, key, ("value-" + i).getBytes(), headers);
                }
                assertEquals(copied.estimatedSizeInBytes(), inPlace.estimatedSizeInBytes());
                ByteBuffer built = inPlace.build();
                assertEquals(0, built.position());
                RecordBatchBuilder.stampProducer(built, 7L, (short) 3, 11);
                assertEquals(copied.build(), built, compression + ", capacity " + capacity);
                if (compression == CompressionType.NONE && capacity == 65_536) {
                    assertTrue(built.array() == pooled.array(), "uncompressed records stay in the given buffer");
                }
                if (capacity == 100) {
                    // 100 -> 200 -> 300 (the limit) -> what the records need.
                    assertTrue(inPlace.buffer().capacity() >= 300 && inPlace.buffer() != pooled);
                }
                RecordBatch batch = RecordBatch.readFrom(built.duplicate());
                batch.ensureValid();
                assertEquals(7L, batch.producerId());
                assertEquals(11, batch.baseSequence());
                RecordBatchBuilder.stampProducer(built, 9L, (short) 0, 0);
                batch = RecordBatch.readFrom(built.duplicate());
                batch.ensureValid();
                assertEquals(9L, batch.producerId());
                assertEquals(20, batch.records().size());
            }
        }
    }

    @Test
    void readWholeStopsAtAPartialBatchAtTheEnd() {
        ByteBuffer first = batch(CompressionType.NONE, 3);
        ByteBuffer second = batch(CompressionType.NONE, 2);
        ByteBuffer both = ByteBuffer.allocate(first.remaining() + second.remaining()).put(first.duplicate())
                .put(second.duplicate()).flip();
        assertEquals(2, RecordBatch.readWhole(both).size());
        for (int cut : new int[] {1, RecordBatch.LOG_OVERHEAD, second.remaining() - 1}) {
            ByteBuffer partial = both.duplicate().limit(both.limit() - cut);
            assertEquals(1, RecordBatch.readWhole(partial).size(), "cut " + cut);
        }
        ByteBuffer tooShort = both.duplicate();
        tooShort.putInt(RecordBatch.LENGTH_OFFSET, 3);
        assertThrows(CorruptRecordException.class, () -> RecordBatch.readWhole(tooShort));
    }

    @Test
    void sequencesWrapAsKafkasDo() {
        assertEquals(5, RecordBatch.incrementSequence(2, 3));
        assertEquals(0, RecordBatch.incrementSequence(Integer.MAX_VALUE, 1));
        assertEquals(2, RecordBatch.incrementSequence(Integer.MAX_VALUE - 1, 4));
    }
}
