package io.raftmq.faults;

import io.raftmq.client.Admin;
import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRebalanceListener;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.ConsumerRecords;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load of a fault run: two producers of the SDK at acks=all, one idempotent and one not, each
 * writing unique values ("idem-17", "plain-17") round-robin over the topic's partitions; two members
 * of one consumer group reading with commitSync after every non-empty poll; and a sampler that reads
 * the group's committed offsets back every second. Everything seen goes into a {@link History}.
 *
 * <p>Threads: one thread per producer, per consumer and for the sampler, started by
 * {@link #start()}; {@link #stopProducers()} and {@link #stopConsumers} are called from the test
 * thread.
 */
final class Workload {
    static final String GROUP = "fault-checker";
    private static final int MAX_IN_FLIGHT = 64;
    /** Between sends: keeps each producer at a few hundred records a second on a shared machine. */
    private static final long SEND_PAUSE_MS = 3;

    private final String bootstrap;
    private final String topic;
    private final int partitions;
    private final History history;
    private final List<Thread> producerThreads = new ArrayList<>();
    private final List<Thread> consumerThreads = new ArrayList<>();
    private Thread sampler;
    private volatile boolean producing = true;
    private volatile boolean consuming = true;

    Workload(String bootstrap, String topic, int partitions, History history) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.partitions = partitions;
        this.history = history;
    }

    void start() {
        producerThreads.add(thread("producer-idem", () -> produce("idem", true)));
        producerThreads.add(thread("producer-plain", () -> produce("plain", false)));
        consumerThreads.add(thread("consumer-a", () -> consume("consumer-a")));
        consumerThreads.add(thread("consumer-b", () -> consume("consumer-b")));
        sampler = thread("commit-sampler", this::sampleCommits);
    }

    private static Thread thread(String name, Runnable body) {
        Thread t = new Thread(body, "workload-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void produce(String name, boolean idempotent) {
        ProducerConfig config = ProducerConfig.builder().bootstrapServers(bootstrap).clientId(name).acks("all")
                .enableIdempotence(idempotent).lingerMs(2).requestTimeoutMs(5_000).deliveryTimeoutMs(60_000)
                .build();
        AtomicLong failures = history.sendFailures.computeIfAbsent(name, n -> new AtomicLong());
        AtomicLong sent = history.sent.computeIfAbsent(name, n -> new AtomicLong());
        Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        try (Producer<String, String> producer = new Producer<>(config, Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            for (long seq = 0; producing; seq++) {
                String id = name + "-" + seq;
                int partition = (int) (seq % partitions);
                if (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) {
                    seq--;
                    continue;
                }
                sent.incrementAndGet();
                long sentNanos = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, partition, id, id), (metadata, error) -> {
                    inFlight.release();
                    if (error != null) {
                        failures.incrementAndGet();
                    } else {
                        history.acks.add(new History.Ack(name, idempotent, id, metadata.partition(),
                                metadata.offset(), sentNanos, System.nanoTime()));
                    }
                });
                Thread.sleep(SEND_PAUSE_MS);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void consume(String name) {
        List<History.ConsumerEvent> events = history.consumer(name);
        ConsumerConfig config = ConsumerConfig.builder().bootstrapServers(bootstrap).clientId(name).groupId(GROUP)
                .enableAutoCommit(false).autoOffsetReset("earliest").maxPollRecords(500).sessionTimeoutMs(10_000)
                .heartbeatIntervalMs(1_000).fetchMaxWaitMs(100).requestTimeoutMs(5_000).build();
        try (Consumer<String, String> consumer = new Consumer<>(config, Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                    events.add(new History.Revoked(revoked.stream().map(TopicPartition::partition).sorted().toList()));
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                    events.add(new History.Assigned(assigned.stream().map(TopicPartition::partition).sorted()
                            .toList()));
                }
            });
            while (consuming) {
                try {
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                    Map<Integer, Long> next = new HashMap<>();
                    for (ConsumerRecord<String, String> r : records) {
                        events.add(new History.Consumed(r.partition(), r.offset(), r.value()));
                        next.put(r.partition(), r.offset() + 1);
                    }
                    next.forEach((p, o) -> history.consumedTo.merge(p, o, Math::max));
                    if (!next.isEmpty()) {
                        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                        next.forEach((p, o) -> offsets.put(new TopicPartition(topic, p), new OffsetAndMetadata(o)));
                        consumer.commitSync(offsets);
                        long now = System.nanoTime();
                        next.forEach((p, o) -> history.commitAcks.add(new History.Commit(name, p, o, now)));
                    }
                } catch (RuntimeException e) {
                    // A rebalance, a coordinator move or a timeout during a fault: go on polling; the
                    // checker judges what was read and committed, not how often it failed.
                    pause(100);
                }
            }
        }
    }

    private void sampleCommits() {
        try (Admin admin = new Admin(io.raftmq.client.AdminConfig.builder().bootstrapServers(bootstrap)
                .defaultApiTimeoutMs(5_000).build())) {
            while (consuming) {
                try {
                    long now = System.nanoTime();
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP);
                    committed.forEach((tp, om) -> {
                        if (tp.topic().equals(topic)) {
                            history.commitSamples.add(new History.Commit("admin", tp.partition(), om.offset(), now));
                        }
                    });
                } catch (RuntimeException e) {
                    // The coordinator may be down or moving; the next sample will do.
                }
                pause(1_000);
            }
        }
    }

    /** Stops sending, waits for the sends in flight to be answered. */
    void stopProducers() throws InterruptedException {
        producing = false;
        for (Thread t : producerThreads) {
            t.join(90_000);
        }
    }

    /**
     * Lets the group read up to {@code endOffsets} (partition -> offset), then stops the consumers;
     * false if it did not get there within the timeout (they are stopped anyway).
     */
    boolean stopConsumers(Map<Integer, Long> endOffsets, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !covered(endOffsets)) {
            Thread.sleep(200);
        }
        boolean covered = covered(endOffsets);
        consuming = false;
        for (Thread t : consumerThreads) {
            t.join(30_000);
        }
        sampler.join(10_000);
        return covered;
    }

    private boolean covered(Map<Integer, Long> endOffsets) {
        return endOffsets.entrySet().stream()
                .allMatch(e -> history.consumedTo.getOrDefault(e.getKey(), 0L) >= e.getValue());
    }

    /** Stops everything at once (a failed run). */
    void abort() throws InterruptedException {
        producing = false;
        consuming = false;
        for (Thread t : producerThreads) {
            t.join(30_000);
        }
        for (Thread t : consumerThreads) {
            t.join(30_000);
        }
        if (sampler != null) {
            sampler.join(10_000);
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
