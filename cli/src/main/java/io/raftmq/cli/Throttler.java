package io.raftmq.cli;

/**
 * Keeps a sender at or under a target rate (records per second), as --throughput asks; a negative
 * target means unthrottled. Used by the one sending thread.
 */
final class Throttler {
    private final double targetPerSec;
    private final long startNs;

    Throttler(double targetPerSec, long startNs) {
        this.targetPerSec = targetPerSec;
        this.startNs = startNs;
    }

    /** Waits until sending record number {@code sent} (0-based) keeps to the target rate. */
    void await(long sent, long nowNs) throws InterruptedException {
        if (targetPerSec <= 0) {
            return;
        }
        long dueNs = startNs + (long) (sent * 1e9 / targetPerSec);
        long waitNs = dueNs - nowNs;
        if (waitNs > 0) {
            // A rate limit between sends: sleeping is what throttling is.
            Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
        }
    }
}
