package io.raftmq.client;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Accounts the bytes of records waiting in the producer (buffer.memory) and keeps the buffers that
 * batches are written into for reuse, as Kafka's producer does. {@link #allocate} blocks until
 * enough is free or its wait runs out, then throws a {@link TimeoutException}; completed batches
 * {@link #release} their bytes. {@link #takeBuffer} never blocks: a batch.size buffer comes from
 * the free list, or is allocated when the list is empty; {@link #giveBuffer} puts it back. Reused
 * buffers live in the old generation instead of being copied by every young collection while their
 * batch waits (a producer's queue holds up to buffer.memory of records).
 *
 * <p>Thread-safe: one lock for the byte count, the waiters (signalled on release) and the free list.
 */
final class BufferPool {
    private final long totalBytes;
    private final int poolableSize;
    private final int maxFreeBuffers;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    /** Guarded by lock. */
    private long availableBytes;
    private boolean closed;
    /** Buffers of poolableSize bytes not in use; guarded by lock. */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();

    /**
     * @param poolableSize the size of the buffers kept for reuse (batch.size); at most totalBytes of
     *     them are kept
     */
    BufferPool(long totalBytes, int poolableSize) {
        this.totalBytes = totalBytes;
        this.availableBytes = totalBytes;
        this.poolableSize = poolableSize;
        this.maxFreeBuffers = (int) Math.min(Integer.MAX_VALUE, totalBytes / Math.max(1, poolableSize));
    }

    /** A heap buffer of {@code capacity} bytes, or of batch.size when that is larger (a reused one if free). */
    ByteBuffer takeBuffer(int capacity) {
        if (capacity > poolableSize) {
            return ByteBuffer.allocate(capacity);
        }
        lock.lock();
        try {
            ByteBuffer reused = free.pollFirst();
            if (reused != null) {
                return reused.clear();
            }
        } finally {
            lock.unlock();
        }
        return ByteBuffer.allocate(poolableSize);
    }

    /** Takes back a buffer from {@link #takeBuffer} that nothing uses any more. */
    void giveBuffer(ByteBuffer buffer) {
        if (buffer.capacity() != poolableSize) {
            return;
        }
        lock.lock();
        try {
            if (free.size() < maxFreeBuffers) {
                free.addFirst(buffer);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code bytes} from the pool, waiting up to {@code maxWaitMs}.
     *
     * @throws RecordTooLargeException when the request is larger than the whole pool
     * @throws TimeoutException when not enough was freed in time
     */
    void allocate(int bytes, long maxWaitMs) {
        if (bytes > totalBytes) {
            throw new RecordTooLargeException("the record is " + bytes + " bytes, larger than buffer.memory ("
                    + totalBytes + ")");
        }
        long remainingNs = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        lock.lock();
        try {
            while (availableBytes < bytes) {
                if (closed) {
                    throw new IllegalStateException("the producer is closed");
                }
                if (remainingNs <= 0) {
                    throw new TimeoutException("failed to allocate " + bytes + " bytes of buffer.memory within "
                            + maxWaitMs + " ms (max.block.ms): " + availableBytes + " of " + totalBytes
                            + " bytes free; records are produced faster than the cluster takes them");
                }
                remainingNs = freed.awaitNanos(remainingNs);
            }
            availableBytes -= bytes;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(io.raftmq.protocol.common.ErrorCode.NONE,
                    "interrupted while waiting for buffer memory", e);
        } finally {
            lock.unlock();
        }
    }

    void release(long bytes) {
        lock.lock();
        try {
            availableBytes += bytes;
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long availableBytes() {
        lock.lock();
        try {
            return availableBytes;
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            free.clear();
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
