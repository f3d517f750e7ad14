package io.raftmq.storage;

import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Whole record batches as they are on disk: a region of one segment file. Nothing is copied or
 * decoded until the caller asks: {@link #read()} reads the bytes into a buffer, {@link #transferTo}
 * sends them to a channel (sendfile where the platform allows).
 *
 * <p>Valid while the segment's file is open; a deleted segment stays open for {@code
 * file.delete.delay.ms}, so a read in progress finishes. Thread-safe (positional I/O only).
 *
 * @param firstOffset base offset of the first batch (or the requested offset when empty)
 * @param nextOffset the offset after the last batch (equal to firstOffset when empty)
 */
public record LogSlice(FileChannel channel, long position, int sizeInBytes, long firstOffset, long nextOffset) {

    public static LogSlice empty(long offset) {
        return new LogSlice(null, 0, 0, offset, offset);
    }

    public boolean isEmpty() {
        return sizeInBytes == 0;
    }

    /** The bytes, read into a new heap buffer (position 0, limit size). */
    public ByteBuffer read() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(sizeInBytes);
        readInto(buffer);
        return buffer.flip();
    }

    /** Reads the bytes into {@code buffer} (which needs {@link #sizeInBytes()} remaining). */
    public void readInto(ByteBuffer buffer) throws IOException {
        long at = position;
        int end = buffer.position() + sizeInBytes;
        ByteBuffer target = buffer.duplicate().limit(end);
        while (target.hasRemaining()) {
            int n = channel.read(target, at);
            if (n < 0) {
                throw new IOException("segment file ended " + target.remaining() + " bytes early");
            }
            at += n;
        }
        buffer.position(end);
    }

    /**
     * Whether a batch of the slice is compressed with codec {@code compressionId} (Kafka's id, as
     * in the batch attributes): reads the first 23 bytes of each batch's header, not its records.
     */
    public boolean containsCompression(int compressionId) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.ATTRIBUTES_OFFSET + 2);
        long at = position;
        long end = position + sizeInBytes;
        while (end - at >= header.capacity()) {
            header.clear();
            while (header.hasRemaining()) {
                if (channel.read(header, at + header.position()) < 0) {
                    throw new IOException("segment file ended inside a batch header at " + at);
                }
            }
            if ((header.getShort(RecordBatch.ATTRIBUTES_OFFSET) & 0x07) == compressionId) {
                return true;
            }
            at += RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        }
        return false;
    }

    /** Sends the bytes to {@code target} without copying them through the heap where possible. */
    public long transferTo(WritableByteChannel target) throws IOException {
        long sent = 0;
        while (sent < sizeInBytes) {
            long n = channel.transferTo(position + sent, sizeInBytes - sent, target);
            if (n <= 0) {
                break;
            }
            sent += n;
        }
        return sent;
    }
}
