package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.record.DeliveryCheck;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Kills the leader of a partition while a producer (acks=all) and a consumer run, and prints when
 * the leader was killed, when a new one was elected, when the first record after the kill was
 * acknowledged, and whether every acknowledged record can be read back at the offset it was
 * acknowledged with. This command runs the kill itself ({@code --kill-command}, with {node}
 * replaced by the leader's id), so the kill time is measured in the same clock as the acks.
 *
 * <p>The leader is the cluster's current one ({@link LeaderView}: every broker asked, the highest
 * leader epoch wins), not whichever broker answers first: a "kill" that only cuts the leader off
 * leaves it answering, with an older epoch. The read-back goes through the SDK's consumer, which
 * reads from the leader of the newest epoch it has seen.
 *
 * <p>Threads: the producer loop and the consumer loop each run on a thread of their own; acks are
 * recorded by the producer's I/O thread into {@link #acks} (a synchronized list); the command
 * thread orchestrates and reads everything after both loops have stopped.
 */
@Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Kill a partition leader under load and show the failover timeline.")
final class FailoverDemoCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final int PARTITION = 0;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", defaultValue = "failover-demo",
            description = "The demo topic; created with 1 partition, RF 3, min.insync.replicas=2 if missing"
                    + " (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--kill-command", required = true, paramLabel = "CMD",
            description = "Shell command that kills node {node}, e.g. 'deploy/cluster.sh kill {node}'.")
    String killCommand;

    @Option(names = "--restart-command", paramLabel = "CMD",
            description = "Shell command that starts node {node} again after the demo.")
    String restartCommand;

    @Option(names = "--rate", defaultValue = "1000", description = "Records per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--warmup-ms", defaultValue = "3000", description = "Run this long before the kill"
            + " (default: ${DEFAULT-VALUE}).")
    long warmupMs;

    @Option(names = "--after-ms", defaultValue = "3000", description = "Keep producing this long after the first"
            + " ack after the kill (default: ${DEFAULT-VALUE}).")
    long afterMs;

    @Option(names = "--producer-property", paramLabel = "KEY=VALUE", description = "A producer config.")
    List<String> producerProperties;

    private record Ack(long seq, long offset, long ackNs) {
    }

    private final List<Ack> acks = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong lastConsumedNs = new AtomicLong();
    private volatile boolean running = true;

    /** Wall-clock time of a System.nanoTime value, for printing. */
    private final long wallAtStartMs = System.currentTimeMillis();
    private final long nanoAtStart = System.nanoTime();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String runId = UUID.randomUUID().toString().substring(0, 8);
        TopicPartition tp = new TopicPartition(topic, PARTITION);
        try (AdminCalls admin = connection.admin()) {
            ensureTopic(admin, out);

            Map<String, String> pc = KeyValues.parse(producerProperties, "--producer-property");
            pc.put(ProducerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
            connection.clientSettings().forEach(pc::putIfAbsent);
            pc.put(ProducerConfig.ACKS, "all");
            pc.putIfAbsent(ProducerConfig.CLIENT_ID, "failover-demo-producer");
            pc.putIfAbsent(ProducerConfig.LINGER_MS, "0");
            pc.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS, "5000");
            pc.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS, "20");
            Map<String, String> cc = new HashMap<>();
            cc.put(ConsumerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
            connection.clientSettings().forEach(cc::putIfAbsent);
            cc.put(ConsumerConfig.CLIENT_ID, "failover-demo-consumer");
            cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT, "false");
            cc.put(ConsumerConfig.REQUEST_TIMEOUT_MS, "5000");
            cc.put(ConsumerConfig.RETRY_BACKOFF_MS, "20");

            try (Producer<String, String> producer = new Producer<>(KeyValues.properties(pc),
                    Serdes.stringSerializer(), Serdes.stringSerializer());
                    Consumer<String, String> consumer = new Consumer<>(KeyValues.properties(cc),
                            Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
                consumer.assign(List.of(tp));
                consumer.seekToEnd(List.of(tp));
                consumer.position(tp);
                Thread producing = new Thread(() -> produce(producer, runId), "demo-producer");
                Thread consuming = new Thread(() -> consume(consumer), "demo-consumer");
                producing.start();
                consuming.start();
                out.printf("producing %d records/s with acks=all to %s (idempotence %s), consuming it as it comes%n",
                        rate, tp, pc.getOrDefault(ProducerConfig.ENABLE_IDEMPOTENCE, "on"));
                out.flush();

                Timeline timeline;
                try {
                    awaitFirstAck();
                    progressFor(out, warmupMs);
                    timeline = killLeader(admin, out);
                } finally {
                    running = false;
                    producing.join();
                    consuming.join();
                }
                producer.flush();
                report(out, admin, timeline, runId, tp);
                return timeline.lost == 0 ? 0 : RaftmqCli.EXIT_ERROR;
            }
        }
    }

    private void ensureTopic(AdminCalls admin, PrintWriter out) {
        if (!admin.listTopics(false).contains(topic)) {
            admin.createTopic(topic, 1, 3, Map.of("min.insync.replicas", "2"));
            out.println("created topic " + topic + " (1 partition, replication factor 3, min.insync.replicas=2)");
        }
    }

    private void produce(Producer<String, String> producer, String runId) {
        Throttler throttler = new Throttler(rate, System.nanoTime());
        long seq = 0;
        try {
            while (running) {
                throttler.await(seq, System.nanoTime());
                long s = seq++;
                producer.send(new ProducerRecord<>(topic, PARTITION, null, runId + "-" + s), (md, e) -> {
                    if (e != null) {
                        sendFailures.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    } else {
                        acks.add(new Ack(s, md.offset(), System.nanoTime()));
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            firstFailure.compareAndSet(null, e);
        }
    }

    private void consume(Consumer<String, String> consumer) {
        while (running) {
            int n = consumer.poll(Duration.ofMillis(100)).count();
            if (n > 0) {
                consumed.addAndGet(n);
                lastConsumedNs.set(System.nanoTime());
            }
        }
    }

    /** The warm-up starts with production: metadata and the first request can take a while on a busy machine. */
    private void awaitFirstAck() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.isEmpty()) {
            if (System.nanoTime() > deadline || firstFailure.get() != null) {
                Exception e = firstFailure.get();
                throw new CliException("no record was acknowledged within 60 s"
                        + (e == null ? "" : ": " + Failures.unwrap(e).getMessage()));
            }
            Thread.sleep(10);
        }
    }

    /** Prints acked/consumed counts once a second for {@code ms}. */
    private void progressFor(PrintWriter out, long ms) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(1000, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
            out.printf("%s  acknowledged %d, consumed %d%n", clock(System.nanoTime()), acks.size(), consumed.get());
            out.flush();
        }
    }

    private static final class Timeline {
        int killed;
        int killedEpoch;
        boolean killedController;
        long killStartNs;
        long killNs;
        int newLeader = -1;
        int newEpoch = -1;
        long electedNs = -1;
        long lost;
    }

    private Timeline killLeader(AdminCalls admin, PrintWriter out) throws Exception {
        try (LeaderView leaders = LeaderView.of(connection.bootstrapServer, connection.clientSettings(), admin)) {
            return killLeader(admin, leaders, out);
        }
    }

    private Timeline killLeader(AdminCalls admin, LeaderView leaders, PrintWriter out) throws Exception {
        Timeline t = new Timeline();
        LeaderView.Leader before = leaders.leaderOf(topic, PARTITION);
        t.killed = before.leader();
        t.killedEpoch = before.leaderEpoch();
        if (t.killed < 0) {
            throw new CliException(topic + "-" + PARTITION + " has no leader right now; try again");
        }
        Views.Cluster cluster = admin.describeCluster();
        t.killedController = cluster.controllerId() == t.killed;
        out.printf("%s  %s-%d is led by node %d (leader epoch %d)%s; killing it: %s%n", clock(System.nanoTime()),
                topic, PARTITION, t.killed, t.killedEpoch, t.killedController ? " (also the active controller)" : "",
                killCommand.replace("{node}", Integer.toString(t.killed)));
        out.flush();
        t.killStartNs = System.nanoTime();
        String killOutput = runShell(killCommand, t.killed);
        t.killNs = System.nanoTime();
        if (!killOutput.isBlank()) {
            killOutput.lines().forEach(l -> out.println("    | " + l));
        }
        // New leader: a leader at a newer epoch, as the brokers that are current know it (a node
        // that was only cut off still answers, with the old epoch or no leader).
        long deadline = t.killNs + TimeUnit.SECONDS.toNanos(60);
        LeaderView.Leader elected = leaders.awaitNewerThan(topic, PARTITION, t.killedEpoch,
                TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        if (elected != null) {
            t.newLeader = elected.leader();
            t.newEpoch = elected.leaderEpoch();
            t.electedNs = System.nanoTime();
        }
        // Then run until the first ack after the kill, plus --after-ms.
        while (System.nanoTime() < deadline && firstAckAfter(t.killNs) < 0) {
            Thread.sleep(10);
        }
        progressFor(out, afterMs);
        return t;
    }

    private long firstAckAfter(long ns) {
        synchronized (acks) {
            long first = -1;
            for (Ack a : acks) {
                if (a.ackNs > ns && (first < 0 || a.ackNs < first)) {
                    first = a.ackNs;
                }
            }
            return first;
        }
    }

    private void report(PrintWriter out, AdminCalls admin, Timeline t, String runId, TopicPartition tp)
            throws Exception {
        List<Ack> all;
        synchronized (acks) {
            all = new ArrayList<>(acks);
        }
        all.sort((a, b) -> Long.compare(a.ackNs, b.ackNs));
        long longestGapNs = 0;
        long gapEndNs = -1;
        for (int i = 1; i < all.size(); i++) {
            long gap = all.get(i).ackNs - all.get(i - 1).ackNs;
            if (gap > longestGapNs) {
                longestGapNs = gap;
                gapEndNs = all.get(i).ackNs;
            }
        }
        long firstAckNs = firstAckAfter(t.killNs);

        // Read back every acknowledged offset.
        DeliveryCheck check = new DeliveryCheck();
        long minOffset = Long.MAX_VALUE;
        for (Ack a : all) {
            check.acknowledged(a.offset, runId + "-" + a.seq);
            minOffset = Math.min(minOffset, a.offset);
        }
        if (!all.isEmpty()) {
            Map<String, String> cc = new HashMap<>();
            cc.put(ConsumerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
            connection.clientSettings().forEach(cc::putIfAbsent);
            cc.put(ConsumerConfig.CLIENT_ID, "failover-demo-verifier");
            cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT, "false");
            try (Consumer<String, String> reader = new Consumer<>(KeyValues.properties(cc),
                    Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
                reader.assign(List.of(tp));
                reader.seek(tp, minOffset);
                long end = reader.endOffsets(List.of(tp)).get(tp);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (reader.position(tp) < end && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(500))) {
                        if (r.value() != null && r.value().startsWith(runId + "-")) {
                            check.read(r.offset(), r.value()); // records of earlier runs are not this run's
                        }
                    }
                }
            }
        }
        DeliveryCheck.Verdict verdict = check.verdict();
        t.lost = verdict.lost();
        long duplicates = verdict.duplicates();

        out.println();
        out.println("timeline");
        out.printf("  kill at %s          node %d%s killed (the kill command took %d ms)%n", clock(t.killNs), t.killed,
                t.killedController ? ", partition leader and active controller," : ", the partition leader,",
                ms(t.killNs - t.killStartNs));
        if (t.electedNs >= 0) {
            out.printf("  new leader elected (node %d, leader epoch %d) at T+%d ms%n", t.newLeader, t.newEpoch,
                    ms(t.electedNs - t.killNs));
        } else {
            out.println("  no new leader within 60 s");
        }
        if (firstAckNs >= 0) {
            out.printf("  first ack after the kill at T+%d ms%n", ms(firstAckNs - t.killNs));
        } else {
            out.println("  no ack after the kill within 60 s");
        }
        if (gapEndNs >= 0) {
            out.printf("  longest time without an ack: %d ms (ended at T+%d ms)%n", ms(longestGapNs),
                    ms(gapEndNs - t.killNs));
        }
        out.printf("consumer read %d records while the demo ran%n", consumed.get());
        out.printf("records acknowledged: %d, records lost: %d%s%n", all.size(), t.lost,
                t.lost == 0 ? " (every acknowledged record read back at its offset)" : "");
        out.printf("duplicates: %d, sends failed: %d%s%n", duplicates, sendFailures.get(),
                firstFailure.get() == null ? "" : " (first: " + Failures.unwrap(firstFailure.get()).getMessage() + ")");
        out.flush();

        if (restartCommand != null) {
            out.println();
            out.println("restarting node " + t.killed + ": " + restartCommand.replace("{node}", Integer.toString(t.killed)));
            out.flush();
            runShell(restartCommand, t.killed).lines().forEach(l -> out.println("    | " + l));
            out.flush();
        }
    }

    /** Runs {@code command} with {node} replaced, through bash; returns its output; fails on a non-zero exit. */
    private static String runShell(String command, int node) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", command.replace("{node}", Integer.toString(node)))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code != 0) {
            throw new CliException("'" + command.replace("{node}", Integer.toString(node)) + "' exited with " + code
                    + ": " + output.strip());
        }
        return output;
    }

    private String clock(long nanoTime) {
        long wallMs = wallAtStartMs + TimeUnit.NANOSECONDS.toMillis(nanoTime - nanoAtStart);
        return LocalTime.ofInstant(Instant.ofEpochMilli(wallMs), ZoneId.systemDefault()).format(CLOCK);
    }

    private static long ms(long ns) {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }
}
