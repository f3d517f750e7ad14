package io.raftmq.client;

import io.raftmq.protocol.record.CompressionType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-partition queues of {@link ProducerBatch}es: user threads append records to the last open
 * batch of a partition (a new one when it is full); the sender takes the first batch of a queue
 * when it is ready (full, lingered long enough, a flush or close is waiting, or a retry's backoff
 * has passed) and puts failed batches back at the front in sequence order.
 *
 * <p>Locking: each partition's deque is its own lock, held only to append, peek or poll (never
 * around I/O or callbacks). Memory for records is taken from the {@link BufferPool} before the lock
 * and given back when a batch completes.
 */
final class RecordAccumulator {
    /** What one append did. */
    record AppendResult(boolean appended, boolean newBatch) {}

    private final int batchSize;
    private final long lingerMs;
    private final CompressionType compression;
    private final BufferPool pool;
    private final Map<TopicPartition, Deque<ProducerBatch>> queues = new ConcurrentHashMap<>();
    /** Batches not completed yet (appended or in flight), for flush and close. */
    private final Set<ProducerBatch> incomplete = ConcurrentHashMap.newKeySet();
    private final AtomicInteger flushesInProgress = new AtomicInteger();
    private volatile boolean closing;

    RecordAccumulator(int batchSize, long lingerMs, CompressionType compression, BufferPool pool) {
        this.batchSize = batchSize;
        this.lingerMs = lingerMs;
        this.compression = compression;
        this.pool = pool;
    }

    BufferPool pool() {
        return pool;
    }

    /**
     * Appends to the partition's open batch. With {@code allowNewBatch} false and no room in the open
     * batch, nothing is appended (the caller picks another sticky partition first).
     */
    AppendResult append(TopicPartition tp, ProducerBatch.PendingRecord record, int size, long nowMs,
            boolean allowNewBatch) {
        Deque<ProducerBatch> deque = queues.computeIfAbsent(tp, k -> new ArrayDeque<>());
        synchronized (deque) {
            ProducerBatch last = deque.peekLast();
            if (last != null && !last.hasSequence() && last.hasRoomFor(size, batchSize)) {
                last.append(record, size);
                return new AppendResult(true, false);
            }
            if (!allowNewBatch) {
                return new AppendResult(false, false);
            }
            if (last != null) {
                last.close();
            }
            ProducerBatch batch = new ProducerBatch(tp, nowMs, compression,
                    pool.takeBuffer(ProducerBatch.bufferSizeFor(size)), batchSize, batchSize / size + 1);
            batch.append(record, size);
            deque.addLast(batch);
            incomplete.add(batch);
            return new AppendResult(true, true);
        }
    }

    /**
     * The first batch of {@code tp} if it may be sent now, else null. A batch is sendable when it is
     * full or not the last in its queue, lingered {@code linger.ms}, or a flush or close waits, and
     * any retry backoff has passed.
     */
    ProducerBatch peekSendable(TopicPartition tp, long nowMs) {
        Deque<ProducerBatch> deque = queues.get(tp);
        if (deque == null) {
            return null;
        }
        synchronized (deque) {
            ProducerBatch first = deque.peekFirst();
            if (first == null || first.retryAfterMs > nowMs) {
                return null;
            }
            boolean ready = first.attempts > 0 || deque.size() > 1 || first.isFull(batchSize)
                    || nowMs - first.createdMs >= lingerMs || closing || flushesInProgress.get() > 0;
            return ready ? first : null;
        }
    }

    /** Removes {@code batch} (the first of its queue, as peeked) and closes it to appends. */
    void poll(ProducerBatch batch) {
        Deque<ProducerBatch> deque = queues.get(batch.tp);
        synchronized (deque) {
            if (deque.peekFirst() != batch) {
                throw new IllegalStateException("drained " + batch + " is not first in its queue");
            }
            deque.pollFirst();
            batch.close();
        }
    }

    /** Puts a batch to retry back into its queue, before every batch with a higher sequence. */
    void reenqueue(ProducerBatch batch) {
        Deque<ProducerBatch> deque = queues.computeIfAbsent(batch.tp, k -> new ArrayDeque<>());
        synchronized (deque) {
            // Behind the re-queued batches that were sent before it, so that retries keep the
            // order of the first sends: by sequence with idempotence, else by send order.
            List<ProducerBatch> before = new ArrayList<>();
            while (!deque.isEmpty() && sentBefore(deque.peekFirst(), batch)) {
                before.add(deque.pollFirst());
            }
            deque.addFirst(batch);
            for (int i = before.size() - 1; i >= 0; i--) {
                deque.addFirst(before.get(i));
            }
        }
    }

    private static boolean sentBefore(ProducerBatch queued, ProducerBatch batch) {
        if (batch.hasSequence()) {
            return queued.hasSequence() && queued.baseSequence() < batch.baseSequence();
        }
        return queued.sendOrder >= 0 && queued.sendOrder < batch.sendOrder;
    }

    /** Partitions with queued batches. */
    List<TopicPartition> partitionsWithData() {
        List<TopicPartition> out = new ArrayList<>();
        queues.forEach((tp, deque) -> {
            synchronized (deque) {
                if (!deque.isEmpty()) {
                    out.add(tp);
                }
            }
        });
        return out;
    }

    /** The earliest time a queued batch becomes sendable by lingering, or Long.MAX_VALUE. */
    long nextLingerDeadline() {
        long next = Long.MAX_VALUE;
        for (Deque<ProducerBatch> deque : queues.values()) {
            synchronized (deque) {
                ProducerBatch first = deque.peekFirst();
                if (first != null) {
                    next = Math.min(next, Math.max(first.createdMs + lingerMs, first.retryAfterMs));
                }
            }
        }
        return next;
    }

    /** Removes and returns queued (not in flight) batches that match {@code test}. */
    List<ProducerBatch> removeQueued(java.util.function.Predicate<ProducerBatch> test) {
        List<ProducerBatch> out = new ArrayList<>();
        for (Deque<ProducerBatch> deque : queues.values()) {
            synchronized (deque) {
                Iterator<ProducerBatch> it = deque.iterator();
                while (it.hasNext()) {
                    ProducerBatch b = it.next();
                    if (test.test(b)) {
                        it.remove();
                        b.close();
                        out.add(b);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Removes and closes the queued batches created {@code timeoutMs} or more before {@code nowMs}.
     * A deque is in creation order (a retry goes back to the front, and it is older than what
     * follows), so only its head needs looking at: this runs on every sender pass.
     */
    List<ProducerBatch> removeExpired(long nowMs, long timeoutMs) {
        List<ProducerBatch> out = null;
        for (Deque<ProducerBatch> deque : queues.values()) {
            synchronized (deque) {
                ProducerBatch head;
                while ((head = deque.peekFirst()) != null && nowMs - head.createdMs >= timeoutMs) {
                    deque.pollFirst();
                    head.close();
                    if (out == null) {
                        out = new ArrayList<>();
                    }
                    out.add(head);
                }
            }
        }
        return out == null ? List.of() : out;
    }

    /** Every queued batch (for resetting sequences), in no particular order. */
    List<ProducerBatch> queuedBatches() {
        List<ProducerBatch> out = new ArrayList<>();
        for (Deque<ProducerBatch> deque : queues.values()) {
            synchronized (deque) {
                out.addAll(deque);
            }
        }
        return out;
    }

    /** Called by the sender when a batch completed either way: frees its memory and its buffer. */
    void deallocate(ProducerBatch batch) {
        if (incomplete.remove(batch)) {
            pool.release(batch.reservedBytes());
            batch.returnBuffers().forEach(pool::giveBuffer);
        }
    }

    boolean hasIncomplete() {
        return !incomplete.isEmpty();
    }

    List<ProducerBatch> incompleteBatches() {
        return new ArrayList<>(incomplete);
    }

    void beginFlush() {
        flushesInProgress.incrementAndGet();
    }

    void endFlush() {
        flushesInProgress.decrementAndGet();
    }

    void beginClosing() {
        closing = true;
    }
}
