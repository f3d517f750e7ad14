package io.raftmq.replication;

import io.raftmq.common.MockTime;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} that runs nothing by itself: tasks run on the test's thread
 * when it calls {@link #runDue()}, those whose time on the {@link MockTime} has come, in deadline
 * order (submission order among equal deadlines). A task submitted or scheduled by a running task
 * and already due runs in the same call. Periodic tasks are scheduled again after they run.
 *
 * <p>Thread-safety: the queue is guarded by {@code this}; tasks run with no lock held, on the
 * thread that calls {@link #runDue()}.
 */
final class MockScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final MockTime time;
    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private final List<Throwable> failures = new ArrayList<>();
    private long nextSeq;
    private boolean shutdown;

    MockScheduler(MockTime time) {
        this.time = time;
    }

    /**
     * Runs every task due now, including those that due tasks schedule for now; returns how many
     * ran. A task that threw fails the test here (a real executor would only have kept it in its
     * future), after the other due tasks ran.
     */
    int runDue() {
        int ran = 0;
        while (true) {
            Task<?> next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.deadlineMs > time.monotonicMs()) {
                    break;
                }
                queue.poll();
            }
            next.runOnce();
            ran++;
        }
        List<Throwable> thrown;
        synchronized (this) {
            thrown = new ArrayList<>(failures);
            failures.clear();
        }
        if (!thrown.isEmpty()) {
            AssertionError error = new AssertionError("a scheduled task threw", thrown.get(0));
            thrown.subList(1, thrown.size()).forEach(error::addSuppressed);
            throw error;
        }
        return ran;
    }

    /** Tasks waiting (not cancelled), due or not. */
    synchronized int pending() {
        int n = 0;
        for (Task<?> t : queue) {
            if (!t.isCancelled()) {
                n++;
            }
        }
        return n;
    }

    private <V> Task<V> enqueue(Task<V> task) {
        synchronized (this) {
            if (shutdown) {
                throw new RejectedExecutionException("the mock scheduler is shut down");
            }
            task.seq = nextSeq++;
            queue.add(task);
        }
        return task;
    }

    private long deadline(long delay, TimeUnit unit) {
        return time.monotonicMs() + Math.max(0, unit.toMillis(delay));
    }

    @Override
    public void execute(Runnable command) {
        enqueue(new Task<>(Executors.callable(command, null), time.monotonicMs(), 0));
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return enqueue(new Task<>(Executors.callable(command, null), deadline(delay, unit), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return enqueue(new Task<>(callable, deadline(delay, unit), 0));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return enqueue(new Task<>(Executors.callable(command, null), deadline(initialDelay, unit),
                Math.max(1, unit.toMillis(period))));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return scheduleAtFixedRate(command, initialDelay, delay, unit);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(queue);
        queue.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    /** One task; a periodic one runs again {@code periodMs} after each run until cancelled. */
    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        private long deadlineMs;
        private long seq;
        private final long periodMs;

        Task(Callable<V> callable, long deadlineMs, long periodMs) {
            super(() -> {
                try {
                    return callable.call();
                } catch (Exception | Error t) {
                    synchronized (MockScheduler.this) {
                        failures.add(t);
                    }
                    throw t;
                }
            });
            this.deadlineMs = deadlineMs;
            this.periodMs = periodMs;
        }

        void runOnce() {
            if (periodMs == 0) {
                run();
                return;
            }
            if (runAndReset()) {
                deadlineMs = time.monotonicMs() + periodMs;
                synchronized (MockScheduler.this) {
                    if (!shutdown) {
                        queue.add(this);
                    }
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            synchronized (MockScheduler.this) {
                queue.remove(this);
            }
            return cancelled;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(deadlineMs - time.monotonicMs(), TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> o = (Task<?>) other;
            int byDeadline = Long.compare(deadlineMs, o.deadlineMs);
            return byDeadline != 0 ? byDeadline : Long.compare(seq, o.seq);
        }
    }
}
