package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classic-protocol consumer group of kafka-clients consumers across a {@code kill -9} of its
 * coordinator's node, on three real node processes: an idempotent acks=all producer writes unique
 * values to an RF 3 topic (min.insync.replicas 2) without pause; two consumers commit synchronously
 * after each poll; the node leading the group's {@code __consumer_offsets} partition is killed.
 * Committed offsets, as read back through Admin every 250 ms, never go backwards; every commit
 * acknowledged before the kill is still there after it; the group goes on consuming and committing
 * (the times from the kill are printed); every acknowledged value is consumed at least once.
 * Duplicates are allowed: records consumed after the last commit are read again by whoever owns the
 * partition after a rebalance, as in Kafka (at-least-once with commit after processing).
 */
@Timeout(300)
class KafkaGroupCoordinatorFailoverIT {
    private static final String TOPIC = "orders";
    private static final String GROUP = "order-processors";
    private static final int PARTITIONS = 6;
    private static final int RECORDS_PER_SECOND = 200;

    @TempDir
    Path dir;

    /**
     * One group member on its own thread, which alone uses its KafkaConsumer: poll, note the values,
     * commitSync the positions; what it saw and committed is published through thread-safe fields.
     */
    private static final class Member {
        final Thread thread;
        final Map<String, Integer> seen;
        final CommitLog commits;
        final List<String> problems;
        volatile Set<TopicPartition> assignment = Set.of();
        volatile boolean running = true;
        private final Map<String, Object> props;
        private final AtomicLong killNanos;
        final AtomicLong firstRecordAfterKillNanos;
        final Map<Integer, Long> firstRecordAfterKillByPartition;

        Member(String name, Map<String, Object> props, Map<String, Integer> seen, CommitLog commits,
                List<String> problems, AtomicLong killNanos, AtomicLong firstRecordAfterKillNanos,
                Map<Integer, Long> firstRecordAfterKillByPartition) {
            this.props = props;
            this.seen = seen;
            this.commits = commits;
            this.problems = problems;
            this.killNanos = killNanos;
            this.firstRecordAfterKillNanos = firstRecordAfterKillNanos;
            this.firstRecordAfterKillByPartition = firstRecordAfterKillByPartition;
            this.thread = new Thread(this::run, name);
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
                consumer.subscribe(List.of(TOPIC));
                while (running) {
                    ConsumerRecords<String, String> records;
                    try {
                        records = consumer.poll(Duration.ofMillis(200));
                    } catch (RuntimeException e) {
                        problems.add(thread.getName() + " poll: " + e);
                        continue;
                    }
                    assignment = Set.copyOf(consumer.assignment());
                    if (records.isEmpty()) {
                        continue;
                    }
                    long now = System.nanoTime();
                    long kill = killNanos.get();
                    for (ConsumerRecord<String, String> r : records) {
                        seen.merge(r.value(), 1, Integer::sum);
                        if (kill > 0) {
                            firstRecordAfterKillNanos.compareAndSet(0, now);
                            firstRecordAfterKillByPartition.putIfAbsent(r.partition(), now);
                        }
                    }
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    for (TopicPartition tp : records.partitions()) {
                        List<ConsumerRecord<String, String>> inPartition = records.records(tp);
                        offsets.put(tp, new OffsetAndMetadata(inPartition.get(inPartition.size() - 1).offset() + 1));
                    }
                    long started = System.nanoTime();
                    try {
                        consumer.commitSync(offsets, Duration.ofSeconds(15));
                        commits.acknowledged(offsets, started, System.nanoTime());
                    } catch (RuntimeException e) {
                        commits.failed();
                        problems.add(thread.getName() + " commit: " + e);
                    }
                }
            } catch (RuntimeException e) {
                problems.add(thread.getName() + " stopped: " + e);
            }
        }

        void close() throws InterruptedException {
            running = false;
            thread.join(60_000);
        }
    }

    /** Commits acknowledged to the members, per partition the highest; guarded by this. */
    private static final class CommitLog {
        private final Map<TopicPartition, Long> highest = new HashMap<>();
        private long firstStartedAfterNanos = Long.MAX_VALUE;
        private long firstAckAfterStartNanos = -1;
        private int acknowledged;
        private int failed;

        synchronized void acknowledged(Map<TopicPartition, OffsetAndMetadata> offsets, long startedNanos,
                long ackNanos) {
            acknowledged++;
            offsets.forEach((tp, o) -> highest.merge(tp, o.offset(), Math::max));
            if (startedNanos >= firstStartedAfterNanos && firstAckAfterStartNanos < 0) {
                firstAckAfterStartNanos = ackNanos;
            }
        }

        synchronized Map<TopicPartition, Long> highest() {
            return Map.copyOf(highest);
        }

        synchronized int acknowledgedCount() {
            return acknowledged;
        }

        synchronized void failed() {
            failed++;
        }

        /** The highest acknowledged commits so far; later commits are timed for {@link #firstAckOfCommitStartedAfter}. */
        synchronized Map<TopicPartition, Long> snapshotAndWatchFrom(long nanos) {
            firstStartedAfterNanos = nanos;
            return Map.copyOf(highest);
        }

        /** When the first commit started at or after the watched time was acknowledged; -1 if none yet. */
        synchronized long firstAckOfCommitStartedAfter() {
            return firstAckAfterStartNanos;
        }

        synchronized String counts() {
            return acknowledged + " commits acknowledged, " + failed + " failed";
        }
    }

    @Test
    void aGroupKeepsItsCommitsAndGoesOnConsumingAcrossAKillOfItsCoordinator() throws Exception {
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir)) {
            try {
                cluster.startAll();
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                run(cluster);
            } catch (Throwable t) {
                cluster.dumpLogs();
                throw t;
            }
        }
    }

    private void run(NodeProcessCluster cluster) throws Exception {
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        adminProps.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        try (Admin admin = Admin.create(adminProps)) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3);
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);

            Set<String> acked = ConcurrentHashMap.newKeySet();
            AtomicInteger sendErrors = new AtomicInteger();
            AtomicLong produced = new AtomicLong();
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread producerThread = new Thread(
                    () -> produce(cluster.kafkaBootstrap(), producing, acked, sendErrors, produced),
                    "producer");
            producerThread.setDaemon(true);

            Map<String, Integer> seen = new ConcurrentHashMap<>();
            CommitLog commits = new CommitLog();
            List<String> problems = new CopyOnWriteArrayList<>();
            AtomicLong killNanos = new AtomicLong();
            AtomicLong firstRecordAfterKill = new AtomicLong();
            Map<Integer, Long> firstRecordAfterKillByPartition = new ConcurrentHashMap<>();
            List<Member> members = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                members.add(new Member("member-" + i, consumerProps(cluster.kafkaBootstrap()), seen, commits, problems,
                        killNanos, firstRecordAfterKill, firstRecordAfterKillByPartition));
            }
            CommittedOffsetsWatch watch = new CommittedOffsetsWatch(admin);
            try {
                producerThread.start();
                members.forEach(Member::start);
                Set<TopicPartition> all = new HashSet<>();
                for (int p = 0; p < PARTITIONS; p++) {
                    all.add(new TopicPartition(TOPIC, p));
                }
                // Both members share the topic and have committed every partition at least once.
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    Set<TopicPartition> union = new HashSet<>();
                    members.forEach(m -> union.addAll(m.assignment));
                    return members.stream().noneMatch(m -> m.assignment.isEmpty()) && union.equals(all)
                            && commits.highest().keySet().equals(all);
                });
                watch.start();
                int commitsBefore = commits.acknowledgedCount();
                await().atMost(Duration.ofSeconds(30)).until(() -> commits.acknowledgedCount() >= commitsBefore + 20
                        && watch.reads() >= 4);

                int coordinator = admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP)
                        .get(10, TimeUnit.SECONDS).coordinator().id();
                long kill = System.nanoTime();
                Map<TopicPartition, Long> ackedBeforeKill = commits.snapshotAndWatchFrom(kill);
                killNanos.set(kill);
                cluster.node(coordinator).kill9();
                System.out.println("killed node " + coordinator + " (the group's coordinator); commits acknowledged"
                        + " before: " + ackedBeforeKill);

                // The group commits again (to a new coordinator), then what was acknowledged is still there.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                        .until(() -> commits.firstAckOfCommitStartedAfter() > 0);
                long commitResumedMs = TimeUnit.NANOSECONDS.toMillis(commits.firstAckOfCommitStartedAfter() - kill);
                Map<TopicPartition, Long> afterKill = new HashMap<>();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> {
                            afterKill.clear();
                            admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                                    .get(10, TimeUnit.SECONDS).forEach((tp, o) -> afterKill.put(tp, o.offset()));
                            return true;
                        });
                for (Map.Entry<TopicPartition, Long> e : ackedBeforeKill.entrySet()) {
                    Long now = afterKill.get(e.getKey());
                    assertTrue(now != null && now >= e.getValue(), e.getKey() + ": commit of " + e.getValue()
                            + " acknowledged before the kill, committed offset after it " + now);
                }
                int newCoordinator = admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP)
                        .get(10, TimeUnit.SECONDS).coordinator().id();
                assertNotEquals(coordinator, newCoordinator, "the group moved to another coordinator");

                // Every partition yields records again; then production stops and the group catches up.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                        .until(() -> firstRecordAfterKillByPartition.size() == PARTITIONS);
                long recordResumedMs = TimeUnit.NANOSECONDS.toMillis(firstRecordAfterKill.get() - kill);
                long everyPartitionMs = TimeUnit.NANOSECONDS.toMillis(
                        firstRecordAfterKillByPartition.values().stream().mapToLong(Long::longValue).max().orElseThrow()
                                - kill);
                int ackedWhenResumed = acked.size();
                await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= ackedWhenResumed + 2 * RECORDS_PER_SECOND);
                producing.set(false);
                producerThread.join(150_000);
                assertTrue(!producerThread.isAlive(), "the producer closed");
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                        .until(() -> seen.keySet().containsAll(acked));
                long duplicates = seen.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
                System.out.printf("coordinator failover (node %d -> %d): first record consumed %d ms after the kill,"
                        + " every partition consumed again after %d ms, first commit acknowledged %d ms after the"
                        + " kill; %d produced, %d acknowledged, %d failed sends, %d acknowledged values consumed,"
                        + " %d duplicate deliveries; %s; committed offsets read %d times, %d regressions%n",
                        coordinator, newCoordinator, recordResumedMs, everyPartitionMs, commitResumedMs,
                        produced.get(), acked.size(), sendErrors.get(), acked.size(), duplicates, commits.counts(),
                        watch.reads(), watch.regressions().size());
                problems.stream().limit(20).forEach(p -> System.out.println("  member: " + p));
                assertEquals(List.of(), watch.regressions(), "committed offsets never go backwards");
                assertTrue(acked.size() >= RECORDS_PER_SECOND * 3, "acknowledged " + acked.size());
                assertTrue(recordResumedMs < 15_000, "first record after the kill came after " + recordResumedMs + " ms");
                assertTrue(commitResumedMs < 20_000, "first commit after the kill came after " + commitResumedMs + " ms");
            } finally {
                watch.close();
                producing.set(false);
                for (Member m : members) {
                    m.close();
                }
            }

            int killed = -1;
            for (NodeProcessCluster.Node n : cluster.nodes()) {
                if (!n.alive()) {
                    killed = n.id;
                    n.start();
                }
            }
            try (var controllers = cluster.client()) {
                cluster.awaitHealthy(controllers, Duration.ofSeconds(90));
            }
            System.out.println("node " + killed + " restarted and unfenced");
        }
    }

    private static Map<String, Object> consumerProps(String bootstrap) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        return props;
    }

    /** Sends "v-N" to partition N % PARTITIONS at a steady rate while {@code producing}, then flushes and closes. */
    private static void produce(String bootstrap, AtomicBoolean producing, Set<String> acked, AtomicInteger errors,
            AtomicLong produced) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) / RECORDS_PER_SECOND;
            long next = System.nanoTime();
            for (long n = 0; producing.get(); n++, next += intervalNanos) {
                LockSupport.parkNanos(next - System.nanoTime());
                String value = "v-" + n;
                producer.send(new ProducerRecord<>(TOPIC, (int) (n % PARTITIONS), null, value), (metadata, error) -> {
                    if (error == null) {
                        acked.add(value);
                    } else {
                        errors.incrementAndGet();
                    }
                });
                produced.incrementAndGet();
            }
            producer.flush();
        }
    }

    /**
     * Reads the group's committed offsets through Admin every 250 ms on its own thread and notes
     * every partition whose offset is lower than at an earlier read. Reads that fail (no coordinator
     * during the failover) are skipped.
     */
    private static final class CommittedOffsetsWatch {
        private final Admin admin;
        private final Thread thread;
        private final Map<TopicPartition, Long> highest = new HashMap<>(); // the watch thread's only
        private final List<String> regressions = new CopyOnWriteArrayList<>();
        private final AtomicInteger reads = new AtomicInteger();
        private volatile boolean running = true;

        CommittedOffsetsWatch(Admin admin) {
            this.admin = admin;
            this.thread = new Thread(this::run, "committed-offsets-watch");
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            long next = System.nanoTime();
            while (running) {
                next += TimeUnit.MILLISECONDS.toNanos(250);
                try {
                    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(GROUP)
                            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                    reads.incrementAndGet();
                    offsets.forEach((tp, o) -> {
                        Long before = highest.get(tp);
                        if (o == null) {
                            if (before != null) {
                                regressions.add(tp + ": " + before + " -> no committed offset");
                            }
                        } else if (before != null && o.offset() < before) {
                            regressions.add(tp + ": " + before + " -> " + o.offset());
                        } else {
                            highest.put(tp, o.offset());
                        }
                    });
                    for (TopicPartition tp : highest.keySet()) {
                        if (!offsets.containsKey(tp)) {
                            regressions.add(tp + ": " + highest.get(tp) + " -> missing");
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // no coordinator for a moment: the next read tries again
                }
                LockSupport.parkNanos(next - System.nanoTime());
            }
        }

        int reads() {
            return reads.get();
        }

        List<String> regressions() {
            return List.copyOf(regressions);
        }

        void close() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join(30_000);
        }
    }
}
