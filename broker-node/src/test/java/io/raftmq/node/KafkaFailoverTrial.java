package io.raftmq.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One failover trial through Kafka's own Java client, the same against raftmq's Kafka listener and
 * against Apache Kafka: an idempotent producer at acks=all writes numbered records to one partition
 * of a new RF 3 topic (3 partitions, min.insync.replicas 2) at a steady rate, the partition chosen
 * so that its leader is (or is not) the active controller; that leader is killed ({@code kill -9});
 * production goes on until acknowledgements have resumed for a while;
 * then the partition is read back in full and every acknowledged record must be there exactly
 * once, at the offset its acknowledgement named. Reports the longest gap between two
 * acknowledgements around the kill.
 *
 * <p>Used by {@code KafkaClientFailoverIT} (raftmq node processes) and, through {@link #main}, by
 * the side-by-side failover benchmark ({@code deploy/kafka-compare/failover.sh}), which kills nodes
 * of either broker with a shell command.
 *
 * <p>The producer's callbacks record acknowledgements under this object's lock; the test thread
 * reads them after the producer is closed.
 */
final class KafkaFailoverTrial {
    /** Kills a node (no clean shutdown); returns {@link System#nanoTime()} at the kill. */
    interface Killer {
        long kill(int nodeId) throws Exception;
    }

    /**
     * What one trial measured. {@code misplaced}: acknowledged records found at another offset than
     * acknowledged; {@code errors}: sends that failed (their records may or may not be in the log).
     */
    record Result(int victim, boolean victimWasController, double longestGapMs, double resumedAfterKillMs,
            int acked, int lost, int duplicates, int misplaced, int errors, List<String> problems) {
        @Override
        public String toString() {
            return String.format("leader %d%s killed: longest gap between acks %.0f ms, first ack %.0f ms after the"
                    + " kill; %d acknowledged, %d lost, %d duplicates, %d misplaced, %d failed sends", victim,
                    victimWasController ? " (the active controller)" : "", longestGapMs, resumedAfterKillMs, acked,
                    lost, duplicates, misplaced, errors);
        }
    }

    private final String bootstrap;
    private final int recordsPerSecond;
    // Guarded by this: value -> acknowledged offset; acknowledgement times in order.
    private final Map<Integer, Long> ackedOffsets = new HashMap<>();
    private final List<Long> ackNanos = new ArrayList<>();
    private final AtomicInteger errors = new AtomicInteger();

    KafkaFailoverTrial(String bootstrap, int recordsPerSecond) {
        this.bootstrap = bootstrap;
        this.recordsPerSecond = recordsPerSecond;
    }

    private synchronized void acked(int value, long offset, long nanos) {
        ackedOffsets.put(value, offset);
        ackNanos.add(nanos);
    }

    private synchronized int ackCount() {
        return ackNanos.size();
    }

    /**
     * Creates {@code topic}, produces to a partition whose leader is the active controller when
     * {@code leaderIsController} (else one whose leader is not), kills that leader after {@code
     * before}, goes on for {@code after}.
     */
    Result run(String topic, boolean leaderIsController, Killer killer, Duration before, Duration after)
            throws Exception {
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        int victim = -1;
        int partition = -1;
        int controller;
        try (Admin admin = Admin.create(adminProps)) {
            // Every broker up (a node killed by the previous trial may still be restarting): RF 3.
            long brokersDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < 3) {
                if (System.nanoTime() > brokersDeadline) {
                    throw new IllegalStateException("fewer than 3 brokers registered after 120 s");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                    .all().get(60, TimeUnit.SECONDS);
            controller = activeController(admin);
            List<Integer> leaders = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (leaders.size() < 3 || leaders.contains(-1)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(topic + " has partitions without a leader after 30 s: " + leaders);
                }
                leaders.clear();
                admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                        .partitions().forEach(p -> leaders.add(p.leader() == null ? -1 : p.leader().id()));
            }
            for (int p = 0; p < leaders.size() && partition < 0; p++) {
                if ((leaders.get(p) == controller) == leaderIsController) {
                    partition = p;
                    victim = leaders.get(p);
                }
            }
            if (partition < 0) {
                throw new IllegalStateException("no partition of " + topic + " has a leader that "
                        + (leaderIsController ? "is" : "is not") + " the active controller " + controller
                        + ": leaders " + leaders);
            }
        }
        long killNanos;
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        int sent = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) / recordsPerSecond;
            long start = System.nanoTime();
            long killAt = start + before.toNanos();
            killNanos = -1;
            long stopAt = Long.MAX_VALUE;
            int ackedAtKill = 0;
            for (long next = start; System.nanoTime() < stopAt; next += intervalNanos) {
                LockSupport.parkNanos(next - System.nanoTime());
                int value = sent++;
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, partition, null,
                        Integer.toString(value));
                producer.send(record, (metadata, error) -> {
                    if (error == null) {
                        acked(value, metadata.offset(), System.nanoTime());
                    } else {
                        errors.incrementAndGet();
                    }
                });
                if (killNanos < 0 && System.nanoTime() >= killAt) {
                    ackedAtKill = ackCount();
                    killNanos = killer.kill(victim);
                }
                if (killNanos >= 0 && stopAt == Long.MAX_VALUE && ackCount() > ackedAtKill + recordsPerSecond / 10) {
                    stopAt = System.nanoTime() + after.toNanos(); // acks resumed: go on for a while
                }
                if (killNanos >= 0 && System.nanoTime() - killNanos > TimeUnit.SECONDS.toNanos(60)) {
                    break; // production never resumed; the verdict will show it
                }
            }
            producer.flush();
        }
        return verdict(victim, victim == controller, killNanos, readBack(topic, partition));
    }

    /**
     * The active controller: Kafka answers it through DescribeQuorum; raftmq's listener does not
     * serve that API and answers it as DescribeCluster's controller.
     */
    private static int activeController(Admin admin) throws Exception {
        try {
            return admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnsupportedVersionException)) {
                throw e;
            }
            return admin.describeCluster().controller().get(30, TimeUnit.SECONDS).id();
        }
    }

    private Map<Long, Integer> readBack(String topic, int partition) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        TopicPartition tp = new TopicPartition(topic, partition);
        Map<Long, Integer> out = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    out.put(r.offset(), Integer.parseInt(r.value()));
                }
            }
        }
        return out;
    }

    private synchronized Result verdict(int victim, boolean victimWasController, long killNanos,
            Map<Long, Integer> log) {
        Map<Integer, Integer> copies = new HashMap<>();
        log.values().forEach(v -> copies.merge(v, 1, Integer::sum));
        List<String> problems = new ArrayList<>();
        int lost = 0;
        int misplaced = 0;
        for (Map.Entry<Integer, Long> e : ackedOffsets.entrySet()) {
            Integer at = log.get(e.getValue());
            if (!copies.containsKey(e.getKey())) {
                lost++;
                problems.add("record " + e.getKey() + " acknowledged at offset " + e.getValue() + " is not in the log");
            } else if (at == null || at.intValue() != e.getKey()) {
                misplaced++;
                problems.add("record " + e.getKey() + " acknowledged at offset " + e.getValue() + ", but that offset"
                        + " holds " + at);
            }
        }
        int duplicates = 0;
        for (Map.Entry<Integer, Integer> e : copies.entrySet()) {
            if (e.getValue() > 1) {
                duplicates += e.getValue() - 1;
                problems.add("record " + e.getKey() + " is in the log " + e.getValue() + " times");
            }
        }
        double longestGapMs = 0;
        double resumedMs = -1;
        for (int i = 1; i < ackNanos.size(); i++) {
            long a = ackNanos.get(i - 1);
            long b = ackNanos.get(i);
            if (b >= killNanos && resumedMs < 0) {
                resumedMs = (b - killNanos) / 1e6;
            }
            if (b >= killNanos) {
                longestGapMs = Math.max(longestGapMs, (b - a) / 1e6);
            }
        }
        return new Result(victim, victimWasController, longestGapMs, resumedMs, ackedOffsets.size(), lost,
                duplicates, misplaced, errors.get(), List.copyOf(problems.subList(0, Math.min(20, problems.size()))));
    }

    /**
     * Runs trials against any Kafka-protocol cluster, killing nodes with a shell command:
     * {@code --bootstrap HOST:PORT,... --kill-command 'deploy/cluster.sh kill {id}' [--trials 3]
     * [--rate 1000] [--topic-prefix failover]}. Prints one line per trial and exits non-zero if
     * any acknowledged record was lost, duplicated or misplaced. Restarting the killed node between
     * trials is the caller's job ({@code --restart-command 'deploy/cluster.sh restart {id}'}).
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>(Map.of("--trials", "3", "--rate", "1000", "--topic-prefix",
                "failover", "--restart-command", "", "--victim", "leader"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        String bootstrap = options.get("--bootstrap");
        String kill = options.get("--kill-command");
        if (bootstrap == null || kill == null) {
            System.err.println("usage: KafkaFailoverTrial --bootstrap HOST:PORT,... --kill-command 'CMD {id}'"
                    + " [--restart-command 'CMD {id}'] [--trials N] [--rate RECORDS_PER_S] [--topic-prefix NAME]"
                    + " [--victim leader|leader-and-controller]");
            System.exit(2);
        }
        boolean clean = true;
        for (int t = 1; t <= Integer.parseInt(options.get("--trials")); t++) {
            KafkaFailoverTrial trial = new KafkaFailoverTrial(bootstrap, Integer.parseInt(options.get("--rate")));
            Result r = trial.run(options.get("--topic-prefix") + "-" + t + "-" + System.currentTimeMillis(),
                    options.get("--victim").equals("leader-and-controller"), id -> {
                        long nanos = System.nanoTime();
                        shell(kill.replace("{id}", Integer.toString(id)));
                        return nanos;
                    }, Duration.ofSeconds(3), Duration.ofSeconds(3));
            System.out.println("trial " + t + ": " + r);
            r.problems().forEach(p -> System.out.println("  " + p));
            clean &= r.lost() == 0 && r.duplicates() == 0 && r.misplaced() == 0;
            if (!options.get("--restart-command").isBlank()) {
                shell(options.get("--restart-command").replace("{id}", Integer.toString(r.victim())));
            }
        }
        System.exit(clean ? 0 : 1);
    }

    private static void shell(String command) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", command).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("'" + command + "' exited with " + p.exitValue());
        }
    }
}
