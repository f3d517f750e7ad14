package io.raftmq.replication;

import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request parked until a condition holds (records replicated, data to fetch) or its time runs
 * out. Completes exactly once, from whichever thread first sees it ready or expired.
 *
 * <p>Subclasses implement {@link #tryComplete()} (check the condition; if it holds, call {@link
 * #forceComplete()}), {@link #onComplete()} (send the answer) and nothing else needs locking:
 * completion is guarded by an atomic flag.
 */
abstract class DelayedOperation {
    private final AtomicBoolean completed = new AtomicBoolean();
    private volatile ScheduledFuture<?> timeout;
    private volatile List<Object> watchKeys = List.of();

    /** Checks the condition and completes if it holds; returns whether this call completed it. */
    abstract boolean tryComplete();

    /** Sends the answer (the condition holds, or time ran out). Called once. */
    abstract void onComplete();

    boolean forceComplete() {
        if (!completed.compareAndSet(false, true)) {
            return false;
        }
        ScheduledFuture<?> t = timeout;
        if (t != null) {
            t.cancel(false);
        }
        onComplete();
        return true;
    }

    boolean isCompleted() {
        return completed.get();
    }

    void setTimeout(ScheduledFuture<?> timeout) {
        this.timeout = timeout;
    }

    void setWatchKeys(List<Object> keys) {
        this.watchKeys = keys;
    }

    List<Object> watchKeys() {
        return watchKeys;
    }
}
