package io.raftmq.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where delayed operations wait. Each is watched under keys (partitions); whoever changes a
 * partition calls {@link #checkAndComplete} for it, which completes the operations whose condition
 * now holds. Each operation also completes when its timeout expires.
 *
 * <p>Thread-safe: watcher sets are concurrent; completion is the operation's own atomic flag.
 */
final class Purgatory<T extends DelayedOperation> {
    private final String name;
    private final ScheduledExecutorService scheduler;
    private final Map<Object, Set<T>> watchers = new ConcurrentHashMap<>();

    Purgatory(String name, ScheduledExecutorService scheduler) {
        this.name = name;
        this.scheduler = scheduler;
    }

    /**
     * Completes {@code op} now if it can; otherwise watches it under {@code keys} until it can or
     * {@code timeoutMs} passes.
     */
    void tryCompleteElseWatch(T op, List<Object> keys, long timeoutMs) {
        if (op.tryComplete()) {
            return;
        }
        op.setWatchKeys(keys);
        for (Object key : keys) {
            watchers.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(op);
        }
        // A change between the first check and the watch would otherwise be missed.
        if (op.tryComplete()) {
            unwatch(op);
            return;
        }
        try {
            op.setTimeout(scheduler.schedule(() -> {
                if (op.forceComplete()) {
                    unwatch(op);
                }
            }, Math.max(0, timeoutMs), TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException shuttingDown) {
            op.forceComplete();
            unwatch(op);
        }
        if (op.isCompleted()) {
            unwatch(op);
        }
    }

    /** Completes the operations watched under {@code key} whose condition now holds. */
    void checkAndComplete(Object key) {
        Set<T> ops = watchers.get(key);
        if (ops == null || ops.isEmpty()) {
            return;
        }
        List<T> done = new ArrayList<>();
        for (T op : ops) {
            if (op.isCompleted() || op.tryComplete()) {
                done.add(op);
            }
        }
        done.forEach(this::unwatch);
    }

    /** Completes everything now (shutdown): answers go out with whatever state they have. */
    void completeAll() {
        for (Set<T> ops : watchers.values()) {
            for (T op : ops) {
                op.forceComplete();
            }
        }
        watchers.clear();
    }

    int watched() {
        int n = 0;
        for (Set<T> ops : watchers.values()) {
            n += ops.size();
        }
        return n;
    }

    private void unwatch(T op) {
        for (Object key : op.watchKeys()) {
            Set<T> ops = watchers.get(key);
            if (ops != null) {
                // Empty sets stay: removing one could drop an operation another thread is adding to
                // it. Keys are partitions, so they are bounded.
                ops.remove(op);
            }
        }
    }

    @Override
    public String toString() {
        return "Purgatory(" + name + ", " + watched() + " waiting)";
    }
}
