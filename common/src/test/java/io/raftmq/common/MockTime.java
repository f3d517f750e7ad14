package io.raftmq.common;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Time} that only moves when a test advances it. Components that wait for deadlines
 * (event loops) register a listener so that advancing the clock wakes them up.
 *
 * <p>Thread-safe: any thread may read or advance it.
 */
public final class MockTime implements Time {
    private final AtomicLong nowNs;
    private final long epochOffsetMs;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    public MockTime() {
        this(1_700_000_000_000L, 1_000_000_000L);
    }

    public MockTime(long wallClockMs, long monotonicNs) {
        this.nowNs = new AtomicLong(monotonicNs);
        this.epochOffsetMs = wallClockMs - monotonicNs / 1_000_000L;
    }

    @Override
    public long milliseconds() {
        return epochOffsetMs + nowNs.get() / 1_000_000L;
    }

    @Override
    public long nanoseconds() {
        return nowNs.get();
    }

    @Override
    public void sleep(long ms) {
        advanceMs(ms);
    }

    /** Moves the clock forward and wakes every listener. */
    public void advanceMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("time cannot move back: " + ms + " ms");
        }
        nowNs.addAndGet(ms * 1_000_000L);
        listeners.forEach(Runnable::run);
    }

    /** Called (on the advancing thread) after every {@link #advanceMs}. */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }
}
