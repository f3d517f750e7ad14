package io.raftmq.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * Counts acknowledged records and their latencies (send call to acknowledgement) for
 * {@code perf produce}, printing a progress line per reporting window and the summary at the end in
 * kafka-producer-perf-test's shape. Latencies go into an HdrHistogram in microseconds (3
 * significant digits), so percentiles cost constant memory whatever the record count.
 *
 * <p>Called from the producer's I/O thread (callbacks) and from the sending thread (the summary):
 * every method is synchronized on this object.
 */
final class ProducePerfStats {
    private static final long MAX_LATENCY_US = 3_600_000_000L;

    private final PrintWriter out;
    private final LongSupplier clockMs;
    private final long reportingIntervalMs;
    private final long startMs;
    private final Histogram total = new Histogram(MAX_LATENCY_US, 3);

    private long count;
    private long bytes;
    private long maxLatencyUs;
    private long totalLatencyUs;

    private long windowStartMs;
    private long windowCount;
    private long windowBytes;
    private long windowMaxUs;
    private long windowTotalUs;

    ProducePerfStats(PrintWriter out, LongSupplier clockMs, long reportingIntervalMs) {
        this.out = out;
        this.clockMs = clockMs;
        this.reportingIntervalMs = reportingIntervalMs;
        this.startMs = clockMs.getAsLong();
        this.windowStartMs = startMs;
    }

    synchronized void record(long latencyUs, int recordBytes) {
        long us = Math.max(0, Math.min(latencyUs, MAX_LATENCY_US));
        total.recordValue(us);
        count++;
        bytes += recordBytes;
        totalLatencyUs += us;
        maxLatencyUs = Math.max(maxLatencyUs, us);
        windowCount++;
        windowBytes += recordBytes;
        windowTotalUs += us;
        windowMaxUs = Math.max(windowMaxUs, us);
        long now = clockMs.getAsLong();
        if (now - windowStartMs >= reportingIntervalMs) {
            printWindow(now);
        }
    }

    synchronized long count() {
        return count;
    }

    private void printWindow(long now) {
        double elapsedS = Math.max(1, now - windowStartMs) / 1000.0;
        out.printf(Locale.ROOT, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.%n",
                windowCount, windowCount / elapsedS, windowBytes / elapsedS / (1024.0 * 1024.0),
                windowCount == 0 ? 0.0 : windowTotalUs / 1000.0 / windowCount, windowMaxUs / 1000.0);
        out.flush();
        windowStartMs = now;
        windowCount = 0;
        windowBytes = 0;
        windowTotalUs = 0;
        windowMaxUs = 0;
    }

    /** The final line, as kafka-producer-perf-test prints it (MB = 2^20 bytes, like Kafka's). */
    synchronized String summary() {
        double elapsedS = Math.max(1, clockMs.getAsLong() - startMs) / 1000.0;
        return String.format(Locale.ROOT,
                "%d records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency,"
                        + " %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
                count, count / elapsedS, bytes / elapsedS / (1024.0 * 1024.0),
                count == 0 ? 0.0 : totalLatencyUs / 1000.0 / count, maxLatencyUs / 1000.0,
                percentileMs(50), percentileMs(95), percentileMs(99), percentileMs(99.9));
    }

    private long percentileMs(double p) {
        return count == 0 ? 0 : total.getValueAtPercentile(p) / 1000;
    }
}
