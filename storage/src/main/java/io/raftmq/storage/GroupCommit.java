package io.raftmq.storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

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
 * <p>A truncation ({@link #truncatedTo}) starts a new generation: an fsync that started before it
 * covers nothing once it ends (what it forced may since have been cut off and written again), so
 * it moves the durable offset nowhere and the requests left wait for the next one.
 *
 * <p>Thread-safety: all state is guarded by {@code this}. Futures are completed outside that lock,
 * and those completed by {@link #markDurable}, {@link #truncatedTo} and {@link #fail} (which the log
 * calls under its write lock, possibly under a partition's lock too) on the executor: their
 * callbacks complete waiting requests, which take other partitions' locks, and must never run
 * under a lock of the thread that truncated or failed the log.
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
    /** Bumped by every truncation. */
    private long generation;
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
        completeOnExecutor(done, f -> f.complete(null));
    }

    /** The log was truncated to {@code endOffset}: requests past it can never be satisfied. */
    void truncatedTo(long endOffset) {
        List<Waiter> failed = new ArrayList<>();
        synchronized (this) {
            generation++;
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
        completeOnExecutor(failed, f -> f.completeExceptionally(e));
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
        completeOnExecutor(failed, f -> f.completeExceptionally(cause));
    }

    /** Runs completions on the executor, or here when it is shut down (the process is stopping). */
    private void completeOnExecutor(List<Waiter> waiters, Consumer<CompletableFuture<Void>> completion) {
        if (waiters.isEmpty()) {
            return;
        }
        Runnable completions = () -> waiters.forEach(w -> completion.accept(w.future()));
        try {
            executor.execute(completions);
        } catch (RejectedExecutionException shutDown) {
            completions.run();
        }
    }

    private void schedule() {
        try {
            executor.execute(this::run);
        } catch (RejectedExecutionException e) {
            fail(new IllegalStateException("the flush executor is shut down", e));
        }
    }

    private void run() {
        long startedIn;
        synchronized (this) {
            startedIn = generation;
        }
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
            if (generation == startedIn) {
                durableOffset = Math.max(durableOffset, covered);
            }
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
