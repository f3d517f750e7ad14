package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.HostPort;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.protocol.rpc.SaslLogin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
    @TempDir
    Path dir;

    /** A config file of these lines, plus the ssl.* settings a controller needs (node 1's certificate). */
    private Path file(String... lines) throws Exception {
        List<String> all = new ArrayList<>(List.of(lines));
        TestCertificates.shared().nodeConfig(1).forEach((key, value) -> all.add(key + "=" + value));
        Path path = dir.resolve("node.properties");
        Files.writeString(path, String.join("\n", all) + "\n");
        return path;
    }

    @Test
    void aControllerWithoutItsCertificateDoesNotStart() throws Exception {
        Path path = dir.resolve("plain.properties");
        Files.writeString(path, "node.id=1\ndata.dir=/d\ncontroller.quorum.voters=1@h:9095\n");
        ConfigException e = assertThrows(ConfigException.class, () -> RaftmqNode.load(path, Map.of()));
        assertTrue(e.getMessage().contains("ssl.keystore.location") && e.getMessage().contains("deploy/certs.sh"),
                e.getMessage());
        // A broker alone has no Raft port.
        Files.writeString(path, "node.id=1\ndata.dir=/d\nprocess.roles=broker\ncontroller.quorum.bootstrap.servers="
                + "h:9093\n");
        assertFalse(RaftmqNode.load(path, Map.of()).isController());
    }

    @Test
    void combinedNodeFromFileWithDefaults() throws Exception {
        NodeConfig config = RaftmqNode.load(file("node.id=2", "data.dir=/var/lib/raftmq",
                "grpc.listener=127.0.0.1:9193", "controller.quorum.voters=1@h1:9095,2@h2:9095,3@h3:9095"), Map.of());
        assertEquals(2, config.nodeId());
        assertTrue(config.isBroker() && config.isController());
        assertEquals(new HostPort("127.0.0.1", 9193), config.advertisedListener());
        assertEquals(List.of(new HostPort("127.0.0.1", 9193)), config.controllerBootstrap());
        assertEquals(100, config.heartbeatIntervalMs());
        assertEquals(600, config.sessionTimeoutMs());
        assertEquals(200, config.controllerConfig().connectionLossGraceMs());
        assertEquals(300, config.controllerConfig().electionTimeoutMs());
        assertEquals(300, config.controllerConfig().maxElectionDelayMs());
        assertEquals(3, config.voters().size());
        assertEquals(new HostPort("0.0.0.0", 8080), config.httpListener());
    }

    @Test
    void brokerDefaultsForSegmentsHaveTheTopicMinimums() throws Exception {
        assertRejected("log.segment.bytes", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "log.segment.bytes=1024"), Map.of());
        assertRejected("log.segment.ms", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "log.segment.ms=1"), Map.of());
        RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "log.segment.bytes=1048576", "log.segment.ms=60000"), Map.of());
    }

    @Test
    void httpListenerNoneTurnsTheHttpServerOff() throws Exception {
        NodeConfig config = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "http.listener=none"), Map.of());
        assertNull(config.httpListener());
        NodeConfig empty = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "http.listener="), Map.of());
        assertEquals(new HostPort("0.0.0.0", 8080), empty.httpListener());
        NodeConfig fromEnv = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095"),
                Map.of("RAFTMQ_HTTP_LISTENER", "127.0.0.1:8180"));
        assertEquals(new HostPort("127.0.0.1", 8180), fromEnv.httpListener());
        assertRejected("http.listener", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "http.listener=8080"), Map.of());
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        NodeConfig config = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095"),
                Map.of("RAFTMQ_NODE_ID", "1", "RAFTMQ_BROKER_SESSION_TIMEOUT_MS", "2000",
                        "RAFTMQ_GRPC_ADVERTISED_LISTENER", "node1.example:9093"));
        assertEquals(2000, config.sessionTimeoutMs());
        assertEquals(new HostPort("node1.example", 9093), config.advertisedListener());
    }

    @Test
    void environmentAloneIsEnough() throws Exception {
        NodeConfig config = RaftmqNode.load(null, Map.of("RAFTMQ_NODE_ID", "4", "RAFTMQ_PROCESS_ROLES", "broker",
                "RAFTMQ_DATA_DIR", "/d", "RAFTMQ_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS", "c1:9093,c2:9093"));
        assertTrue(config.isBroker());
        assertFalse(config.isController());
        assertNull(config.controllerConfig());
        assertEquals(2, config.controllerBootstrap().size());
    }

    @Test
    void theGrpcPortsSaslSettings() throws Exception {
        assertRejected("grpc.sasl.node.secret", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "grpc.listener.security.protocol=SASL_PLAINTEXT"), Map.of());
        assertRejected("at least 16 characters (it has 5)", file("node.id=1", "data.dir=/d",
                "controller.quorum.voters=1@h:9095", "grpc.listener.security.protocol=SASL_PLAINTEXT",
                "grpc.sasl.node.secret=short"), Map.of());
        NodeConfig plaintext = RaftmqNode.load(file("node.id=3", "data.dir=/d", "controller.quorum.voters=3@h:9095",
                "grpc.listener.security.protocol=SASL_PLAINTEXT", "grpc.sasl.node.secret=0123456789abcdef"), Map.of());
        assertNull(plaintext.grpcTls());
        assertEquals(List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"), plaintext.grpcSaslMechanisms());
        assertEquals(new SaslLogin("SCRAM-SHA-512", "node-3", "0123456789abcdef"), plaintext.grpcNodeLogin());
        NodeConfig plainOnly = RaftmqNode.load(file("node.id=3", "data.dir=/d", "controller.quorum.voters=3@h:9095",
                "grpc.listener.security.protocol=SASL_PLAINTEXT", "sasl.enabled.mechanisms=PLAIN"),
                Map.of("RAFTMQ_GRPC_SASL_NODE_SECRET", "0123456789abcdef"));
        assertEquals("PLAIN", plainOnly.grpcNodeLogin().mechanism());
        assertRejected("sasl.enabled.mechanisms", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "grpc.listener.security.protocol=SASL_SSL", "sasl.enabled.mechanisms=GSSAPI"), Map.of());
        NodeConfig sasl = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "grpc.listener.security.protocol=SASL_SSL", "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                "grpc.sasl.session.lifetime.ms=2000"), Map.of());
        assertEquals(List.of("SCRAM-SHA-512", "PLAIN"), sasl.grpcSaslMechanisms());
        assertEquals(2000, sasl.grpcSaslSessionLifetimeMs());
        assertTrue(sasl.grpcTls() != null);
        NodeConfig ssl = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "grpc.listener.security.protocol=SSL"), Map.of());
        assertEquals(List.of(), ssl.grpcSaslMechanisms());
        assertEquals(3_600_000L, ssl.grpcSaslSessionLifetimeMs());
    }

    private static void assertRejected(String fragment, Path file, Map<String, String> env) {
        Exception e = assertThrows(ConfigException.class, () -> RaftmqNode.load(file, env));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void badConfigurationsNameTheKey() throws Exception {
        assertRejected("node.id", file("data.dir=/d"), Map.of());
        assertRejected("process.roles", file("node.id=1", "data.dir=/d", "process.roles=broker,zookeeper"), Map.of());
        assertRejected("controller.quorum.voters", file("node.id=1", "data.dir=/d"), Map.of());
        assertRejected("not among the voters", file("node.id=9", "data.dir=/d",
                "controller.quorum.voters=1@h:9095"), Map.of());
        assertRejected("controller.quorum.voters", file("node.id=1", "data.dir=/d",
                "controller.quorum.voters=1@h"), Map.of());
        assertRejected("controller.quorum.bootstrap.servers", file("node.id=1", "data.dir=/d",
                "process.roles=broker"), Map.of());
        assertRejected("grpc.listener", file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "grpc.listener=nowhere"), Map.of());
        assertRejected("broker.heartbeat.interval.ms", file("node.id=1", "data.dir=/d",
                "controller.quorum.voters=1@h:9095", "broker.heartbeat.interval.ms=500"), Map.of());
        assertThrows(java.io.IOException.class, () -> RaftmqNode.load(dir.resolve("missing.properties"), Map.of()));
    }

    @Test
    void theConnectionLossGraceIsTwoHeartbeatsByDefaultAndBetweenOneHeartbeatAndTheSession() throws Exception {
        NodeConfig slow = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "broker.heartbeat.interval.ms=1000", "broker.session.timeout.ms=9000"), Map.of());
        assertEquals(2000, slow.controllerConfig().connectionLossGraceMs());
        NodeConfig off = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "broker.connection.loss.grace.ms=600"), Map.of());
        assertEquals(600, off.controllerConfig().connectionLossGraceMs());
        for (String bad : List.of("99", "601")) {
            Path file = file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                    "broker.connection.loss.grace.ms=" + bad);
            assertRejected("broker.connection.loss.grace.ms", file, Map.of());
            assertRejected("between one heartbeat interval (broker.heartbeat.interval.ms, 100 ms) and the session"
                    + " timeout (broker.session.timeout.ms, 600 ms)", file, Map.of());
        }
    }

    @Test
    void theLeaseMarginIsOneHeartbeatByDefaultAndLeavesAtLeastTwoHeartbeats() throws Exception {
        NodeConfig defaults = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095"),
                Map.of());
        assertEquals(100, defaults.leaseMarginMs());
        NodeConfig slow = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "broker.heartbeat.interval.ms=1000", "broker.session.timeout.ms=9000"), Map.of());
        assertEquals(1000, slow.leaseMarginMs());
        NodeConfig none = RaftmqNode.load(file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "broker.lease.margin.ms=0"), Map.of());
        assertEquals(0, none.leaseMarginMs());
        Path tooBig = file("node.id=1", "data.dir=/d", "controller.quorum.voters=1@h:9095",
                "broker.lease.margin.ms=401");
        assertRejected("broker.lease.margin.ms", tooBig, Map.of());
        assertRejected("at least two heartbeat intervals (200 ms)", tooBig, Map.of());
    }

    @Test
    void dataDirectoryCannotBeSharedByTwoNodes() throws Exception {
        try (DataDirLock first = DataDirLock.acquire(dir.resolve("data"))) {
            org.junit.jupiter.api.Assertions.assertNotNull(first);
            Exception e = assertThrows(java.io.IOException.class, () -> DataDirLock.acquire(dir.resolve("data")));
            assertTrue(e.getMessage().contains("in use"));
        }
        DataDirLock.acquire(dir.resolve("data")).close();
    }
}
