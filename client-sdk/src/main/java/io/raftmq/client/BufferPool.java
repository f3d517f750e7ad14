package io.raftmq.client;

import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.RecordTooLargeException;
import io.raftmq.client.errors.TimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Accounts the bytes of records waiting in the producer (buffer.memory) and keeps the buffers that
 * batches are written into for reuse, as Kafka's producer does. {@link #allocate} blocks until
 * enough is free or its wait runs out, then throws a {@link TimeoutException}; completed batches
 * {@link #release} their bytes.
 *
 * <p>Buffers: a batch starts in a small one ({@link #FIRST_BUFFER_BYTES}, or batch.size if smaller)
 * and its records move to bigger ones as it fills, up to batch.size; so a producer writing to many
 * partitions a little at a time holds little memory per open batch, and one that fills batches
 * reuses full-size buffers. {@link #takeBuffer} never blocks: it hands out a free full-size buffer,
 * else a free small one, else allocates a small one; {@link #giveBuffer} keeps small and full-size
 * buffers (at most buffer.memory of them in all). Reused buffers live in the old generation instead of
 * being copied by every young collection while their batch waits.
 *
 * <p>Thread-safe: one lock for the byte count, the waiters (signalled on release) and the free lists.
 */
final class BufferPool {
    /** The size a batch's first buffer has at most. */
    static final int FIRST_BUFFER_BYTES = 16 * 1024;

    private final long totalBytes;
    private final int smallSize;
    private final int fullSize;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    /** Guarded by lock. */
    private long availableBytes;
    private boolean closed;
    /** Buffers not in use, of smallSize and of fullSize bytes; guarded by lock. */
    private final ArrayDeque<ByteBuffer> freeSmall = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> freeFull = new ArrayDeque<>();
    /** Bytes in both free lists, at most totalBytes; guarded by lock. */
    private long freeBytes;

    /** @param batchSize batch.size: the largest buffer kept for reuse */
    BufferPool(long totalBytes, int batchSize) {
        this.totalBytes = totalBytes;
        this.availableBytes = totalBytes;
        this.fullSize = Math.max(1, batchSize);
        this.smallSize = Math.min(fullSize, FIRST_BUFFER_BYTES);
    }

    /**
     * A heap buffer of at least {@code capacity} bytes for a new batch: a reused one when one is
     * free (full-size first), else a new one of {@code capacity} or the small size, whichever is
     * larger.
     */
    ByteBuffer takeBuffer(int capacity) {
        lock.lock();
        try {
            ByteBuffer reused = capacity <= fullSize ? freeFull.pollFirst() : null;
            if (reused == null && capacity <= smallSize) {
                reused = freeSmall.pollFirst();
            }
            if (reused != null) {
                freeBytes -= reused.capacity();
                return reused.clear();
            }
        } finally {
            lock.unlock();
        }
        return ByteBuffer.allocate(Math.max(capacity, smallSize));
    }

    /** Takes back a buffer that nothing uses any more: kept if small or full-size, else dropped. */
    void giveBuffer(ByteBuffer buffer) {
        ArrayDeque<ByteBuffer> list = buffer.capacity() == fullSize ? freeFull
                : buffer.capacity() == smallSize ? freeSmall : null;
        if (list == null) {
            return;
        }
        lock.lock();
        try {
            if (freeBytes + buffer.capacity() <= totalBytes) {
                list.addFirst(buffer);
                freeBytes += buffer.capacity();
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
            freeSmall.clear();
            freeFull.clear();
            freeBytes = 0;
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
