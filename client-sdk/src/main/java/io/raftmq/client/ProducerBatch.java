package io.raftmq.client;

import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Records for one partition that travel together as one RecordBatch v2.
 *
 * <p>A record is encoded into the batch's buffer (taken from the {@link BufferPool}) when it is
 * appended, as Kafka's producer does; the batch keeps per record only what its acknowledgement
 * needs (future, callback, timestamp, key and value sizes), in arrays, so a queue of
 * buffer.memory worth of records is a few objects per batch for the garbage collector, not several
 * per record.
 *
 * <p>States: OPEN (records are appended, under the accumulator's lock for the partition's deque)
 * -> CLOSED (drained by the sender; the header is written once, so a retry re-sends the same bytes;
 * a new producer id re-stamps it) -> in flight / re-queued for retry -> DONE (every future
 * completed, exactly once; the buffer goes back to the pool). Appends happen under the deque's lock;
 * everything after draining happens on the sender thread; {@link #await} may be called from any
 * thread.
 */
final class ProducerBatch {
    /** One record to append and who waits for it (not kept: the batch encodes it at once). */
    record PendingRecord(long timestamp, byte[] key, byte[] value, List<io.raftmq.protocol.record.Header> headers,
            Callback callback, CompletableFuture<RecordMetadata> future) {}

    /**
     * Bytes a record adds to a batch besides key, value and headers (varint lengths, deltas): an
     * estimate, as Kafka's; a batch whose records outgrow its buffer moves them to a bigger one.
     */
    static final int RECORD_OVERHEAD = 21;

    final TopicPartition tp;
    final long createdMs;
    private final CountDownLatch done = new CountDownLatch(1);
    private final ByteBuffer pooled;
    private final RecordBatchBuilder builder;
    // Per record, index = offset delta; written under the deque's lock while OPEN, read by the sender after.
    private int count;
    private CompletableFuture<?>[] futures;
    private Callback[] callbacks;
    private long[] timestamps;
    private int[] keySizes;
    private int[] valueSizes;
    private int estimatedBytes = RecordBatch.RECORD_BATCH_OVERHEAD;
    private long reservedBytes;
    private boolean closed;

    // Sender-thread state.
    private ByteBuffer built;
    private boolean stamped;
    private long builtProducerId = RecordBatch.NO_PRODUCER_ID;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private boolean bufferReturned;
    int attempts;
    /** The order in which the sender first sent this batch among all batches, or -1 (sender thread). */
    long sendOrder = -1;
    long retryAfterMs;
    boolean everSent;
    /** The sequence the leader expected when this batch was last sent (idempotence only). */
    int expectedAtSend = -1;
    private boolean completed;

    /**
     * @param buffer from {@link BufferPool#takeBuffer}, at least {@link #bufferSizeFor} the first
     *     record; the batch writes its records into it, then into bigger ones up to {@code batchSize}
     *     as it fills, and gives them back with {@link #returnBuffers}
     * @param expectedRecords how many records are likely to fit (sizes the per-record arrays, up to 64)
     */
    ProducerBatch(TopicPartition tp, long createdMs, CompressionType compression, ByteBuffer buffer,
            int batchSize, int expectedRecords) {
        this.tp = tp;
        this.createdMs = createdMs;
        this.pooled = buffer;
        this.builder = RecordBatchBuilder.inPlace(compression, buffer, batchSize);
        // Grown by doubling: a batch that carries one record (light traffic, many partitions) does
        // not hold arrays sized for a full one.
        int capacity = Math.max(1, Math.min(expectedRecords, 64));
        this.futures = new CompletableFuture<?>[capacity];
        this.timestamps = new long[capacity];
        this.keySizes = new int[capacity];
        this.valueSizes = new int[capacity];
    }

    /** The buffer a batch needs for a first record of {@code size} bytes (see {@link #sizeOf}). */
    static int bufferSizeFor(int size) {
        return RecordBatch.RECORD_BATCH_OVERHEAD + size;
    }

    static int sizeOf(byte[] key, byte[] value, List<io.raftmq.protocol.record.Header> headers) {
        int size = RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (io.raftmq.protocol.record.Header h : headers) {
            size += 10 + h.key().length() * 3 + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /** Whether a record of {@code size} bytes fits: always for the first record, else within batchSize. */
    boolean hasRoomFor(int size, int batchSize) {
        return !closed && (count == 0 || estimatedBytes + size <= batchSize);
    }

    /** Encodes the record into the batch and keeps what its acknowledgement needs. */
    void append(PendingRecord record, int size) {
        builder.append(record.timestamp(), record.key(), record.value(), record.headers());
        if (count == futures.length) {
            int capacity = count * 2;
            futures = Arrays.copyOf(futures, capacity);
            timestamps = Arrays.copyOf(timestamps, capacity);
            keySizes = Arrays.copyOf(keySizes, capacity);
            valueSizes = Arrays.copyOf(valueSizes, capacity);
            if (callbacks != null) {
                callbacks = Arrays.copyOf(callbacks, capacity);
            }
        }
        futures[count] = record.future();
        if (record.callback() != null) {
            if (callbacks == null) {
                callbacks = new Callback[futures.length];
            }
            callbacks[count] = record.callback();
        }
        timestamps[count] = record.timestamp();
        keySizes[count] = record.key() == null ? -1 : record.key().length;
        valueSizes[count] = record.value() == null ? -1 : record.value().length;
        count++;
        estimatedBytes += size;
        reservedBytes += size;
    }

    boolean isFull(int batchSize) {
        return closed || estimatedBytes >= batchSize;
    }

    void close() {
        closed = true;
    }

    int recordCount() {
        return count;
    }

    int estimatedBytes() {
        return estimatedBytes;
    }

    long reservedBytes() {
        return reservedBytes;
    }

    boolean hasSequence() {
        return baseSequence != RecordBatch.NO_SEQUENCE;
    }

    int baseSequence() {
        return baseSequence;
    }

    int lastSequence() {
        return RecordBatch.incrementSequence(baseSequence, count - 1);
    }

    /** Forgets the sequence (after the producer id was reset); the next drain assigns a new one. */
    void clearSequence() {
        baseSequence = RecordBatch.NO_SEQUENCE;
        stamped = false;
    }

    /**
     * The batch's bytes with these producer fields: the header is written on the first call and the
     * bytes reused for retries; a new producer id (after a reset) re-stamps them in place.
     */
    ByteBuffer bytes(long producerId, short producerEpoch, int sequence) {
        if (built == null) {
            built = builder.build();
        }
        if (!stamped || builtProducerId != producerId) {
            baseSequence = sequence;
            builtProducerId = producerId;
            RecordBatchBuilder.stampProducer(built, producerId, producerEpoch, sequence);
            stamped = true;
        }
        return built.duplicate();
    }

    /** The bytes built by the last {@link #bytes} call. */
    ByteBuffer builtBytes() {
        if (built == null) {
            throw new IllegalStateException(this + " was not built");
        }
        return built.duplicate();
    }

    /**
     * The buffers the records were written to (the pool's, and the one they moved to if they outgrew
     * it), once, after the batch is done (its bytes are not used after that: a request copies them
     * when it is sent); empty before and on later calls.
     */
    List<ByteBuffer> returnBuffers() {
        if (bufferReturned || !isDone()) {
            return List.of();
        }
        bufferReturned = true;
        built = null;
        ByteBuffer last = builder.buffer();
        return last == pooled ? List.of(pooled) : List.of(pooled, last);
    }

    /** Completes every record's future and callback; returns false if the batch was already done. */
    boolean complete(long baseOffset, long logAppendTimeMs) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < count; i++) {
            long offset = baseOffset < 0 ? -1 : baseOffset + i;
            long ts = logAppendTimeMs >= 0 ? logAppendTimeMs : timestamps[i];
            RecordMetadata metadata = new RecordMetadata(tp, offset, ts, keySizes[i], valueSizes[i]);
            future(i).complete(metadata);
            if (callbacks != null && callbacks[i] != null) {
                try {
                    callbacks[i].onCompletion(metadata, null);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(ProducerBatch.class)
                            .error("a send callback for {} threw", tp, e);
                }
            }
        }
        done.countDown();
        return true;
    }

    boolean fail(RuntimeException exception) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < count; i++) {
            future(i).completeExceptionally(exception);
            if (callbacks != null && callbacks[i] != null) {
                try {
                    callbacks[i].onCompletion(null, exception);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(ProducerBatch.class)
                            .error("a send callback for {} threw", tp, e);
                }
            }
        }
        done.countDown();
        return true;
    }

    @SuppressWarnings("unchecked")
    private CompletableFuture<RecordMetadata> future(int i) {
        return (CompletableFuture<RecordMetadata>) futures[i];
    }

    boolean isDone() {
        return done.getCount() == 0;
    }

    boolean await(long timeoutMs) throws InterruptedException {
        return done.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public String toString() {
        return "batch(" + tp + ", " + count + " records, seq " + baseSequence + ", attempts " + attempts + ")";
    }
}
