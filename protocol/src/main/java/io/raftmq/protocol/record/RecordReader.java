package io.raftmq.protocol.record;

import java.nio.ByteBuffer;

/**
 * Reads the fields of a batch's records (Kafka's zig-zag varints, bytes) straight from an array,
 * for the record walks of {@link RecordBatch}. Why not a ByteBuffer: each {@code get()} there is
 * a chain of calls with its own bounds checks, which only C2 folds away, and the nodes and tools
 * run C1 only; here a byte is one array read. Running past the end throws a {@link
 * CorruptRecordException}, never an IndexOutOfBounds.
 *
 * <p>Confined to the thread walking the batch.
 */
final class RecordReader {
    private final byte[] array;
    private final int start;
    private final int end;
    private int pos;

    private RecordReader(byte[] array, int start, int end) {
        this.array = array;
        this.start = start;
        this.end = end;
        this.pos = start;
    }

    /**
     * Reads {@code bytes} from its position to its limit: in place when it is a writable heap
     * buffer, else from a copy. {@code bytes} is not moved.
     */
    static RecordReader of(ByteBuffer bytes) {
        if (bytes.hasArray()) {
            int from = bytes.arrayOffset() + bytes.position();
            return new RecordReader(bytes.array(), from, from + bytes.remaining());
        }
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return new RecordReader(copy, 0, copy.length);
    }

    /** The array read from; positions ({@link #position()}) index it. */
    byte[] array() {
        return array;
    }

    int position() {
        return pos;
    }

    /** Bytes left before the end of the region. */
    int remaining() {
        return end - pos;
    }

    /** Moves to {@code position}, which must lie within the region. */
    void position(int position) {
        if (position < start || position > end) {
            throw pastTheEnd();
        }
        pos = position;
    }

    byte readByte() {
        if (pos >= end) {
            throw pastTheEnd();
        }
        return array[pos++];
    }

    /** @throws CorruptRecordException when more than 5 bytes carry the value */
    int readVarint() {
        int value = 0;
        int shift = 0;
        int b;
        while (((b = readByte()) & 0x80) != 0) {
            value |= (b & 0x7f) << shift;
            shift += 7;
            if (shift > 28) {
                throw new CorruptRecordException("varint is longer than 5 bytes");
            }
        }
        value |= b << shift;
        return (value >>> 1) ^ -(value & 1);
    }

    /** @throws CorruptRecordException when more than 10 bytes carry the value */
    long readVarlong() {
        long value = 0L;
        int shift = 0;
        long b;
        while (((b = readByte()) & 0x80) != 0) {
            value |= (b & 0x7f) << shift;
            shift += 7;
            if (shift > 63) {
                throw new CorruptRecordException("varlong is longer than 10 bytes");
            }
        }
        value |= b << shift;
        return (value >>> 1) ^ -(value & 1);
    }

    /** Reads a varint length and skips that many bytes; returns the length (-1: null). */
    int skipBytes() {
        int length = readVarint();
        if (length < 0) {
            return -1;
        }
        skip(length);
        return length;
    }

    /** Moves past {@code length} (>= 0) bytes of a field. */
    void skip(int length) {
        if (length > remaining()) {
            throw new CorruptRecordException("field of " + length + " bytes with " + remaining()
                    + " bytes left in the batch");
        }
        pos += length;
    }

    /** A copy of {@code length} bytes at {@code at} (null when length is -1). */
    byte[] copy(int at, int length) {
        if (length < 0) {
            return null;
        }
        byte[] out = new byte[length];
        System.arraycopy(array, at, out, 0, length);
        return out;
    }

    private static CorruptRecordException pastTheEnd() {
        return new CorruptRecordException("record runs past the end of its batch");
    }
}
