package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.Header;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ProducerBatchTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    private static ProducerBatch.PendingRecord record(int i, List<RecordMetadata> acked) {
        byte[] key = i % 2 == 0 ? null : ("key-" + i).getBytes();
        List<Header> headers = i % 3 == 0 ? List.of(new Header("h" + i, new byte[] {(byte) i})) : List.of();
        Callback callback = i % 4 == 0 ? null : (metadata, e) -> acked.add(metadata);
        return new ProducerBatch.PendingRecord(1_000 + i, key, ("value-" + i).getBytes(), headers, callback,
                new CompletableFuture<>());
    }

    @Test
    void recordsAreEncodedWhenAppendedAndAcknowledgedFromWhatTheBatchKept() throws Exception {
        for (CompressionType compression : List.of(CompressionType.NONE, CompressionType.GZIP)) {
            // A small buffer: the 300 records outgrow it (and the per-record arrays their first size).
            ProducerBatch batch = new ProducerBatch(TP, 0, compression, ByteBuffer.allocate(256), 16_384, 2);
            List<ProducerBatch.PendingRecord> sent = new ArrayList<>();
            List<RecordMetadata> acked = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                ProducerBatch.PendingRecord r = record(i, acked);
                batch.append(r, ProducerBatch.sizeOf(r.key(), r.value(), r.headers()));
                sent.add(r);
            }
            batch.close();
            RecordBatch decoded = RecordBatch.readFrom(batch.bytes(RecordBatch.NO_PRODUCER_ID,
                    RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE));
            decoded.ensureValid();
            assertEquals(compression, decoded.compressionType());
            List<Record> records = decoded.records();
            assertEquals(300, records.size());
            for (int i = 0; i < 300; i++) {
                ProducerBatch.PendingRecord r = sent.get(i);
                Record read = records.get(i);
                assertEquals(r.timestamp(), read.timestamp());
                assertEquals(r.key() == null, read.key() == null);
                assertEquals(ByteBuffer.wrap(r.value()), read.value());
                assertEquals(r.headers().size(), read.headers().size());
                for (int h = 0; h < r.headers().size(); h++) {
                    assertEquals(r.headers().get(h).key(), read.headers().get(h).key());
                    assertArrayEquals(r.headers().get(h).value(), read.headers().get(h).value());
                }
            }
            assertTrue(batch.complete(500, -1));
            assertFalse(batch.complete(600, -1), "completed once");
            for (int i = 0; i < 300; i++) {
                ProducerBatch.PendingRecord r = sent.get(i);
                RecordMetadata m = r.future().get();
                assertEquals(500 + i, m.offset());
                assertEquals(r.timestamp(), m.timestamp());
                assertEquals(r.key() == null ? -1 : r.key().length, m.serializedKeySize());
                assertEquals(r.value().length, m.serializedValueSize());
            }
            assertEquals(300 - 75, acked.size(), "every callback given, once");
        }
    }

    @Test
    void aNewProducerIdReStampsTheSameRecords() {
        ProducerBatch batch = new ProducerBatch(TP, 0, CompressionType.NONE, ByteBuffer.allocate(16_384), 16_384, 10);
        for (int i = 0; i < 10; i++) {
            ProducerBatch.PendingRecord r = record(i, new ArrayList<>());
            batch.append(r, ProducerBatch.sizeOf(r.key(), r.value(), r.headers()));
        }
        batch.close();
        RecordBatch first = RecordBatch.readFrom(batch.bytes(7, (short) 1, 40));
        first.ensureValid();
        assertEquals(40, batch.baseSequence());
        byte[] records = new byte[first.sizeInBytes() - RecordBatch.RECORDS_OFFSET];
        batch.builtBytes().position(RecordBatch.RECORDS_OFFSET).get(records);

        assertEquals(7, RecordBatch.readFrom(batch.bytes(7, (short) 1, 99)).producerId(), "a retry re-sends as built");
        assertEquals(40, batch.baseSequence());
        batch.clearSequence();
        assertFalse(batch.hasSequence());
        RecordBatch restamped = RecordBatch.readFrom(batch.bytes(8, (short) 0, 0));
        restamped.ensureValid();
        assertEquals(8, restamped.producerId());
        assertEquals(0, restamped.producerEpoch());
        assertEquals(0, restamped.baseSequence());
        assertEquals(9, batch.lastSequence());
        byte[] after = new byte[records.length];
        batch.builtBytes().position(RecordBatch.RECORDS_OFFSET).get(after);
        assertArrayEquals(records, after);
    }

    @Test
    void theBufferGoesBackOnceTheBatchIsDoneAndOnlyOnce() {
        ByteBuffer buffer = ByteBuffer.allocate(16_384);
        ProducerBatch batch = new ProducerBatch(TP, 0, CompressionType.NONE, buffer, 16_384, 10);
        ProducerBatch.PendingRecord r = record(1, new ArrayList<>());
        batch.append(r, ProducerBatch.sizeOf(r.key(), r.value(), r.headers()));
        batch.close();
        batch.bytes(RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE);
        assertEquals(List.of(), batch.returnBuffers(), "not while the batch may still be sent");
        batch.fail(new TimeoutException("expired"));
        assertTrue(r.future().isCompletedExceptionally());
        List<ByteBuffer> back = batch.returnBuffers();
        assertEquals(1, back.size());
        assertSame(buffer, back.get(0));
        assertEquals(List.of(), batch.returnBuffers(), "once");
    }

    @Test
    void aFillingBatchMovesToBiggerBuffersUpToBatchSizeAndReturnsBoth() {
        BufferPool pool = new BufferPool(1 << 20, 65_536);
        ByteBuffer first = pool.takeBuffer(ProducerBatch.bufferSizeFor(150));
        assertEquals(BufferPool.FIRST_BUFFER_BYTES, first.capacity());
        ProducerBatch batch = new ProducerBatch(TP, 0, CompressionType.NONE, first, 65_536, 10);
        int records = 0;
        while (batch.hasRoomFor(150, 65_536)) {
            ProducerBatch.PendingRecord r = new ProducerBatch.PendingRecord(records, null, new byte[129], List.of(),
                    null, new CompletableFuture<>());
            batch.append(r, ProducerBatch.sizeOf(r.key(), r.value(), r.headers()));
            records++;
        }
        batch.close();
        RecordBatch built = RecordBatch.readFrom(batch.bytes(RecordBatch.NO_PRODUCER_ID,
                RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE));
        built.ensureValid();
        assertEquals(records, built.records().size());
        assertTrue(built.sizeInBytes() <= 65_536);
        batch.complete(0, -1);
        List<ByteBuffer> back = batch.returnBuffers();
        assertSame(first, back.get(0));
        assertEquals(65_536, back.get(1).capacity(), "16 -> 32 -> 64 KiB, not past batch.size");
        back.forEach(pool::giveBuffer);
        assertSame(back.get(1), pool.takeBuffer(100), "a free full-size buffer first");
        assertSame(first, pool.takeBuffer(100));
        assertEquals(20_000, pool.takeBuffer(20_000).capacity());
    }

    @Test
    void thePoolReusesBatchSizeBuffersUpToBufferMemory() {
        BufferPool pool = new BufferPool(3 * 1024, 1024);
        ByteBuffer a = pool.takeBuffer(100);
        assertEquals(1024, a.capacity());
        a.position(500);
        pool.giveBuffer(a);
        ByteBuffer again = pool.takeBuffer(1024);
        assertSame(a, again);
        assertEquals(0, again.position());
        ByteBuffer large = pool.takeBuffer(5000);
        assertEquals(5000, large.capacity());
        pool.giveBuffer(large); // not kept: only batch.size buffers are
        assertEquals(1024, pool.takeBuffer(10).capacity());
        List<ByteBuffer> many = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            many.add(pool.takeBuffer(10));
        }
        many.forEach(pool::giveBuffer);
        int reused = 0;
        for (int i = 0; i < 5; i++) {
            ByteBuffer b = pool.takeBuffer(10);
            if (many.stream().anyMatch(m -> m == b)) {
                reused++;
            }
        }
        assertEquals(3, reused, "at most buffer.memory of free buffers kept");
    }
}
