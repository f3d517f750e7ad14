package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.raftmq.common.FreePorts;
import io.raftmq.common.HostPort;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.common.MockFaultHandler;
import io.raftmq.common.Time;
import io.raftmq.common.config.Config;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.storage.LogEnvironment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Combined-mode nodes (broker and controller) in this JVM, on 127.0.0.1 ports chosen free at run
 * time, each with its own data directory under {@code dir}: the harness for multi-node tests that
 * need no process kills. A node can be stopped (cleanly) and started again on the same ports and
 * data. {@link #close()} stops every running node. Each node's broker reaches the controllers
 * through a {@link ControllerLinkCut} the test can cut ({@link #controllerLink}).
 *
 * <p>Used from the test thread only. Public for the client SDK's integration tests (broker-node's
 * test-jar).
 */
public final class InProcessCluster implements AutoCloseable {
    private final int size;
    private final Map<Integer, Map<String, String>> configs = new HashMap<>();
    private final Map<Integer, RaftmqServer> running = new HashMap<>();
    private final List<HostPort> addresses = new ArrayList<>();
    private final List<HostPort> httpAddresses = new ArrayList<>();
    private final List<HostPort> kafkaAddresses = new ArrayList<>();
    private final MockFaultHandler faultHandler = new MockFaultHandler("in-process cluster");
    private final Map<Integer, ControllerLinkCut> controllerLinks = new HashMap<>();

    /** @param overrides settings for every node (e.g. replica.lag.time.max.ms) */
    public InProcessCluster(int size, Path dir, Map<String, String> overrides) {
        this.size = size;
        List<Integer> grpcPorts = new ArrayList<>();
        List<String> voters = new ArrayList<>();
        for (int id = 1; id <= size; id++) {
            int grpc = FreePorts.next();
            int raft = FreePorts.next();
            grpcPorts.add(grpc);
            addresses.add(new HostPort("127.0.0.1", grpc));
            httpAddresses.add(new HostPort("127.0.0.1", FreePorts.next()));
            kafkaAddresses.add(new HostPort("127.0.0.1", FreePorts.next()));
            voters.add(id + "@127.0.0.1:" + raft);
        }
        String bootstrap = bootstrapServers();
        for (int id = 1; id <= size; id++) {
            Map<String, String> c = new HashMap<>();
            c.put("node.id", Integer.toString(id));
            c.put("process.roles", "broker,controller");
            c.put("data.dir", dir.resolve("node-" + id).toString());
            c.put("grpc.listener", "127.0.0.1:" + grpcPorts.get(id - 1));
            c.put("http.listener", httpAddresses.get(id - 1).toString());
            c.put("kafka.listener", kafkaAddresses.get(id - 1).toString());
            c.put("controller.quorum.voters", String.join(",", voters));
            c.put("controller.quorum.bootstrap.servers", bootstrap);
            c.putAll(TestCertificates.shared().nodeConfig(id)); // the Raft port's mutual TLS
            c.putAll(overrides);
            configs.put(id, c);
            controllerLinks.put(id, new ControllerLinkCut());
        }
    }

    /** Sets one node's config key for its next start. */
    public void set(int id, String key, String value) {
        configs.get(id).put(key, value);
    }

    public void startAll() throws Exception {
        for (int id = 1; id <= size; id++) {
            start(id);
        }
    }

    public void start(int id) throws Exception {
        start(id, FileChannel::open);
    }

    /** Starts node {@code id} with its partition logs' files opened by {@code logFiles} (fault injection). */
    void start(int id, LogEnvironment.FileOpener logFiles) throws Exception {
        NodeConfig config = new NodeConfig(new Config(configs.get(id), NodeConfig.allKeys()));
        RaftmqServer server = new RaftmqServer(config, Time.SYSTEM, faultHandler, logFiles, controllerLinks.get(id));
        server.start();
        running.put(id, server);
    }

    /** Stops a node cleanly (controlled shutdown first). */
    public void stop(int id) {
        RaftmqServer server = running.remove(id);
        if (server != null) {
            server.close();
        }
    }

    public RaftmqServer node(int id) {
        return running.get(id);
    }

    /** Node {@code id}'s broker's link to the controller quorum, for cutting it. */
    public ControllerLinkCut controllerLink(int id) {
        return controllerLinks.get(id);
    }

    public List<HostPort> addresses() {
        return addresses;
    }

    /** The gRPC listeners as a raftmq client's bootstrap.servers. */
    public String bootstrapServers() {
        return String.join(",", addresses.stream().map(HostPort::toString).toList());
    }

    /** Every node's Kafka listener (unless the overrides turned it off). */
    public List<HostPort> kafkaAddresses() {
        return kafkaAddresses;
    }

    /** The Kafka listeners as a Kafka client's bootstrap.servers. */
    public String kafkaBootstrap() {
        return String.join(",", kafkaAddresses.stream().map(HostPort::toString).toList());
    }

    /** Node {@code id}'s health and metrics HTTP server. */
    HostPort httpAddress(int id) {
        return httpAddresses.get(id - 1);
    }

    /** Waits until every running node's broker is unfenced in every running node's metadata. */
    public void awaitBrokersUnfenced(Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(20)).until(() -> running.values().stream()
                .allMatch(s -> running.keySet().stream().allMatch(id -> {
                    BrokerRegistration b = s.broker().image().broker(id);
                    return b != null && b.state() == BrokerState.UNFENCED;
                })));
    }

    /** Fails if any node reported a fatal fault. */
    public void assertNoFaults() {
        faultHandler.assertNoFaults();
    }

    /** Stops every running node at once, as a whole-cluster shutdown does (one by one, the last would wait for a quorum). */
    @Override
    public void close() {
        List<Thread> stopping = new ArrayList<>();
        for (RaftmqServer server : running.values()) {
            Thread t = new Thread(server::close, "stop-node-" + server.config().nodeId());
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        running.clear();
        controllerLinks.values().forEach(ControllerLinkCut::close);
    }
}
