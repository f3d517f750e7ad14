package io.raftmq.common;

/**
 * The clock, injected wherever protocol logic needs the time, so that tests can drive it
 * ({@code MockTime} in this module's test-jar). Protocol code never calls
 * {@link System#currentTimeMillis()} or {@link System#nanoTime()} directly.
 *
 * <p>Implementations are thread-safe.
 */
public interface Time {

    /** The process-wide system clock. */
    Time SYSTEM = new SystemTime();

    /** Wall-clock time in milliseconds since the epoch (for timestamps that leave the process). */
    long milliseconds();

    /** Monotonic time in nanoseconds (for timeouts, deadlines and durations). */
    long nanoseconds();

    /** Monotonic time in milliseconds; differences are meaningful, absolute values are not. */
    default long monotonicMs() {
        return nanoseconds() / 1_000_000L;
    }

    /** Blocks the calling thread; a mock clock advances instead. Not for protocol logic. */
    void sleep(long ms) throws InterruptedException;
}
