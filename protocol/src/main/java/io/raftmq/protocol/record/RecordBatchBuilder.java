package io.raftmq.protocol.record;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Builds one RecordBatch v2. Records are encoded as they are appended (uncompressed); {@link
 * #build()} compresses them if asked, writes the header and the CRC, and returns the batch's bytes.
 *
 * <p>Typical use by a producer: base offset 0 (the leader assigns real offsets), partition leader
 * epoch unknown (-1; the leader stamps it), producer id / epoch / base sequence for idempotence.
 *
 * <p>A producer builds in place ({@link #inPlace}): records go straight into a buffer it owns (a
 * pooled one), after room for the header, and an uncompressed {@link #build()} writes the header in
 * front of them instead of copying; {@link #stampProducer} sets the producer fields afterwards.
 *
 * <p>Not thread-safe; one builder per batch; {@link #build()} once.
 */
public final class RecordBatchBuilder {
    private static final byte[][] NO_HEADER_KEYS = new byte[0][];
    private final CompressionType compression;
    private final TimestampType timestampType;
    private final long baseOffset;
    private final long producerId;
    private final short producerEpoch;
    private final int baseSequence;
    private final int partitionLeaderEpoch;
    private final long logAppendTime;
    /** The records (from {@link RecordBatch#RECORDS_OFFSET} when in place, else from 0). */
    private final ByteBufferOutputStream records;
    private final boolean inPlace;

    private int count;
    private long baseTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private boolean built;

    /** A batch without a producer id, create-time timestamps, uncompressed or compressed. */
    public RecordBatchBuilder(CompressionType compression, int initialCapacity) {
        this(compression, TimestampType.CREATE_TIME, 0, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                RecordBatch.NO_SEQUENCE, RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP,
                initialCapacity);
    }

    /**
     * @param logAppendTime with {@link TimestampType#LOG_APPEND_TIME}: the time every record gets
     */
    public RecordBatchBuilder(CompressionType compression, TimestampType timestampType, long baseOffset,
            long producerId, short producerEpoch, int baseSequence, int partitionLeaderEpoch, long logAppendTime,
            int initialCapacity) {
        this(compression, timestampType, baseOffset, producerId, producerEpoch, baseSequence, partitionLeaderEpoch,
                logAppendTime, new ByteBufferOutputStream(Math.max(64, initialCapacity)), false);
    }

    private RecordBatchBuilder(CompressionType compression, TimestampType timestampType, long baseOffset,
            long producerId, short producerEpoch, int baseSequence, int partitionLeaderEpoch, long logAppendTime,
            ByteBufferOutputStream records, boolean inPlace) {
        this.compression = compression;
        this.timestampType = timestampType;
        this.baseOffset = baseOffset;
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        this.partitionLeaderEpoch = partitionLeaderEpoch;
        this.logAppendTime = logAppendTime;
        this.records = records;
        this.inPlace = inPlace;
    }

    /**
     * A producer's batch (create-time timestamps, base offset 0, leader epoch unknown, no producer id
     * until {@link #stampProducer}) whose records are written into {@code buffer} (a heap buffer,
     * cleared first) after room for the header. Uncompressed, {@link #build()} returns a view of that
     * buffer; when the records outgrow it they move to a bigger one (twice the size, up to
     * {@code growthLimit} bytes unless a record needs more; see {@link #buffer()}) and {@code buffer}
     * is no longer used.
     */
    public static RecordBatchBuilder inPlace(CompressionType compression, ByteBuffer buffer, int growthLimit) {
        return new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0, RecordBatch.NO_PRODUCER_ID,
                RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                RecordBatch.NO_TIMESTAMP,
                new ByteBufferOutputStream(buffer.clear().position(RecordBatch.RECORDS_OFFSET), growthLimit), true);
    }

    /** The buffer the records are written to now (built in place: the given one until they outgrow it). */
    public ByteBuffer buffer() {
        return records.buffer();
    }

    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key == null ? null : ByteBuffer.wrap(key), value == null ? null
                : ByteBuffer.wrap(value), List.of());
    }

    /** Appends a record from arrays; key, value and header values may be null. */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        return append(timestamp, key == null ? null : ByteBuffer.wrap(key), value == null ? null
                : ByteBuffer.wrap(value), headers);
    }

    /** Appends a record; key, value and header values may be null. Buffers are read, not consumed. */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) {
        if (built) {
            throw new IllegalStateException("the batch was already built");
        }
        if (count == 0) {
            baseTimestamp = timestamp;
        }
        maxTimestamp = Math.max(maxTimestamp, timestamp);
        long timestampDelta = timestamp - baseTimestamp;
        int offsetDelta = count;
        byte[][] headerKeys = headers.isEmpty() ? NO_HEADER_KEYS : new byte[headers.size()][];
        int bodySize = 1 + ByteUtils.sizeOfVarlong(timestampDelta) + ByteUtils.sizeOfVarint(offsetDelta)
                + sizeOfBytes(key) + sizeOfBytes(value) + ByteUtils.sizeOfVarint(headers.size());
        for (int i = 0; i < headers.size(); i++) {
            headerKeys[i] = headers.get(i).key().getBytes(StandardCharsets.UTF_8);
            byte[] headerValue = headers.get(i).value();
            bodySize += ByteUtils.sizeOfVarint(headerKeys[i].length) + headerKeys[i].length
                    + (headerValue == null ? ByteUtils.sizeOfVarint(-1)
                            : ByteUtils.sizeOfVarint(headerValue.length) + headerValue.length);
        }
        records.ensureRemaining(ByteUtils.sizeOfVarint(bodySize) + bodySize);
        ByteBuffer out = records.buffer();
        ByteUtils.writeVarint(bodySize, out);
        out.put((byte) 0);
        ByteUtils.writeVarlong(timestampDelta, out);
        ByteUtils.writeVarint(offsetDelta, out);
        writeBytes(key, out);
        writeBytes(value, out);
        ByteUtils.writeVarint(headers.size(), out);
        for (int i = 0; i < headers.size(); i++) {
            ByteUtils.writeVarint(headerKeys[i].length, out);
            out.put(headerKeys[i]);
            byte[] headerValue = headers.get(i).value();
            if (headerValue == null) {
                ByteUtils.writeVarint(-1, out);
            } else {
                ByteUtils.writeVarint(headerValue.length, out);
                out.put(headerValue);
            }
        }
        count++;
        return this;
    }

    private static int sizeOfBytes(ByteBuffer bytes) {
        return bytes == null ? ByteUtils.sizeOfVarint(-1)
                : ByteUtils.sizeOfVarint(bytes.remaining()) + bytes.remaining();
    }

    private static void writeBytes(ByteBuffer bytes, ByteBuffer out) {
        if (bytes == null) {
            ByteUtils.writeVarint(-1, out);
        } else {
            ByteUtils.writeVarint(bytes.remaining(), out);
            out.put(bytes.duplicate());
        }
    }

    public int recordCount() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** Size of the batch if it were built now, before compression (an upper bound, roughly, after). */
    public int estimatedSizeInBytes() {
        return RecordBatch.RECORD_BATCH_OVERHEAD + records.position() - recordsStart();
    }

    private int recordsStart() {
        return inPlace ? RecordBatch.RECORDS_OFFSET : 0;
    }

    /**
     * The finished batch: a heap buffer from position 0 to the batch's size.
     *
     * @throws IllegalStateException when no record was appended
     */
    public ByteBuffer build() {
        if (count == 0) {
            throw new IllegalStateException("a record batch needs at least one record");
        }
        if (built) {
            throw new IllegalStateException("the batch was already built");
        }
        built = true;
        ByteBuffer uncompressed = records.buffer().duplicate().flip().position(recordsStart());
        ByteBuffer batch;
        if (compression == CompressionType.NONE && inPlace) {
            batch = records.buffer().duplicate(); // the header goes in front of the records
        } else if (compression == CompressionType.NONE) {
            batch = ByteBuffer.allocate(RecordBatch.RECORDS_OFFSET + uncompressed.remaining());
            batch.position(RecordBatch.RECORDS_OFFSET);
            batch.put(uncompressed);
        } else {
            ByteBufferOutputStream out = new ByteBufferOutputStream(
                    RecordBatch.RECORDS_OFFSET + uncompressed.remaining() / 2 + 64);
            out.position(RecordBatch.RECORDS_OFFSET);
            try (OutputStream codec = compression.wrapForOutput(new NonClosing(out))) {
                // The records buffer is a heap buffer (ByteBufferOutputStream).
                codec.write(uncompressed.array(), uncompressed.arrayOffset() + uncompressed.position(),
                        uncompressed.remaining());
            } catch (IOException e) {
                throw new UncheckedIOException("compressing a record batch with " + compression.configName, e);
            }
            batch = out.buffer();
        }
        int size = batch.position();
        batch.flip();
        short attributes = (short) (compression.id
                | (timestampType == TimestampType.LOG_APPEND_TIME ? 0x08 : 0));
        batch.putLong(RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        batch.putInt(RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        batch.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        batch.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        batch.putShort(RecordBatch.ATTRIBUTES_OFFSET, attributes);
        batch.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        batch.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        batch.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET,
                timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : maxTimestamp);
        batch.putLong(RecordBatch.PRODUCER_ID_OFFSET, producerId);
        batch.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        batch.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        batch.putInt(RecordBatch.RECORD_COUNT_OFFSET, count);
        writeChecksum(batch);
        return batch;
    }

    /**
     * Sets the producer id, epoch and base sequence of a built batch (its position 0 to its limit)
     * and its checksum, in place: a producer learns them when the batch is sent, and again when it
     * has to take a new producer id before a retry.
     */
    public static void stampProducer(ByteBuffer batch, long producerId, short producerEpoch, int baseSequence) {
        batch.putLong(RecordBatch.PRODUCER_ID_OFFSET, producerId);
        batch.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        batch.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        writeChecksum(batch);
    }

    private static void writeChecksum(ByteBuffer batch) {
        CRC32C crc = new CRC32C();
        crc.update(batch.duplicate().position(RecordBatch.ATTRIBUTES_OFFSET));
        batch.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
    }

    /** Lets a codec stream be closed (to finish its frame) without closing the buffer under it. */
    private static final class NonClosing extends OutputStream {
        private final ByteBufferOutputStream out;

        NonClosing(ByteBufferOutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            out.write(b, off, len);
        }

        @Override
        public void close() {
            // Keep the buffer.
        }
    }
}
