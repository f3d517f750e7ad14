package io.raftmq.protocol.record;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One record read from a batch. Key and value are read-only views (null when the producer sent
 * null); they share memory with the batch when it was not compressed.
 *
 * @param offset the record's offset in its partition
 * @param timestamp create time, or the batch's log append time when the batch uses it
 * @param sequence the producer's sequence number for it, or -1
 */
public record Record(long offset, long timestamp, int sequence, ByteBuffer key, ByteBuffer value,
        List<Header> headers) {

    public Record {
        headers = List.copyOf(headers);
    }

    /** A copy of the key's bytes, or null. */
    public byte[] keyBytes() {
        return copy(key);
    }

    /** A copy of the value's bytes, or null. */
    public byte[] valueBytes() {
        return copy(value);
    }

    private static byte[] copy(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
