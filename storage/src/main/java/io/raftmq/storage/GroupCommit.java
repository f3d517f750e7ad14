package io.raftmq.storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Group commit for one log. Appenders ask for their bytes to become durable ({@link
 * #awaitDurable}); one fsync at a time runs on a shared executor and covers everything written
 * before it started, so requests that arrive while it runs share the next one.
 *
 * <pre>
 *   IDLE -(request)-> SCHEDULED -(fsync done, requests left)-> SCHEDULED
 *                                -(fsync done, none left)-> IDLE
 *   any -(fsync failed)-> FAILED (every request, present and future, fails)
 * </pre>
 *
 * <p>Thread-safety: all state is guarded by {@code this}; futures are completed outside the lock.
 */
final class GroupCommit {

    /** Forces the log to disk; returns the offset up to which (exclusive) everything is durable. */
    interface Flush {
        long flushNow() throws IOException;
    }

    private record Waiter(long endOffset, CompletableFuture<Void> future) implements Comparable<Waiter> {
        @Override
        public int compareTo(Waiter o) {
            return Long.compare(endOffset, o.endOffset);
        }
    }

    private final Executor executor;
    private final Flush flush;
    // Guarded by this.
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();
    private long durableOffset;
    private boolean scheduled;
    private Throwable failure;

    GroupCommit(Executor executor, Flush flush, long durableOffset) {
        this.executor = executor;
        this.flush = flush;
        this.durableOffset = durableOffset;
    }

    /** Completes once everything below {@code endOffset} is on disk. */
    CompletableFuture<Void> awaitDurable(long endOffset) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        boolean start;
        synchronized (this) {
            if (failure != null) {
                future.completeExceptionally(failure);
                return future;
            }
            if (endOffset <= durableOffset) {
                future.complete(null);
                return future;
            }
            waiters.add(new Waiter(endOffset, future));
            start = !scheduled;
            scheduled = true;
        }
        if (start) {
            schedule();
        }
        return future;
    }

    synchronized long durableOffset() {
        return durableOffset;
    }

    /** Everything below {@code endOffset} was made durable by someone else (a flush at close). */
    void markDurable(long endOffset) {
        List<Waiter> done = new ArrayList<>();
        synchronized (this) {
            durableOffset = Math.max(durableOffset, endOffset);
            while (!waiters.isEmpty() && waiters.peek().endOffset() <= durableOffset) {
                done.add(waiters.poll());
            }
        }
        done.forEach(w -> w.future().complete(null));
    }

    /** The log was truncated to {@code endOffset}: requests past it can never be satisfied. */
    void truncatedTo(long endOffset) {
        List<Waiter> failed = new ArrayList<>();
        synchronized (this) {
            durableOffset = Math.min(durableOffset, endOffset);
            waiters.removeIf(w -> {
                if (w.endOffset() > endOffset) {
                    failed.add(w);
                    return true;
                }
                return false;
            });
        }
        IllegalStateException e = new IllegalStateException("the log was truncated to " + endOffset
                + " before these records became durable");
        failed.forEach(w -> w.future().completeExceptionally(e));
    }

    /** Fails every waiting and future request (the log went offline or closed). */
    void fail(Throwable cause) {
        List<Waiter> failed;
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
            failed = new ArrayList<>(waiters);
            waiters.clear();
        }
        failed.forEach(w -> w.future().completeExceptionally(cause));
    }

    private void schedule() {
        try {
            executor.execute(this::run);
        } catch (RejectedExecutionException e) {
            fail(new IllegalStateException("the flush executor is shut down", e));
        }
    }

    private void run() {
        long covered;
        try {
            covered = flush.flushNow();
        } catch (IOException | RuntimeException e) {
            fail(e);
            return;
        }
        List<Waiter> done = new ArrayList<>();
        boolean again;
        synchronized (this) {
            durableOffset = Math.max(durableOffset, covered);
            while (!waiters.isEmpty() && waiters.peek().endOffset() <= durableOffset) {
                done.add(waiters.poll());
            }
            again = !waiters.isEmpty() && failure == null;
            scheduled = again;
        }
        done.forEach(w -> w.future().complete(null));
        if (again) {
            schedule();
        }
    }
}
