package io.raftmq.client;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Accounts the bytes of records waiting in the producer (buffer.memory). {@link #allocate} blocks
 * until enough is free or its wait runs out, then throws a {@link TimeoutException}; completed
 * batches {@link #release} their bytes. Thread-safe: one lock, waiters signalled on release.
 */
final class BufferPool {
    private final long totalBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    /** Guarded by lock. */
    private long availableBytes;
    private boolean closed;

    BufferPool(long totalBytes) {
        this.totalBytes = totalBytes;
        this.availableBytes = totalBytes;
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
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
