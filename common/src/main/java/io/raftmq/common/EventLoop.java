package io.raftmq.common;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that runs events in the order they were submitted, plus deferred events that run at
 * a deadline on the injected {@link Time}. Whatever state only its events touch needs no lock:
 * the loop's thread is its owner.
 *
 * <p>Any thread may call {@link #execute}, {@link #offer}, {@link #schedule}, {@link #cancel} and
 * {@link #close}.
 * Life cycle: constructed (no thread) -> {@link #start()} -> running -> {@link #close()} (queued
 * events still run, deferred ones are dropped) -> closed; events submitted after close are
 * rejected with {@link RejectedExecutionException}.
 *
 * <p>An event that throws is a bug in the event: it is logged at ERROR and the loop goes on.
 */
public final class EventLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

    private final String name;
    private final Time time;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeup = lock.newCondition();
    // Guarded by lock.
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    // Guarded by lock: tag -> deferred event; one per tag.
    private final Map<String, Deferred> deferred = new HashMap<>();
    // Guarded by lock.
    private boolean closing;

    private record Deferred(long deadlineNs, Runnable event) {}

    public EventLoop(String name, Time time) {
        this.name = name;
        this.time = time;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /**
     * Runs {@code event} like {@link #execute}, unless {@code maxQueued} events already wait to run:
     * then nothing is queued and the answer is false. For work that clients send (back-pressure
     * they can be told about); the loop's own events use {@link #execute}, which is never refused
     * while the loop runs.
     *
     * @throws RejectedExecutionException once the loop is closed
     */
    public boolean offer(Runnable event, int maxQueued) {
        lock.lock();
        try {
            if (closing) {
                throw new RejectedExecutionException("event loop " + name + " is closed");
            }
            if (queue.size() >= maxQueued) {
                return false;
            }
            queue.add(event);
            wakeup.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code event} on the loop after every event submitted before it. */
    public void execute(Runnable event) {
        lock.lock();
        try {
            if (closing) {
                throw new RejectedExecutionException("event loop " + name + " is closed");
            }
            queue.add(event);
            wakeup.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code event} once {@link Time#nanoseconds()} reaches {@code deadlineNs}, replacing any
     * deferred event with the same tag. Silently dropped once the loop is closing.
     */
    public void schedule(String tag, long deadlineNs, Runnable event) {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            deferred.put(tag, new Deferred(deadlineNs, event));
            wakeup.signal();
        } finally {
            lock.unlock();
        }
    }

    public void cancel(String tag) {
        lock.lock();
        try {
            deferred.remove(tag);
        } finally {
            lock.unlock();
        }
    }

    /** Makes the loop re-check its deadlines now (a mock clock calls this when it advances). */
    public void wakeup() {
        lock.lock();
        try {
            wakeup.signal();
        } finally {
            lock.unlock();
        }
    }

    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs the events already queued, then stops the thread and waits for it (not from itself). */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            deferred.clear();
            wakeup.signal();
        } finally {
            lock.unlock();
        }
        if (!inEventLoop() && thread.isAlive()) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("event loop {} did not stop within 30 s", name);
            }
        }
    }

    private void run() {
        while (true) {
            Runnable event = next();
            if (event == null) {
                return;
            }
            try {
                event.run();
            } catch (Throwable t) {
                LOG.error("event on {} failed", name, t);
            }
        }
    }

    /** The next event to run, waiting for one; null once closing and the queue is empty. */
    private Runnable next() {
        lock.lock();
        try {
            while (true) {
                Runnable queued = queue.poll();
                if (queued != null) {
                    return queued;
                }
                if (closing) {
                    return null;
                }
                long nowNs = time.nanoseconds();
                String dueTag = null;
                long earliestNs = Long.MAX_VALUE;
                for (Map.Entry<String, Deferred> e : deferred.entrySet()) {
                    long deadlineNs = e.getValue().deadlineNs();
                    if (deadlineNs < earliestNs) {
                        earliestNs = deadlineNs;
                        dueTag = e.getKey();
                    }
                }
                if (dueTag != null && earliestNs - nowNs <= 0) {
                    return deferred.remove(dueTag).event();
                }
                if (dueTag == null) {
                    wakeup.awaitUninterruptibly();
                } else {
                    wakeup.awaitNanos(earliestNs - nowNs);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            lock.unlock();
        }
    }
}
