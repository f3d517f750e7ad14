package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress and summary lines of perf produce, in kafka-producer-perf-test's shape. */
class ProducePerfStatsTest {
    @Test
    void printsAWindowLineEveryIntervalAndKafkasSummary() {
        AtomicLong nowMs = new AtomicLong(1_000);
        StringWriter out = new StringWriter();
        ProducePerfStats stats = new ProducePerfStats(new PrintWriter(out, true), nowMs::get, 5_000);
        // 1000 records over 5 s with latencies 1..1000 ms, 100 bytes each
        for (int i = 1; i <= 1000; i++) {
            nowMs.set(1_000 + i * 5L);
            stats.record(i * 1000L, 100);
        }
        assertEquals("1000 records sent, 200.0 records/sec (0.02 MB/sec), 500.5 ms avg latency, 1000.0 ms max latency."
                + System.lineSeparator(), out.toString());
        nowMs.set(11_000);
        assertEquals("1000 records sent, 100.0 records/sec (0.01 MB/sec), 500.50 ms avg latency, 1000.00 ms max"
                + " latency, 500 ms 50th, 950 ms 95th, 990 ms 99th, 999 ms 99.9th.", stats.summary());
    }

    @Test
    void tableColumnsAreAlignedToTheWidestCell() {
        StringWriter out = new StringWriter();
        new TableWriter("  ", "ID", "STATE").row(1, "UNFENCED").row(10, "FENCED").print(new PrintWriter(out, true));
        String nl = System.lineSeparator();
        assertEquals("  ID  STATE" + nl + "  1   UNFENCED" + nl + "  10  FENCED" + nl, out.toString());
    }
}
