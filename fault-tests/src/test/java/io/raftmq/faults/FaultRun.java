package io.raftmq.faults;

import static org.awaitility.Awaitility.await;

import io.raftmq.client.Admin;
import io.raftmq.client.AdminConfig;
import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.NewTopic;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import io.raftmq.node.NodeProcessCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One randomized fault run: three real nodes (each in its own network namespace when the machine
 * allows, its data directory on faultfs when the fault needs it), an RF 3,
 * {@code min.insync.replicas=2} topic, the {@link Workload}, one fault chosen by the seed, injected,
 * held and healed; then the workload is drained, the nodes stopped, each replica's files read, and
 * the {@link Checker} judges the whole history.
 *
 * <p>The seed fixes the schedule (fault, victim role, partition count, hold times); the threads'
 * timing is not replayable, so a replay re-runs the same schedule, not the same interleaving.
 *
 * <p>Threads: {@link #run()} on the test thread.
 */
final class FaultRun {
    static final String TOPIC = "faults";

    /** What a run did and found. {@code verdict} is null when it could not get to the check. */
    record Outcome(long seed, FaultType fault, String action, Checker.Verdict verdict, List<String> availability,
            long longestAckGapMs, long durationMs, Path dir) {
        boolean clean() {
            return verdict != null && verdict.clean() && availability.isEmpty();
        }
    }

    private final long seed;
    private final FaultType fault;
    private final Random rng;
    private final Path dir;
    private final Netns net;
    private final Path faultfsScript;
    private final History history = new History();
    private final List<String> availability = new ArrayList<>();
    private final int partitions;
    private NodeProcessCluster cluster;
    private FaultFs faultfs;
    private Admin admin;
    private FaultInjector injector;

    /** @param net the namespaces to run the nodes in, or null for 127.0.0.1 */
    FaultRun(long seed, FaultType fault, Path dir, Netns net, Path faultfsScript) {
        this.seed = seed;
        this.fault = fault;
        this.rng = new Random(seed);
        this.dir = dir;
        this.net = net;
        this.faultfsScript = faultfsScript;
        this.partitions = 2 + rng.nextInt(3);
    }

    Outcome run() throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(dir);
        faultfs = fault.needs == FaultType.Needs.FAULTFS ? new FaultFs(faultfsScript) : null;
        try {
            List<Path> mounts = new ArrayList<>();
            if (faultfs != null) {
                String dirsync = System.getProperty("raftmq.faults.dirsync", "strict");
                for (int n = 1; n <= 3; n++) {
                    Path mount = faultfs.mount(dir.resolve("backing-" + n), dir.resolve("data-" + n));
                    FaultFs.control(mount, "dirsync-mode " + dirsync);
                    mounts.add(mount);
                }
            }
            cluster = new NodeProcessCluster(3, dir, List.of(), new NodeProcessCluster.Placement() {
                @Override
                public String host(int nodeId) {
                    return net != null ? Netns.host(nodeId) : "127.0.0.1";
                }

                @Override
                public List<String> commandPrefix(int nodeId) {
                    return net != null ? net.commandPrefix(nodeId) : List.of();
                }
            });
            try {
                Checker.Verdict verdict = runOn();
                return new Outcome(seed, fault, injector == null ? "" : injector.action(), verdict, List.copyOf(availability), longestAckGapMs(),
                        (System.nanoTime() - started) / 1_000_000, dir);
            } catch (Throwable t) {
                System.out.println("[fault-run " + seed + "] failed: " + t + "; node logs in " + dir);
                throw t;
            } finally {
                cluster.close();
                if (net != null) {
                    net.heal();
                }
            }
        } finally {
            if (faultfs != null) {
                faultfs.close();
            }
        }
    }

    private void log(String message) {
        System.out.printf("[fault-run %d %s] %s%n", seed, fault, message);
    }

    private Checker.Verdict runOn() throws Exception {
        cluster.startAll();
        String bootstrap = cluster.bootstrapServers();
        try (var controllers = cluster.client()) {
            cluster.awaitHealthy(controllers, Duration.ofSeconds(90));
        }
        admin = new Admin(AdminConfig.builder().bootstrapServers(bootstrap).defaultApiTimeoutMs(10_000).build());
        try {
            Map<String, String> configs = new HashMap<>(Map.of("min.insync.replicas", "2"));
            if (fault == FaultType.POWER_LOSS_ALL_OS) {
                configs.put("flush.mode", "os");
            }
            try {
                admin.createTopic(new NewTopic(TOPIC, partitions, 3, configs));
            } catch (io.raftmq.client.errors.TopicExistsException e) {
                // A retry of a create that had succeeded (the admin timed out under load).
            }
            awaitFullIsr(Duration.ofSeconds(60));
            log("cluster up, " + partitions + " partitions, " + (net != null ? "network namespaces" : "loopback")
                    + (faultfs != null ? ", data on faultfs" : ""));

            Workload workload = new Workload(bootstrap, TOPIC, partitions, history);
            workload.start();
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> allPartitions()
                        .allMatch(p -> history.acksOf(p) >= 100) && !history.consumedTo.isEmpty());
                injector = new FaultInjector(fault, rng, cluster, admin, net, dir, partitions, history, this::log);
                injector.inject();
                healAndRecover();
                long healedAcks = history.acks.size();
                try {
                    await().atMost(Duration.ofSeconds(10)).until(() -> history.acks.size() >= healedAcks + 100);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    // healAndRecover has noted it; the check still says what survived.
                }
            } catch (Throwable t) {
                workload.abort();
                throw t;
            }
            workload.stopProducers();
            if (!awaitFullIsr(Duration.ofSeconds(60))) {
                availability.add("the ISR of some partition was not full 60 s after the workload stopped");
            }
            Map<Integer, Long> highWatermarks = new HashMap<>();
            Map<Integer, TreeMap<Long, String>> finalLog = null;
            try {
                finalLog = readFinalLog(bootstrap, highWatermarks);
            } catch (RuntimeException e) {
                // An unavailable partition, or a cluster that lost its data: the replicas' files say
                // what is still there.
                availability.add("the final log could not be read from the leaders: " + e);
                highWatermarks.clear();
                allPartitions().forEach(p -> highWatermarks.put(p, 0L));
            }
            if (!workload.stopConsumers(highWatermarks, Duration.ofSeconds(60))) {
                availability.add("the group had not read up to the high watermarks 60 s after production stopped:"
                        + " read to " + history.consumedTo + ", high watermarks " + highWatermarks);
            }
            Map<Integer, Long> committed = finalCommitted();
            log("stopping nodes; high watermarks " + highWatermarks + ", committed " + committed);
            for (NodeProcessCluster.Node n : cluster.nodes()) {
                n.kill9();
            }
            Map<Integer, Map<Integer, TreeMap<Long, String>>> replicas;
            if (finalLog == null) {
                replicas = readReplicas(null);
                finalLog = fromReplicas(replicas, highWatermarks);
                log("the final log is the longest replica of each partition; the replicas hold in common "
                        + highWatermarks);
            } else {
                replicas = readReplicas(highWatermarks);
            }
            Checker.Verdict verdict = new Checker(history, finalLog, highWatermarks, replicas, committed,
                    injector.faultNanos(), fault == FaultType.POWER_LOSS_ALL_OS ? injector.crashedNanos() : -1,
                    injector.noAckWindows()).check();
            log(verdict.summary() + "; longest time without an ack on a partition " + longestAckGap()
                    + (availability.isEmpty() ? "" : "; availability: " + availability));
            verdict.problems().forEach(p -> log("  " + p));
            return verdict;
        } finally {
            admin.close();
        }
    }

    /**
     * The longest gap, where it was: "4.6 s (partition 1, from 0.2 s after the fault; the
     * idempotent producer's longest there 4.6 s, the other's 4.5 s)".
     */
    private String longestAckGap() {
        Map<Integer, List<History.Ack>> byPartition = new HashMap<>();
        for (History.Ack a : history.acks) {
            byPartition.computeIfAbsent(a.partition(), p -> new ArrayList<>()).add(a);
        }
        long longest = -1;
        int partition = -1;
        long fromNanos = 0;
        for (Map.Entry<Integer, List<History.Ack>> e : byPartition.entrySet()) {
            List<History.Ack> acks = e.getValue();
            acks.sort(java.util.Comparator.comparingLong(History.Ack::nanos));
            for (int i = 1; i < acks.size(); i++) {
                long gap = acks.get(i).nanos() - acks.get(i - 1).nanos();
                if (gap > longest) {
                    longest = gap;
                    partition = e.getKey();
                    fromNanos = acks.get(i - 1).nanos();
                }
            }
        }
        if (longest < 0) {
            return "unknown (fewer than two acks on every partition)";
        }
        StringBuilder s = new StringBuilder(String.format("%.1f s (partition %d", longest / 1e9, partition));
        long fault = injector == null ? -1 : injector.faultNanos();
        if (fault > 0) {
            s.append(String.format(", from %.1f s after the fault", (fromNanos - fault) / 1e9));
        }
        for (boolean idempotent : new boolean[] {true, false}) {
            List<Long> times = byPartition.get(partition).stream().filter(a -> a.idempotent() == idempotent)
                    .map(History.Ack::nanos).sorted().toList();
            long own = 0;
            for (int i = 1; i < times.size(); i++) {
                own = Math.max(own, times.get(i) - times.get(i - 1));
            }
            s.append(String.format("; the %s producer's longest there %.1f s", idempotent ? "idempotent" : "plain",
                    own / 1e9));
        }
        return s.append(")").toString();
    }

    /** The longest time any partition went without an acknowledgement while producers ran. */
    long longestAckGapMs() {
        Map<Integer, List<Long>> times = new HashMap<>();
        for (History.Ack a : history.acks) {
            times.computeIfAbsent(a.partition(), p -> new ArrayList<>()).add(a.nanos());
        }
        long longest = 0;
        for (List<Long> t : times.values()) {
            java.util.Collections.sort(t);
            for (int i = 1; i < t.size(); i++) {
                longest = Math.max(longest, t.get(i) - t.get(i - 1));
            }
        }
        return longest / 1_000_000;
    }

    private Stream<Integer> allPartitions() {
        return Stream.iterate(0, p -> p < partitions, p -> p + 1);
    }

    private boolean awaitFullIsr(Duration timeout) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() ->
                    admin.describeTopics(List.of(TOPIC)).get(TOPIC).partitions().stream()
                            .allMatch(p -> p.leader() >= 0 && p.isr().size() == 3));
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    /** The operator's part after a fault: restart what died, wait for the cluster and for acks again. */
    private void healAndRecover() throws Exception {
        for (NodeProcessCluster.Node n : cluster.nodes()) {
            if (!n.alive()) {
                log("restarting node " + n.id);
                n.start();
            }
        }
        long healed = System.nanoTime();
        try (var controllers = cluster.client()) {
            cluster.awaitHealthy(controllers, Duration.ofSeconds(90));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            availability.add("the cluster was not healthy 90 s after healing");
        }
        Map<Integer, Long> before = new HashMap<>();
        allPartitions().forEach(p -> before.put(p, history.acksOf(p)));
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> allPartitions()
                    .allMatch(p -> history.acksOf(p) >= before.get(p) + 50));
            log(String.format("every partition acknowledges again %.1f s after healing",
                    (System.nanoTime() - healed) / 1e9));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            availability.add("some partition acknowledged nothing new within 60 s of healing: before " + before
                    + ", now " + allPartitions().collect(Collectors.toMap(p -> p, history::acksOf)));
        }
    }

    /** Every partition read from its leader up to the high watermark; fills {@code highWatermarks}. */
    private Map<Integer, TreeMap<Long, String>> readFinalLog(String bootstrap, Map<Integer, Long> highWatermarks) {
        Map<Integer, TreeMap<Long, String>> out = new HashMap<>();
        try (Consumer<String, String> reader = new Consumer<>(ConsumerConfig.builder().bootstrapServers(bootstrap)
                .fetchMaxWaitMs(100).build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            List<TopicPartition> all = allPartitions().map(p -> new TopicPartition(TOPIC, p)).toList();
            reader.assign(all);
            reader.seekToBeginning(all);
            Map<TopicPartition, Long> ends = reader.endOffsets(all);
            ends.forEach((tp, end) -> highWatermarks.put(tp.partition(), end));
            allPartitions().forEach(p -> out.put(p, new TreeMap<>()));
            await().atMost(Duration.ofSeconds(60)).pollInSameThread().ignoreExceptions().until(() -> {
                for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(100))) {
                    if (r.offset() < ends.get(r.topicPartition())) {
                        String before = out.get(r.partition()).put(r.offset(), r.value());
                        if (before != null && !before.equals(r.value())) {
                            throw new IllegalStateException("two reads of " + r.partition() + "@" + r.offset()
                                    + " disagree: " + before + " vs " + r.value());
                        }
                    }
                }
                return all.stream().allMatch(tp -> reader.position(tp) >= ends.get(tp));
            });
        }
        return out;
    }

    private Map<Integer, Long> finalCommitted() {
        Map<Integer, Long> out = new HashMap<>();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(Workload.GROUP);
                committed.forEach((tp, om) -> out.put(tp.partition(), om.offset()));
                return true;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            availability.add("the group's committed offsets could not be read");
        }
        return out;
    }

    /**
     * When no leader answered: each partition's longest replica log stands for the final log, and
     * the replicas are compared (and trimmed) up to the shortest one's end, in place of the high
     * watermark.
     */
    private Map<Integer, TreeMap<Long, String>> fromReplicas(Map<Integer, Map<Integer, TreeMap<Long, String>>> replicas,
            Map<Integer, Long> highWatermarks) {
        Map<Integer, TreeMap<Long, String>> out = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            TreeMap<Long, String> longest = new TreeMap<>();
            long common = Long.MAX_VALUE;
            for (Map<Integer, TreeMap<Long, String>> logs : replicas.values()) {
                TreeMap<Long, String> log = logs.get(p);
                long end = log.isEmpty() ? 0 : log.lastKey() + 1;
                common = Math.min(common, end);
                if (log.size() > longest.size()) {
                    longest = log;
                }
            }
            out.put(p, new TreeMap<>(longest));
            highWatermarks.put(p, common == Long.MAX_VALUE ? 0 : common);
        }
        for (Map<Integer, TreeMap<Long, String>> logs : replicas.values()) {
            logs.forEach((p, log) -> log.tailMap(highWatermarks.get(p)).clear());
        }
        return out;
    }

    private Map<Integer, Map<Integer, TreeMap<Long, String>>> readReplicas(Map<Integer, Long> highWatermarks)
            throws IOException {
        Path scratch = Files.createDirectories(dir.resolve("replica-copies"));
        Map<Integer, Map<Integer, TreeMap<Long, String>>> out = new TreeMap<>();
        for (NodeProcessCluster.Node n : cluster.nodes()) {
            Map<Integer, TreeMap<Long, String>> logs = new TreeMap<>();
            for (int p = 0; p < partitions; p++) {
                long upTo = highWatermarks == null ? Long.MAX_VALUE : highWatermarks.get(p);
                TreeMap<Long, String> log = ReplicaLogs.read(n.dataDir, TOPIC, p, upTo, scratch);
                logs.put(p, log != null ? log : new TreeMap<>());
            }
            out.put(n.id, logs);
        }
        return out;
    }
}
