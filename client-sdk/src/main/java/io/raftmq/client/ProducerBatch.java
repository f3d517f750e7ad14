package io.raftmq.client;

import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Records for one partition that travel together as one RecordBatch v2.
 *
 * <p>States: OPEN (records are appended, under the accumulator's lock for the partition's deque)
 * -> CLOSED (drained by the sender; the sequence is assigned and the bytes built once, so a retry
 * re-sends the same bytes) -> in flight / re-queued for retry -> DONE (every future completed,
 * exactly once). Appends happen under the deque's lock; everything after draining happens on the
 * sender thread; {@link #await} may be called from any thread.
 */
final class ProducerBatch {
    /** One appended record and who waits for it. */
    record PendingRecord(long timestamp, byte[] key, byte[] value, List<io.raftmq.protocol.record.Header> headers,
            Callback callback, CompletableFuture<RecordMetadata> future) {}

    /** Bytes a record adds to a batch at most, besides key, value and headers (varint lengths, deltas). */
    static final int RECORD_OVERHEAD = 21;

    final TopicPartition tp;
    final long createdMs;
    private final List<PendingRecord> records = new ArrayList<>();
    private final CountDownLatch done = new CountDownLatch(1);
    private int estimatedBytes = RecordBatch.RECORD_BATCH_OVERHEAD;
    private long reservedBytes;
    private boolean closed;

    // Sender-thread state.
    private ByteBuffer built;
    private long builtProducerId = RecordBatch.NO_PRODUCER_ID;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    int attempts;
    /** The order in which the sender first sent this batch among all batches, or -1 (sender thread). */
    long sendOrder = -1;
    long retryAfterMs;
    boolean everSent;
    /** The sequence the leader expected when this batch was last sent (idempotence only). */
    int expectedAtSend = -1;
    private boolean completed;

    ProducerBatch(TopicPartition tp, long createdMs) {
        this.tp = tp;
        this.createdMs = createdMs;
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
        return !closed && (records.isEmpty() || estimatedBytes + size <= batchSize);
    }

    void append(PendingRecord record, int size) {
        records.add(record);
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
        return records.size();
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
        return RecordBatch.incrementSequence(baseSequence, records.size() - 1);
    }

    /** Forgets the sequence (after the producer id was reset); the next drain assigns a new one. */
    void clearSequence() {
        baseSequence = RecordBatch.NO_SEQUENCE;
        built = null;
    }

    /** The batch's bytes; built on first call with these producer fields, reused for retries. */
    ByteBuffer bytes(CompressionType compression, long producerId, short producerEpoch, int sequence) {
        if (built == null || builtProducerId != producerId) {
            baseSequence = sequence;
            builtProducerId = producerId;
            RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0,
                    producerId, producerEpoch, sequence, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                    RecordBatch.NO_TIMESTAMP, estimatedBytes);
            for (PendingRecord r : records) {
                builder.append(r.timestamp(), r.key() == null ? null : ByteBuffer.wrap(r.key()),
                        r.value() == null ? null : ByteBuffer.wrap(r.value()), r.headers());
            }
            built = builder.build();
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

    /** Completes every record's future and callback; returns false if the batch was already done. */
    boolean complete(long baseOffset, long logAppendTimeMs) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < records.size(); i++) {
            PendingRecord r = records.get(i);
            long offset = baseOffset < 0 ? -1 : baseOffset + i;
            long ts = logAppendTimeMs >= 0 ? logAppendTimeMs : r.timestamp();
            RecordMetadata metadata = new RecordMetadata(tp, offset, ts, r.key() == null ? -1 : r.key().length,
                    r.value() == null ? -1 : r.value().length);
            r.future().complete(metadata);
            if (r.callback() != null) {
                try {
                    r.callback().onCompletion(metadata, null);
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
        for (PendingRecord r : records) {
            r.future().completeExceptionally(exception);
            if (r.callback() != null) {
                try {
                    r.callback().onCompletion(null, exception);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(ProducerBatch.class)
                            .error("a send callback for {} threw", tp, e);
                }
            }
        }
        done.countDown();
        return true;
    }

    boolean isDone() {
        return done.getCount() == 0;
    }

    boolean await(long timeoutMs) throws InterruptedException {
        return done.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public String toString() {
        return "batch(" + tp + ", " + records.size() + " records, seq " + baseSequence + ", attempts " + attempts + ")";
    }
}
