package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.raftmq.common.FreePorts;
import io.raftmq.common.HostPort;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerState;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Real raftmq node processes, started from the packaged jar ({@code target/raftmq-node.jar}), in
 * combined mode, on 127.0.0.1 ports chosen free at run time, each with its own data directory and
 * log file under {@code dir}. {@link #close()} stops every process it started, forcibly if need be;
 * {@link #dumpLogs()} prints each node's log (for a failed test). A {@link Placement} may put the
 * nodes elsewhere: each on its own address (a network namespace of its own, entered by a command
 * prefix such as {@code ip netns exec NS}) or with its data directory on another file system.
 */
public final class NodeProcessCluster implements AutoCloseable {
    /** The nodes' JVM options: a node that runs out of heap exits, as deployed nodes do. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CompileThresholdScaling=0.1", "-XX:+ExitOnOutOfMemoryError");

    /** Where each node runs; the default is 127.0.0.1, no prefix, {@code dir/data-ID}. */
    public interface Placement {
        /** The address the node listens on and is reached at. */
        default String host(int nodeId) {
            return "127.0.0.1";
        }

        /** Words put before the java command line (e.g. {@code ip netns exec NS}); they must exec java. */
        default List<String> commandPrefix(int nodeId) {
            return List.of();
        }

        /** The node's data.dir; null for {@code dir/data-ID}. */
        default Path dataDir(int nodeId) {
            return null;
        }
    }

    /** One node: fixed ports and paths; its process while running. */
    public final class Node {
        public final int id;
        public final String host;
        public final Path dataDir;
        public final int grpcPort;
        public final int raftPort;
        public final int kafkaPort;
        /** The HTTP server (health, metrics, the web view). */
        public final int httpPort;
        final Path config;
        final Path log;
        Process process;

        Node(int id) {
            this.id = id;
            this.host = placement.host(id);
            Path data = placement.dataDir(id);
            this.dataDir = data != null ? data : dir.resolve("data-" + id);
            this.grpcPort = FreePorts.next();
            this.raftPort = FreePorts.next();
            this.kafkaPort = FreePorts.next();
            this.httpPort = FreePorts.next();
            this.config = dir.resolve("node-" + id + ".properties");
            this.log = dir.resolve("node-" + id + ".log");
        }

        public HostPort address() {
            return new HostPort(host, grpcPort);
        }

        public HostPort httpAddress() {
            return new HostPort(host, httpPort);
        }

        public HostPort kafkaAddress() {
            return new HostPort(host, kafkaPort);
        }

        public boolean alive() {
            return process != null && process.isAlive();
        }

        public long pid() {
            return process.pid();
        }

        /** Starts (or restarts) the node's JVM. */
        public void start() throws IOException {
            List<String> command = new ArrayList<>(placement.commandPrefix(id));
            command.add(javaBinary());
            command.addAll(JVM_OPTIONS);
            nativeLibraries.ifPresent(d -> command.add("-Djava.library.path=" + d));
            command.addAll(List.of("-jar", jar.toString(), config.toString()));
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        }

        /** SIGKILL: the process dies at once, without any shutdown work. */
        public void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        /** SIGSTOP: the process freezes (as in a long GC pause or a hung VM) until {@link #resume()}. */
        public void pause() throws IOException, InterruptedException {
            signal("STOP");
        }

        /** SIGCONT. */
        public void resume() throws IOException, InterruptedException {
            signal("CONT");
        }

        private void signal(String name) throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IOException("kill -" + name + " " + process.pid() + " failed");
            }
        }

        /** SIGTERM: a clean stop (controlled shutdown, leadership hand-off). */
        public void terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private final Path dir;
    private final Placement placement;
    private final Path jar;
    /** RocksDB's library extracted beside the jar, so that killed nodes leave no copy in /tmp. */
    private final Optional<Path> nativeLibraries;
    private final List<Node> nodes = new ArrayList<>();

    public NodeProcessCluster(int count, Path dir) throws IOException {
        this(count, dir, List.of());
    }

    /** @param settings extra config lines (key=value) for every node */
    public NodeProcessCluster(int count, Path dir, List<String> settings) throws IOException {
        this(count, dir, settings, new Placement() {});
    }

    /**
     * @param settings extra config lines (key=value) for every node
     * @param placement each node's address, command prefix and data directory
     */
    public NodeProcessCluster(int count, Path dir, List<String> settings, Placement placement) throws IOException {
        this.dir = dir;
        this.placement = placement;
        String jarProperty = System.getProperty("raftmq.node.jar", "target/raftmq-node.jar");
        this.jar = Path.of(jarProperty).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the node jar " + jar + " is missing: run the package phase first");
        }
        this.nativeLibraries = NativeLibraries.rocksDbDirectory(jar);
        for (int id = 1; id <= count; id++) {
            nodes.add(new Node(id));
        }
        List<String> voters = new ArrayList<>();
        List<String> bootstrap = new ArrayList<>();
        for (Node n : nodes) {
            voters.add(n.id + "@" + n.host + ":" + n.raftPort);
            bootstrap.add(n.host + ":" + n.grpcPort);
        }
        // Extra settings for every node, e.g. -Draftmq.node.extraConfig=controller.max.election.delay.ms=150
        List<String> extra = List.of(System.getProperty("raftmq.node.extraConfig", "").split(";")).stream()
                .filter(s -> !s.isBlank()).toList();
        for (Node n : nodes) {
            List<String> lines = new ArrayList<>(List.of(
                    "node.id=" + n.id,
                    "process.roles=broker,controller",
                    "data.dir=" + n.dataDir,
                    "grpc.listener=" + n.host + ":" + n.grpcPort,
                    "http.listener=" + n.host + ":" + n.httpPort,
                    "kafka.listener=" + n.host + ":" + n.kafkaPort,
                    "controller.quorum.voters=" + String.join(",", voters),
                    "controller.quorum.bootstrap.servers=" + String.join(",", bootstrap)));
            // The Raft port's mutual TLS: node n's certificate from the test CA.
            TestCertificates.shared().nodeConfig(n.id).forEach((key, value) -> lines.add(key + "=" + value));
            lines.addAll(settings);
            lines.addAll(extra);
            Files.writeString(n.config, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        }
    }

    public void startAll() throws IOException {
        for (Node n : nodes) {
            n.start();
        }
    }

    public Node node(int id) {
        return nodes.get(id - 1);
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Every node's gRPC address. */
    public List<HostPort> addresses() {
        return nodes.stream().map(Node::address).toList();
    }

    /** The gRPC listeners as a raftmq client's bootstrap.servers. */
    public String bootstrapServers() {
        return String.join(",", addresses().stream().map(HostPort::toString).toList());
    }

    /** The Kafka listeners as a Kafka client's bootstrap.servers. */
    public String kafkaBootstrap() {
        return String.join(",", nodes.stream().map(n -> n.kafkaAddress().toString()).toList());
    }

    /** A client of the given nodes' controllers (every node when none given). */
    public ControllerClient client(Node... only) {
        List<HostPort> addresses = (only.length == 0 ? nodes : List.of(only)).stream().map(Node::address).toList();
        return new ControllerClient(new ControllerClient.Options(addresses, 30_000, 2_000, 10));
    }

    /** Waits until a controller is active and every running node's broker is unfenced; returns the view. */
    public DescribeClusterResponse awaitHealthy(ControllerClient client, Duration timeout) {
        long running = nodes.stream().filter(Node::alive).count();
        DescribeClusterResponse[] last = new DescribeClusterResponse[1];
        await().atMost(timeout).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
            DescribeClusterResponse r = client.describeCluster(DescribeClusterRequest.getDefaultInstance())
                    .get(5, TimeUnit.SECONDS);
            last[0] = r;
            return r.getError().getCode() == ErrorCode.NONE && r.getController().getControllerId() >= 0
                    && r.getBrokersList().stream().filter(b -> b.getState() == BrokerState.UNFENCED).count() == running;
        });
        return last[0];
    }

    /** Prints every node's log, for a failed test. */
    public void dumpLogs() {
        for (Node n : nodes) {
            try {
                System.out.println("===== node " + n.id + " log (" + n.log + ") =====");
                if (Files.exists(n.log)) {
                    System.out.println(Files.readString(n.log, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                System.out.println("cannot read " + n.log + ": " + e);
            }
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            if (n.process != null && n.process.isAlive()) {
                n.process.destroyForcibly();
            }
        }
        for (Node n : nodes) {
            if (n.process != null) {
                try {
                    n.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
