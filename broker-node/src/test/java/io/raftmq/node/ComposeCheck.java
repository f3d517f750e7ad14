package io.raftmq.node;

import io.raftmq.common.HostPort;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.record.DeliveryCheck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client side of {@code .ci/compose-test.sh}: against a running docker-compose cluster reached
 * only through its published ports, runs one {@link PartitionFailover} trial (create an RF 3 /
 * min.insync.replicas 2 topic, acks=all production without pause, {@code docker-compose kill} of
 * the partition leader's container, production resumes on a new leader, {@code docker-compose
 * start} of the container until it is back in the ISR, read back every acknowledged record),
 * printing each step. Exit status 0 when nothing acknowledged was lost, 1 otherwise.
 *
 * <pre>
 * java -cp ... io.raftmq.node.ComposeCheck --bootstrap 127.0.0.1:9093,127.0.0.1:9193,127.0.0.1:9293
 *     [--topic compose-test] [--compose docker-compose] [--leader-is-controller true|false]
 * </pre>
 *
 * Node n is the compose service {@code node<n>}. docker-compose 1.29 can take seconds to start, so
 * the kill and the restart are timed by the engine's record of the container's end and start
 * ({@code docker inspect}), not by when the command was issued; the host and the engine share a
 * clock.
 */
final class ComposeCheck {
    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    private ComposeCheck() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        List<HostPort> bootstrap = HostPort.parseList(required(options, "bootstrap"));
        String topic = options.getOrDefault("topic", "compose-test");
        String compose = options.getOrDefault("compose", "docker-compose");
        boolean leaderIsController = Boolean.parseBoolean(options.getOrDefault("leader-is-controller", "false"));

        try (TestBrokerClient client = new TestBrokerClient(bootstrap, 5_000)) {
            describe("cluster", client.refreshMetadata(), null);
            PartitionFailover.Nodes nodes = new PartitionFailover.Nodes() {
                @Override
                public long kill(int nodeId) throws Exception {
                    describe("before the kill", client.refreshMetadata(), topic);
                    log("killing node " + nodeId + " while producing");
                    String container = run(compose + " ps -q node" + nodeId).trim();
                    run(compose + " kill node" + nodeId);
                    return engineTimeToNanos(run("docker inspect -f '{{.State.FinishedAt}}' " + container));
                }

                @Override
                public long start(int nodeId) throws Exception {
                    describe("production resumed", client.refreshMetadata(), topic);
                    log("starting node " + nodeId + " again");
                    String container = run(compose + " ps -q node" + nodeId).trim();
                    run(compose + " start node" + nodeId);
                    return engineTimeToNanos(run("docker inspect -f '{{.State.StartedAt}}' " + container));
                }
            };
            PartitionFailover.Result r = PartitionFailover.killLeader(nodes, client, topic, leaderIsController);
            describe("after the restart", client.refreshMetadata(), topic);
            log(String.format("node %d (leader of the partition%s) killed: longest time without an acknowledgement"
                            + " %.0f ms; acknowledgements resumed %.0f ms after the container died; back in the ISR"
                            + " %.0f ms after the container started", r.victim(),
                    r.victimWasController() ? ", and the active controller" : "", r.gapMs(), r.resumedAfterKillMs(),
                    r.rejoinedIsrAfterRestartMs()));
            DeliveryCheck.Verdict v = r.verdict();
            log(String.format("read back: %d records acknowledged, %d lost, %d duplicates", v.acked(), v.lost(),
                    v.duplicates()));
            if (v.lost() > 0 || v.acked() == 0) {
                v.problems().forEach(p -> log("LOST: " + p));
                log("FAILED: acknowledged records are missing");
                System.exit(1);
            }
            log("OK");
        }
        System.exit(0);
    }

    /** Runs {@code sh -c command}, logging how long it took; returns its standard output. */
    private static String run(String command) throws IOException, InterruptedException {
        long startNanos = System.nanoTime();
        Process process = new ProcessBuilder("sh", "-c", command).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("'" + command + "' did not finish within " + COMMAND_TIMEOUT_SECONDS + " s");
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("'" + command + "' failed with exit status " + process.exitValue());
        }
        log(String.format("'%s' took %.0f ms", command, (System.nanoTime() - startNanos) / 1e6));
        return output.join();
    }

    /** An engine time stamp (RFC 3339, e.g. 2026-11-25T10:22:39.037365919Z) as a {@link System#nanoTime()} value. */
    static long engineTimeToNanos(String timestamp) {
        Instant at = Instant.parse(timestamp.trim());
        long nowNanos = System.nanoTime();
        Duration ago = Duration.between(at, Instant.now());
        if (ago.isNegative() || ago.toMinutes() > 10) {
            throw new IllegalStateException("the engine says the container changed state at " + timestamp
                    + ", which is not in the last minutes: is the container's state what the check expects?");
        }
        return nowNanos - ago.toNanos();
    }

    /** The brokers and, when {@code topic} is given, one line per partition of it. */
    private static void describe(String title, MetadataResponse metadata, String topic) {
        List<String> lines = new ArrayList<>();
        lines.add(title + ": active controller " + metadata.getControllerId());
        for (BrokerInfo b : metadata.getBrokersList()) {
            lines.add("  broker " + b.getBrokerId() + " at " + b.getHost() + ":" + b.getPort());
        }
        for (TopicMetadata t : metadata.getTopicsList()) {
            if (t.getName().equals(topic)) {
                for (PartitionMetadata p : t.getPartitionsList()) {
                    lines.add("  " + topic + "-" + p.getPartition() + ": leader " + p.getLeader() + ", replicas "
                            + p.getReplicasList() + ", isr " + p.getIsrList());
                }
            }
        }
        lines.forEach(ComposeCheck::log);
    }

    private static void log(String line) {
        System.out.println("[compose-check " + java.time.LocalTime.now().withNano(0) + "] " + line);
        System.out.flush();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("unexpected argument '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isBlank()) {
            usage("--" + name + " is required");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("compose-check: " + problem + "\nusage: ComposeCheck --bootstrap HOST:PORT,... [--topic T]"
                + " [--compose 'docker-compose'] [--leader-is-controller true|false]");
        System.exit(2);
    }
}
