package io.raftmq.protocol.record;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A view over the bytes of one Kafka RecordBatch v2 (magic 2), as documented in the Kafka protocol
 * guide. All multi-byte fields are big-endian:
 *
 * <pre>
 *   0  baseOffset            int64
 *   8  batchLength           int32   bytes after this field
 *  12  partitionLeaderEpoch  int32
 *  16  magic                 int8    = 2
 *  17  crc                   uint32  CRC-32C of bytes 21..end
 *  21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records (compressed as a whole when compression is not none)
 * </pre>
 *
 * <p>Because the CRC starts at the attributes, the leader can set the base offset and the
 * partition leader epoch in place ({@link #setBaseOffset}, {@link #setPartitionLeaderEpoch})
 * without touching the CRC or re-encoding anything.
 *
 * <p>The view shares its bytes with the buffer it was made from; it is not thread-safe when
 * mutated.
 */
public final class RecordBatch {
    public static final byte MAGIC = 2;

    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    public static final int RECORDS_OFFSET = 61;

    /** Bytes before the length field counts: base offset and length. */
    public static final int LOG_OVERHEAD = 12;
    /** Size of a batch with no records. */
    public static final int RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;

    public static final long NO_PRODUCER_ID = -1;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1;

    private static final int COMPRESSION_MASK = 0x07;
    private static final int TIMESTAMP_TYPE_MASK = 0x08;
    private static final int TRANSACTIONAL_MASK = 0x10;
    private static final int CONTROL_MASK = 0x20;

    private final ByteBuffer buffer;

    private RecordBatch(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * The size of the batch starting at {@code position} of {@code buffer}, or -1 when fewer than
     * {@link #LOG_OVERHEAD} bytes are there to tell.
     */
    public static int sizeOfBatchAt(ByteBuffer buffer, int position) {
        if (buffer.limit() - position < LOG_OVERHEAD) {
            return -1;
        }
        return LOG_OVERHEAD + buffer.getInt(position + LENGTH_OFFSET);
    }

    /**
     * The batch at the position of {@code buffer}; the view covers exactly the batch's bytes.
     *
     * @throws CorruptRecordException when the buffer is too short for the length the batch claims
     *     or the length is below the v2 header size
     */
    public static RecordBatch readFrom(ByteBuffer buffer) {
        int size = sizeOfBatchAt(buffer, buffer.position());
        if (size < 0) {
            throw new CorruptRecordException("only " + buffer.remaining() + " bytes left; a batch needs at least "
                    + LOG_OVERHEAD + " to tell its size");
        }
        if (size < RECORD_BATCH_OVERHEAD) {
            throw new CorruptRecordException("batch length " + (size - LOG_OVERHEAD) + " is below the v2 minimum "
                    + (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD));
        }
        if (size > buffer.remaining()) {
            throw new CorruptRecordException("batch claims " + size + " bytes but only " + buffer.remaining()
                    + " are present");
        }
        ByteBuffer slice = buffer.slice(buffer.position(), size);
        return new RecordBatch(slice);
    }

    /** Every batch in {@code buffer} (position to limit), which must hold whole batches only. */
    public static List<RecordBatch> readAll(ByteBuffer buffer) {
        List<RecordBatch> out = new ArrayList<>();
        ByteBuffer view = buffer.duplicate();
        while (view.hasRemaining()) {
            RecordBatch batch = readFrom(view);
            out.add(batch);
            view.position(view.position() + batch.sizeInBytes());
        }
        return out;
    }

    /**
     * The whole batches in {@code buffer} (position to limit), stopping at a partial one at the end,
     * as a size-limited fetch answer may carry.
     *
     * @throws CorruptRecordException when a whole batch claims a length below the v2 header size
     */
    public static List<RecordBatch> readWhole(ByteBuffer buffer) {
        List<RecordBatch> out = new ArrayList<>();
        ByteBuffer view = buffer.duplicate();
        while (view.hasRemaining()) {
            int size = sizeOfBatchAt(view, view.position());
            if (size < 0 || size > view.remaining()) {
                break;
            }
            out.add(readFrom(view));
            view.position(view.position() + size);
        }
        return out;
    }

    /** The batch's bytes (a new view: position 0, limit the batch size). */
    public ByteBuffer buffer() {
        return buffer.duplicate();
    }

    public int sizeInBytes() {
        return buffer.limit();
    }

    public long baseOffset() {
        return buffer.getLong(BASE_OFFSET_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** The offset after this batch. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    public int partitionLeaderEpoch() {
        return buffer.getInt(PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return buffer.get(MAGIC_OFFSET);
    }

    public long checksum() {
        return Integer.toUnsignedLong(buffer.getInt(CRC_OFFSET));
    }

    public long computeChecksum() {
        CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(ATTRIBUTES_OFFSET));
        return crc.getValue();
    }

    public short attributes() {
        return buffer.getShort(ATTRIBUTES_OFFSET);
    }

    /** @throws CorruptRecordException for an unknown codec id */
    public CompressionType compressionType() {
        return CompressionType.forId(attributes() & COMPRESSION_MASK);
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) == 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    public int lastOffsetDelta() {
        return buffer.getInt(LAST_OFFSET_DELTA_OFFSET);
    }

    public long baseTimestamp() {
        return buffer.getLong(BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buffer.getLong(MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buffer.getLong(PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buffer.getShort(PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buffer.getInt(BASE_SEQUENCE_OFFSET);
    }

    /** The sequence of the last record, or {@link #NO_SEQUENCE}. Sequences wrap at Integer.MAX_VALUE. */
    public int lastSequence() {
        int base = baseSequence();
        return base == NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(base, lastOffsetDelta());
    }

    public int recordCount() {
        return buffer.getInt(RECORD_COUNT_OFFSET);
    }

    /** Sets the base offset in place (outside the CRC). */
    public void setBaseOffset(long offset) {
        buffer.putLong(BASE_OFFSET_OFFSET, offset);
    }

    /** Sets the partition leader epoch in place (outside the CRC). */
    public void setPartitionLeaderEpoch(int epoch) {
        buffer.putInt(PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    /**
     * Marks the batch as stamped with the leader's append time: sets the timestamp type and the max
     * timestamp, and recomputes the CRC (both fields are inside it). The records are untouched.
     */
    public void setLogAppendTime(long appendTimeMs) {
        buffer.putShort(ATTRIBUTES_OFFSET, (short) (attributes() | TIMESTAMP_TYPE_MASK));
        buffer.putLong(MAX_TIMESTAMP_OFFSET, appendTimeMs);
        buffer.putInt(CRC_OFFSET, (int) computeChecksum());
    }

    /** Whether the header is well-formed and the CRC matches; see {@link #ensureValid()} for why not. */
    public boolean isValid() {
        try {
            ensureValid();
            return true;
        } catch (CorruptRecordException e) {
            return false;
        }
    }

    /**
     * Checks the header (size, magic, record count against the last offset delta, codec) and the
     * CRC. Does not read the records.
     *
     * @throws CorruptRecordException naming the problem
     */
    public void ensureValid() {
        if (sizeInBytes() < RECORD_BATCH_OVERHEAD) {
            throw new CorruptRecordException("batch of " + sizeInBytes() + " bytes is below the v2 header size "
                    + RECORD_BATCH_OVERHEAD);
        }
        if (magic() != MAGIC) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has magic " + magic()
                    + "; only magic 2 (RecordBatch v2) is supported");
        }
        long stored = checksum();
        long computed = computeChecksum();
        if (stored != computed) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " fails its CRC: stored "
                    + Long.toHexString(stored) + ", computed " + Long.toHexString(computed));
        }
        if (recordCount() <= 0) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has record count " + recordCount());
        }
        if (lastOffsetDelta() != recordCount() - 1) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has " + recordCount()
                    + " records but last offset delta " + lastOffsetDelta());
        }
        compressionType();
    }

    /**
     * Walks the records of an uncompressed batch without allocating: each record's length, its
     * offset delta (0, 1, 2, ...), and that they fill the batch exactly. A compressed batch is
     * covered by its CRC only (checking its records means decompressing them).
     *
     * @throws CorruptRecordException naming the first problem
     */
    public void ensureRecordsWellFormed() {
        if (compressionType() != CompressionType.NONE) {
            return;
        }
        RecordReader records = RecordReader.of(buffer.duplicate().position(RECORDS_OFFSET));
        int count = recordCount();
        for (int i = 0; i < count; i++) {
            if (records.remaining() == 0) {
                throw new CorruptRecordException("batch at offset " + baseOffset() + " ends after " + i + " of "
                        + count + " records");
            }
            int length = records.readVarint();
            int start = records.position();
            if (length < 3 || length > records.remaining()) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset()
                        + " has length " + length + " with " + records.remaining() + " bytes left");
            }
            records.readByte(); // attributes
            records.readVarlong(); // timestamp delta
            int offsetDelta = records.readVarint();
            if (offsetDelta != i) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset()
                        + " has offset delta " + offsetDelta);
            }
            records.position(start + length);
        }
        if (records.remaining() > 0) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has " + records.remaining()
                    + " bytes after its " + count + " records");
        }
    }

    /**
     * What {@link #validateRecords} found: the smallest and largest record timestamp, leaving out
     * records without one ({@link #NO_TIMESTAMP}); {@code Long.MAX_VALUE} and {@code Long.MIN_VALUE}
     * when no record has one.
     */
    public record RecordsSummary(long minTimestamp, long maxTimestamp) {}

    /**
     * Reads every record of the batch to its end, decompressing a compressed batch into at most
     * {@code maxUncompressedBytes}, without building records: the record count is the header's,
     * offset deltas run 0, 1, 2, ... in order, each record's fields (key, value, headers) fill
     * exactly its declared length, nothing follows the last record, and with CreateTime the
     * header's max timestamp is the largest record timestamp (retention and the time index trust
     * it). What a leader checks before it stores a producer's batch.
     *
     * @return the smallest and largest record timestamp (CreateTime: base + delta; LogAppendTime:
     *     the header's max timestamp for every record)
     * @throws CorruptRecordException naming the first problem (the record's index and what is wrong)
     * @throws RecordsTooLargeException when the records decompress past {@code maxUncompressedBytes}
     */
    public RecordsSummary validateRecords(int maxUncompressedBytes) {
        CompressionType compression = compressionType();
        ByteBuffer raw = buffer.duplicate().position(RECORDS_OFFSET);
        RecordReader data = RecordReader.of(compression == CompressionType.NONE ? raw
                : decompress(compression, raw, maxUncompressedBytes));
        int count = recordCount();
        long baseOffset = baseOffset();
        long baseTimestamp = baseTimestamp();
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        long largest = Long.MIN_VALUE; // NO_TIMESTAMP included: what the header's max timestamp must be
        for (int i = 0; i < count; i++) {
            if (data.remaining() == 0) {
                throw new CorruptRecordException("the batch at offset " + baseOffset + " declares " + count
                        + " records but holds " + i);
            }
            int length = data.readVarint();
            int start = data.position();
            if (length < 3 || length > data.remaining()) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset
                        + " has length " + length + " with " + data.remaining() + " bytes left");
            }
            data.readByte(); // attributes: unused
            long timestamp = baseTimestamp + data.readVarlong();
            int offsetDelta = data.readVarint();
            if (offsetDelta != i) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset
                        + " has offset delta " + offsetDelta + "; deltas must run 0.." + (count - 1) + " in order");
            }
            data.skipBytes(); // key
            data.skipBytes(); // value
            int headerCount = data.readVarint();
            if (headerCount < 0) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset
                        + " has header count " + headerCount);
            }
            for (int h = 0; h < headerCount; h++) {
                int keyLength = data.readVarint();
                if (keyLength < 0) {
                    throw new CorruptRecordException("header " + h + " of record " + i + " of the batch at"
                            + " offset " + baseOffset + " has a key of length " + keyLength);
                }
                data.skip(keyLength);
                data.skipBytes(); // header value
            }
            if (data.position() - start != length) {
                throw new CorruptRecordException("record " + i + " of the batch at offset " + baseOffset
                        + " declares " + length + " bytes but its fields take " + (data.position() - start));
            }
            largest = Math.max(largest, timestamp);
            if (timestamp != NO_TIMESTAMP) {
                min = Math.min(min, timestamp);
                max = Math.max(max, timestamp);
            }
        }
        if (data.remaining() > 0) {
            throw new CorruptRecordException("the batch at offset " + baseOffset + " declares " + count
                    + " records but " + data.remaining() + " bytes follow the last of them");
        }
        if (timestampType() == TimestampType.LOG_APPEND_TIME) {
            return maxTimestamp() == NO_TIMESTAMP ? new RecordsSummary(Long.MAX_VALUE, Long.MIN_VALUE)
                    : new RecordsSummary(maxTimestamp(), maxTimestamp());
        }
        if (largest != maxTimestamp()) {
            throw new CorruptRecordException("the batch at offset " + baseOffset + " declares max timestamp "
                    + maxTimestamp() + " but its largest record timestamp is " + largest);
        }
        return new RecordsSummary(min, max);
    }

    /**
     * The records, decompressed if need be.
     *
     * @throws CorruptRecordException when they cannot be read
     */
    public List<Record> records() {
        List<Record> out = new ArrayList<>(recordCount());
        readRecords((offset, timestamp, sequence, data, keyAt, keyLength, valueAt, valueLength, headers) ->
                out.add(new Record(offset, timestamp, sequence, view(data.array(), keyAt, keyLength),
                        view(data.array(), valueAt, valueLength), headers)));
        return out;
    }

    /** What a consumer needs of one record: the key and value copied out of the batch. */
    @FunctionalInterface
    public interface RecordCopyVisitor {
        /**
         * @param key the key's bytes (a copy), or null
         * @param value the value's bytes (a copy), or null
         */
        void accept(long offset, long timestamp, byte[] key, byte[] value, List<Header> headers);
    }

    /**
     * Hands each record to {@code visitor} with its key and value copied into arrays: the same
     * checks as {@link #records()} without a {@link Record} and two buffer views per record (the
     * consumer's decode path).
     *
     * @throws CorruptRecordException when the records cannot be read
     */
    public void forEachRecordCopy(RecordCopyVisitor visitor) {
        readRecords((offset, timestamp, sequence, data, keyAt, keyLength, valueAt, valueLength, headers) ->
                visitor.accept(offset, timestamp, data.copy(keyAt, keyLength), data.copy(valueAt, valueLength),
                        headers));
    }

    /** One parsed record: key and value as positions in {@code data}'s array (length -1: null). */
    @FunctionalInterface
    private interface RawRecordSink {
        void accept(long offset, long timestamp, int sequence, RecordReader data, int keyAt, int keyLength,
                int valueAt, int valueLength, List<Header> headers);
    }

    private static ByteBuffer view(byte[] data, int at, int length) {
        return length < 0 ? null : ByteBuffer.wrap(data, at, length).slice().asReadOnlyBuffer();
    }

    private void readRecords(RawRecordSink sink) {
        CompressionType compression = compressionType();
        ByteBuffer raw = buffer.duplicate().position(RECORDS_OFFSET);
        RecordReader data = RecordReader.of(compression == CompressionType.NONE ? raw
                : decompress(compression, raw, Integer.MAX_VALUE));
        int count = recordCount();
        long baseOffset = baseOffset();
        long baseTimestamp = baseTimestamp();
        long logAppendTime = timestampType() == TimestampType.LOG_APPEND_TIME ? maxTimestamp() : -1;
        int baseSequence = baseSequence();
        for (int i = 0; i < count; i++) {
            readRecord(data, baseOffset, baseTimestamp, logAppendTime, baseSequence, sink);
        }
        if (data.remaining() > 0) {
            throw new CorruptRecordException("batch at offset " + baseOffset + " has " + data.remaining()
                    + " bytes after its " + count + " records");
        }
    }

    /** The decompressed records; more than {@code maxBytes} of them is a {@link RecordsTooLargeException}. */
    private ByteBuffer decompress(CompressionType compression, ByteBuffer raw, int maxBytes) {
        int initial = (int) Math.min(maxBytes, Math.max(1024L, raw.remaining() * 2L));
        // Growth stops at the bound, so a batch that would pass it never takes more than that.
        ByteBufferOutputStream out = new ByteBufferOutputStream(ByteBuffer.allocate(initial), maxBytes);
        byte[] chunk = new byte[16 * 1024];
        long total = 0;
        try (InputStream in = compression.wrapForInput(raw)) {
            int n;
            while ((n = in.read(chunk)) > 0) {
                total += n;
                if (total > maxBytes) {
                    throw new RecordsTooLargeException("the " + compression.configName + " records of the batch at"
                            + " offset " + baseOffset() + " decompress to more than " + maxBytes + " bytes");
                }
                out.write(chunk, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof CorruptRecordException || e instanceof RecordsTooLargeException) {
                throw (RuntimeException) e;
            }
            throw new CorruptRecordException("cannot decompress the " + compression.configName
                    + " records of the batch at offset " + baseOffset() + ": " + e.getMessage(), e);
        }
        return out.buffer().flip();
    }

    private static void readRecord(RecordReader data, long baseOffset, long baseTimestamp, long logAppendTime,
            int baseSequence, RawRecordSink sink) {
        int length = data.readVarint();
        int start = data.position();
        if (length < 0 || length > data.remaining()) {
            throw new CorruptRecordException("record length " + length + " with " + data.remaining()
                    + " bytes left");
        }
        data.readByte(); // attributes: unused
        long timestampDelta = data.readVarlong();
        int offsetDelta = data.readVarint();
        int keyLength = data.skipBytes();
        int keyAt = data.position() - Math.max(0, keyLength);
        int valueLength = data.skipBytes();
        int valueAt = data.position() - Math.max(0, valueLength);
        int headerCount = data.readVarint();
        if (headerCount < 0) {
            throw new CorruptRecordException("negative header count " + headerCount);
        }
        List<Header> headers = headerCount == 0 ? List.of() : new ArrayList<>(headerCount);
        for (int h = 0; h < headerCount; h++) {
            int headerKeyLength = data.readVarint(); // a header key is never null
            if (headerKeyLength < 0) {
                throw new CorruptRecordException("header key of negative length " + headerKeyLength);
            }
            data.skip(headerKeyLength);
            String headerKey = new String(data.array(), data.position() - headerKeyLength, headerKeyLength,
                    StandardCharsets.UTF_8);
            int headerValueLength = data.skipBytes();
            byte[] valueBytes = data.copy(data.position() - Math.max(0, headerValueLength), headerValueLength);
            headers.add(new Header(headerKey, valueBytes));
        }
        if (data.position() - start != length) {
            throw new CorruptRecordException("record declares " + length + " bytes but its fields take "
                    + (data.position() - start));
        }
        long offset = baseOffset + offsetDelta;
        long timestamp = logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta;
        int sequence = baseSequence == NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(baseSequence, offsetDelta);
        sink.accept(offset, timestamp, sequence, data, keyAt, keyLength, valueAt, valueLength, headers);
    }

    /** {@code sequence + increment}, wrapping past Integer.MAX_VALUE to 0 as Kafka does. */
    public static int incrementSequence(int sequence, int increment) {
        if (sequence > Integer.MAX_VALUE - increment) {
            return increment - (Integer.MAX_VALUE - sequence) - 1;
        }
        return sequence + increment;
    }

    @Override
    public String toString() {
        return "RecordBatch(offsets " + baseOffset() + ".." + lastOffset() + ", " + sizeInBytes() + " bytes, epoch "
                + partitionLeaderEpoch() + ")";
    }
}
