package io.raftmq.metadata.node;

import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.raftmq.common.FreePorts;
import io.raftmq.common.HostPort;
import io.raftmq.common.MockFaultHandler;
import io.raftmq.common.Time;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.protocol.common.Endpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A metadata quorum of real voters in this JVM: each a {@link ControllerServer} (SOFAJRaft on its
 * own Raft port, mutual TLS with its own certificate from {@link TestCertificates#shared()}) with
 * its own gRPC server, on 127.0.0.1 ports chosen free at run time, data under
 * a directory of the test. Voters can be stopped and started again on the same ports and data.
 */
public final class TestQuorum implements AutoCloseable {

    /** One voter's fixed identity (ports, directory) and, while running, its server. */
    public static final class Voter {
        public final int nodeId;
        public final int raftPort;
        public final int grpcPort;
        public final Path dir;
        public ControllerServer server;
        public Server grpc;
        public MockFaultHandler faults;

        Voter(int nodeId, int raftPort, int grpcPort, Path dir) {
            this.nodeId = nodeId;
            this.raftPort = raftPort;
            this.grpcPort = grpcPort;
            this.dir = dir;
        }

        public boolean running() {
            return server != null;
        }

        public HostPort address() {
            return new HostPort("127.0.0.1", grpcPort);
        }
    }

    private final List<Voter> voters = new ArrayList<>();
    private final Map<String, String> overrides;

    private TestQuorum(int count, Path baseDir, Map<String, String> overrides) {
        this.overrides = overrides;
        for (int id = 1; id <= count; id++) {
            voters.add(new Voter(id, FreePorts.next(), FreePorts.next(), baseDir.resolve("node-" + id)));
        }
    }

    /** Starts {@code count} voters; {@code overrides} are ControllerConfig keys. */
    public static TestQuorum start(int count, Path baseDir, Map<String, String> overrides) throws Exception {
        TestQuorum quorum = new TestQuorum(count, baseDir, overrides);
        try {
            for (Voter voter : quorum.voters) {
                quorum.start(voter.nodeId);
            }
        } catch (Exception e) {
            quorum.close();
            throw e;
        }
        return quorum;
    }

    public static TestQuorum start(int count, Path baseDir) throws Exception {
        return start(count, baseDir, Map.of());
    }

    /** Voter {@code nodeId}'s config: the quorum's, with its own certificate ({@link TestCertificates#shared()}). */
    public ControllerConfig config(int nodeId) {
        Map<String, String> raw = new HashMap<>(TestCertificates.shared().nodeConfig(nodeId));
        raw.putAll(overrides);
        List<String> list = new ArrayList<>();
        for (Voter v : voters) {
            list.add(v.nodeId + "@127.0.0.1:" + v.raftPort);
        }
        raw.put(ControllerConfig.QUORUM_VOTERS.name(), String.join(",", list));
        List<ConfigKey<?>> keys = new ArrayList<>(ControllerConfig.KEYS);
        keys.addAll(NodeTls.KEYS);
        return new ControllerConfig(new Config(raw, keys));
    }

    public Voter voter(int nodeId) {
        return voters.get(nodeId - 1);
    }

    public List<Voter> voters() {
        return voters;
    }

    public List<HostPort> addresses() {
        return voters.stream().map(Voter::address).toList();
    }

    /** Starts a stopped voter on its ports and data. */
    public void start(int nodeId) throws Exception {
        Voter voter = voter(nodeId);
        voter.faults = new MockFaultHandler("node " + nodeId);
        Endpoint endpoint = Endpoint.newBuilder().setListener("grpc").setHost("127.0.0.1")
                .setPort(voter.grpcPort).build();
        voter.server = new ControllerServer(nodeId, voter.dir.resolve("metadata"), endpoint, config(nodeId),
                Time.SYSTEM, voter.faults);
        voter.server.start();
        voter.grpc = GrpcServers.start("127.0.0.1", voter.grpcPort, voter.server.services(), Set.of(),
                voter.server.transportFilters());
    }

    /** Stops a voter cleanly (a leader hands leadership over on the way), then its gRPC server. */
    public void stop(int nodeId) {
        Voter voter = voter(nodeId);
        if (voter.server != null) {
            voter.server.close();
            voter.server = null;
        }
        if (voter.grpc != null) {
            GrpcServers.stop(voter.grpc);
            voter.grpc = null;
        }
    }

    /** The running voter that is the active controller, if exactly one is. */
    public Optional<Voter> activeController() {
        List<Voter> active = voters.stream()
                .filter(v -> v.running() && v.server.controller().isActive())
                .toList();
        return active.size() == 1 ? Optional.of(active.get(0)) : Optional.empty();
    }

    public Voter awaitActiveController(Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> activeController().isPresent());
        return activeController().orElseThrow();
    }

    public ControllerClient client() {
        return new ControllerClient(ControllerClient.Options.defaults(addresses()));
    }

    public void assertNoFaults() {
        voters.stream().filter(v -> v.faults != null).forEach(v -> v.faults.assertNoFaults());
    }

    @Override
    public void close() {
        for (Voter voter : voters) {
            stop(voter.nodeId);
        }
    }
}
