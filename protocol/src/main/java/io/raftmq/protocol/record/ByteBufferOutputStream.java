package io.raftmq.protocol.record;

import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * An output stream into a heap {@link ByteBuffer} that grows as needed. Not thread-safe.
 */
public final class ByteBufferOutputStream extends OutputStream {
    private ByteBuffer buffer;
    /** Growing doubles the capacity but stops at this one unless more is needed at once. */
    private final int growthLimit;

    public ByteBufferOutputStream(int initialCapacity) {
        this.buffer = ByteBuffer.allocate(initialCapacity);
        this.growthLimit = Integer.MAX_VALUE;
    }

    /**
     * Writes into {@code initial} from its position (a heap buffer), and into a bigger copy once it
     * is full: twice the capacity each time, but not past {@code growthLimit} unless a write needs
     * more.
     */
    public ByteBufferOutputStream(ByteBuffer initial, int growthLimit) {
        this.buffer = initial;
        this.growthLimit = growthLimit;
    }

    @Override
    public void write(int b) {
        ensureRemaining(1);
        buffer.put((byte) b);
    }

    @Override
    public void write(byte[] bytes, int off, int len) {
        ensureRemaining(len);
        buffer.put(bytes, off, len);
    }

    public void write(ByteBuffer source) {
        ensureRemaining(source.remaining());
        buffer.put(source);
    }

    /** The buffer being written to (its position is the number of bytes written). */
    public ByteBuffer buffer() {
        return buffer;
    }

    public int position() {
        return buffer.position();
    }

    public void position(int position) {
        ensureRemaining(position - buffer.position());
        buffer.position(position);
    }

    public void ensureRemaining(int needed) {
        if (needed > buffer.remaining()) {
            long target = buffer.capacity() * 2L;
            if (buffer.capacity() < growthLimit) {
                target = Math.min(target, growthLimit);
            }
            int capacity = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(target, (long) buffer.position() + needed));
            ByteBuffer bigger = ByteBuffer.allocate(capacity);
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }
}
