package io.raftmq.node;

import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.DeliveryCheck;
import io.raftmq.protocol.record.Record;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Produces to one partition without pause, one record per acks=all request, as an application
 * would: each value ("v-N") is retried after an error until some leader acknowledges it, then the
 * next is sent. Every acknowledgement is kept (value, offset, time), so a test can check afterwards
 * that each acknowledged record is in the log at the offset it was acknowledged with, and measure
 * the longest time without an acknowledgement.
 *
 * <p>Threads: one producing thread; {@link #acks()} and counters may be read from any thread.
 */
final class ContinuousProducer implements AutoCloseable {
    /** An acknowledged record. */
    record Ack(long seq, long offset, long ackNanos) {}

    private final TestBrokerClient client;
    private final String topic;
    private final int partition;
    private final int timeoutMs;
    private final List<Ack> acks = new CopyOnWriteArrayList<>();
    private final Map<ErrorCode, AtomicLong> errors = new java.util.concurrent.ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    ContinuousProducer(TestBrokerClient client, String topic, int partition, int timeoutMs) {
        this.client = client;
        this.topic = topic;
        this.partition = partition;
        this.timeoutMs = timeoutMs;
        this.thread = new Thread(this::run, "continuous-producer-" + topic + "-" + partition);
        this.thread.setDaemon(true);
    }

    static String value(long seq) {
        return "v-" + seq;
    }

    void start() {
        thread.start();
    }

    private void run() {
        long seq = 0;
        while (running) {
            var batch = TestBrokerClient.batch(List.of(value(seq).getBytes(StandardCharsets.UTF_8)));
            TestBrokerClient.ProduceOutcome outcome = client.produceOnce(topic, partition, -1, timeoutMs, batch);
            if (outcome.error() == ErrorCode.NONE) {
                acks.add(new Ack(seq, outcome.baseOffset(), System.nanoTime()));
                seq++;
            } else {
                errors.computeIfAbsent(outcome.error(), e -> new AtomicLong()).incrementAndGet();
                if (!TestBrokerClient.RETRIABLE.contains(outcome.error())) {
                    throw new IllegalStateException("produce failed for good: " + outcome);
                }
                // A client's retry backoff; the same value is sent again.
                pause(10);
            }
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    List<Ack> acks() {
        return acks;
    }

    int ackCount() {
        return acks.size();
    }

    Map<ErrorCode, AtomicLong> errors() {
        return errors;
    }

    /**
     * The longest time without an acknowledgement around {@code eventNanos} (ms): the largest gap
     * between consecutive acknowledgements from the last one before the event to the
     * {@code resumedAfter}-th after it (an acknowledgement in flight at the event must not hide the
     * outage that follows). -1 when there are not that many yet.
     */
    double gapAroundMs(long eventNanos, int resumedAfter) {
        List<Ack> all = new ArrayList<>(acks);
        int first = 0;
        while (first < all.size() && all.get(first).ackNanos() <= eventNanos) {
            first++;
        }
        int from = Math.max(0, first - 1);
        int to = first + resumedAfter - 1;
        if (to >= all.size() || first == 0) {
            return -1;
        }
        long longest = 0;
        for (int i = from; i < to; i++) {
            longest = Math.max(longest, all.get(i + 1).ackNanos() - all.get(i).ackNanos());
        }
        return longest / 1e6;
    }

    /** ms from {@code eventNanos} to the end of the longest gap measured by {@link #gapAroundMs}. */
    double resumedAfterMs(long eventNanos, int resumedAfter) {
        List<Ack> all = new ArrayList<>(acks);
        int first = 0;
        while (first < all.size() && all.get(first).ackNanos() <= eventNanos) {
            first++;
        }
        int from = Math.max(0, first - 1);
        int to = Math.min(all.size() - 1, first + resumedAfter - 1);
        long longest = -1;
        long end = -1;
        for (int i = from; i < to; i++) {
            long gap = all.get(i + 1).ackNanos() - all.get(i).ackNanos();
            if (gap > longest) {
                longest = gap;
                end = all.get(i + 1).ackNanos();
            }
        }
        return end < 0 ? -1 : (end - eventNanos) / 1e6;
    }

    /** Stops producing (waits for the request in flight). Idempotent. */
    void stop() {
        running = false;
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Compares the acknowledgements with the partition's log as read back from offset 0. */
    DeliveryCheck.Verdict verify(List<Record> log) {
        DeliveryCheck check = new DeliveryCheck();
        for (Ack a : acks) {
            check.acknowledged(a.offset(), value(a.seq()));
        }
        for (Record r : log) {
            check.read(r.offset(), new String(r.valueBytes(), StandardCharsets.UTF_8));
        }
        return check.verdict();
    }
}
