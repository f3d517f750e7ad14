package io.raftmq.node;

import static io.raftmq.node.SaslTestCalls.exchange;
import static io.raftmq.node.SaslTestCalls.last;
import static io.raftmq.node.SaslTestCalls.plain;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftmq.node.SaslTestCalls.PerNodeSession;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.SaslAuthenticateResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.metadata.ScramMechanism;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes with {@code grpc.listener.security.protocol=SASL_PLAINTEXT}, over raw gRPC stubs: the
 * nodes find each other, register and replicate by authenticating as {@code node-<id>} with the
 * shared node secret (an acks=all produce with min.insync.replicas=3 succeeds, also after a node
 * restarts and the others' sessions with it are gone); a client's session serves client calls but
 * not the node-only ones; a node user serves node-only calls but only for its own broker id; a
 * wrong node secret, and a metadata user named like a node, are refused.
 */
class GrpcSaslPlaintextIntegrationTest {
    private static final String SECRET = "the-cluster-node-secret";
    private static final String TOPIC = "sasl-plaintext-replicated";

    @TempDir
    static Path dir;
    private static InProcessCluster cluster;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("grpc.listener.security.protocol", "SASL_PLAINTEXT",
                "grpc.sasl.node.secret", SECRET, "replica.lag.time.max.ms", "30000"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        ScramUsersFixture.create(cluster, "alice", "alice-secret", ScramMechanism.SCRAM_SHA_512);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    @Test
    void nodesReplicateWithTheirSecretAlsoAfterARestartAndAClientSessionServesCalls() throws Exception {
        produceAtAllReplicas("before the restart");
        // Node 2 forgets every session it issued; the others authenticate with it again.
        cluster.stop(2);
        cluster.start(2);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        produceAtAllReplicas("after the restart");
    }

    @Test
    void aCallWithoutASessionIsUnauthenticatedAlsoForNodeOnlyMethods() {
        StatusRuntimeException client = assertThrows(StatusRuntimeException.class,
                () -> BrokerGrpc.newBlockingStub(channel(1, plaintext())).metadata(MetadataRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, client.getStatus().getCode());
        assertTrue(client.getStatus().getDescription().contains("SASL_PLAINTEXT"), client.getStatus().getDescription());
        assertEquals(SaslSessionHeaders.REQUIRED, client.getTrailers().get(SaslSessionHeaders.REFUSAL));
        StatusRuntimeException node = assertThrows(StatusRuntimeException.class, () -> ControllerGrpc.newBlockingStub(
                channel(1, plaintext())).describeCluster(DescribeClusterRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, node.getStatus().getCode());
    }

    @Test
    void aClientSessionIsRefusedTheNodeOnlyMethods() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ControllerGrpc.newBlockingStub(
                channel(1, session(List.of(token(1, "alice", "alice-secret"), "", ""))))
                .describeCluster(DescribeClusterRequest.getDefaultInstance()));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("User:alice")
                && e.getStatus().getDescription().contains("grpc.sasl.node.secret"), e.getStatus().getDescription());
    }

    @Test
    void aNodeUserIsANodeButOnlyForItsOwnBrokerId() throws Exception {
        ChannelCredentials node2 = session(List.of(token(1, "node-2", SECRET), "", ""));
        assertTrue(ControllerGrpc.newBlockingStub(channel(1, node2))
                .describeCluster(DescribeClusterRequest.getDefaultInstance()).getBrokersCount() >= 3);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ControllerGrpc.newBlockingStub(
                channel(1, node2)).brokerHeartbeat(BrokerHeartbeatRequest.newBuilder().setBrokerId(3)
                        .setWantShutDown(true).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("claims broker 3")
                && e.getStatus().getDescription().contains("User:node-2 (node 2)"), e.getStatus().getDescription());
    }

    @Test
    void aWrongNodeSecretAndAMetadataUserNamedLikeANodeAreRefused() throws Exception {
        SaslAuthenticateResponse wrong = last(exchange(channel(1, plaintext()), "PLAIN", plain("node-2", "guessed")));
        assertEquals(ErrorCode.SASL_AUTHENTICATION_FAILED, wrong.getError().getCode(), wrong.toString());
        ScramUsersFixture.create(cluster, "node-7", "impostor-password", ScramMechanism.SCRAM_SHA_512);
        SaslAuthenticateResponse impostor = last(exchange(channel(1, plaintext()), "PLAIN",
                plain("node-7", "impostor-password")));
        assertEquals(ErrorCode.SASL_AUTHENTICATION_FAILED, impostor.getError().getCode(), impostor.toString());
    }

    /** Creates (once) the topic and produces one record at acks=all with every replica in sync. */
    private void produceAtAllReplicas(String value) throws Exception {
        List<String> tokens = List.of(token(1, "alice", "alice-secret"), token(2, "alice", "alice-secret"),
                token(3, "alice", "alice-secret"));
        try (TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 10_000, session(tokens))) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                if (cluster.node(1).broker().image().topic(TOPIC) == null) {
                    client.createTopic(TOPIC, 1, 3, Map.of("min.insync.replicas", "3"));
                }
                return true;
            });
            client.awaitLeaders(TOPIC, 1, Duration.ofSeconds(30));
            long offset = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> client.produce(TOPIC,
                    0, -1, List.of(value.getBytes(StandardCharsets.UTF_8)), Duration.ofSeconds(10)), o -> o >= 0);
            List<Record> records = client.readAll(TOPIC, 0, offset);
            assertEquals(value, new String(records.get(0).valueBytes(), StandardCharsets.UTF_8));
        }
    }

    /** A complete PLAIN exchange with node {@code node}: its session token. */
    private String token(int node, String user, String password) throws Exception {
        SaslAuthenticateResponse done = last(exchange(channel(node, plaintext()), "PLAIN", plain(user, password)));
        assertTrue(done.getComplete(), done.toString());
        return done.getSessionToken();
    }

    private static ChannelCredentials plaintext() {
        return InsecureChannelCredentials.create();
    }

    private static ChannelCredentials session(List<String> tokens) {
        return CompositeChannelCredentials.create(plaintext(), new PerNodeSession(cluster.addresses(), tokens));
    }

    private ManagedChannel channel(int node, ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1",
                cluster.addresses().get(node - 1).port(), credentials).build();
        channels.add(channel);
        return channel;
    }
}
