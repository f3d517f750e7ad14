package io.raftmq.node;

import static io.raftmq.node.SaslTestCalls.last;
import static io.raftmq.node.SaslTestCalls.plain;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.SaslTestCalls.PerNodeSession;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.SaslAuthenticateResponse;
import io.raftmq.protocol.common.ErrorCode;
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
 * Three nodes with {@code grpc.listener.security.protocol=SASL_SSL}, over raw gRPC stubs: a PLAIN
 * exchange gives a session token that serves calls (nodes still replicate with their certificates:
 * an acks=all produce with min.insync.replicas=3 succeeds); a wrong password, an unknown user and a
 * mechanism that is not enabled are refused with typed errors; a call without a token, with a
 * forged one, or with a client certificate but no token is UNAUTHENTICATED with the trailer saying
 * which; a SASL user is refused the node-only methods. (The SDK's SCRAM and PLAIN clients against
 * such a cluster: client-sdk's SaslClientIntegrationTest.)
 */
class GrpcSaslIntegrationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final String TOPIC = "sasl-replicated";

    @TempDir
    static Path dir;
    private static InProcessCluster cluster;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("grpc.listener.security.protocol", "SASL_SSL",
                "replica.lag.time.max.ms", "30000"));
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
    void aPlainSessionTokenServesCallsAndNodesStillReplicate() throws Exception {
        SaslAuthenticateResponse done = last(exchange(1, "PLAIN", plain("alice", "alice-secret")));
        assertEquals(ErrorCode.NONE, done.getError().getCode(), done.toString());
        assertTrue(done.getComplete());
        assertEquals(3_600_000L, done.getSessionLifetimeMs());
        String token = done.getSessionToken();
        assertEquals(32, java.util.Base64.getUrlDecoder().decode(token).length);

        // Each node issues its own tokens: one per node for a client of the whole cluster.
        List<String> tokens = List.of(token, token(2), token(3));
        try (TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 10_000,
                CompositeChannelCredentials.create(trustOnly(), new PerNodeSession(cluster.addresses(), tokens)))) {
            assertEquals(3, client.refreshMetadata().getBrokersCount());
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                if (cluster.node(1).broker().image().topic(TOPIC) == null) {
                    client.createTopic(TOPIC, 1, 3, Map.of("min.insync.replicas", "3"));
                }
                return true;
            });
            client.awaitLeaders(TOPIC, 1, Duration.ofSeconds(30));
            long offset = client.produce(TOPIC, 0, -1, List.of("over sasl".getBytes(StandardCharsets.UTF_8)),
                    Duration.ofSeconds(30));
            List<Record> records = client.readAll(TOPIC, 0, offset);
            assertEquals("over sasl", new String(records.get(0).valueBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aWrongPasswordAndAnUnknownUserAreRefusedAlike() throws Exception {
        for (String[] login : List.of(new String[] {"alice", "wrong"}, new String[] {"nobody", "alice-secret"})) {
            List<SaslAuthenticateResponse> answers = exchange(1, "PLAIN", plain(login[0], login[1]));
            assertEquals(1, answers.size(), answers.toString());
            SaslAuthenticateResponse refused = answers.get(0);
            assertEquals(ErrorCode.SASL_AUTHENTICATION_FAILED, refused.getError().getCode(), refused.toString());
            assertEquals("authentication failed for user " + login[0], refused.getError().getMessage());
            assertFalse(refused.getComplete());
            assertTrue(refused.getSessionToken().isEmpty());
        }
    }

    @Test
    void aMechanismThatIsNotEnabledIsRefusedNamingTheEnabledOnes() throws Exception {
        SaslAuthenticateResponse refused = last(exchange(2, "GSSAPI", new byte[] {1}));
        assertEquals(ErrorCode.UNSUPPORTED_SASL_MECHANISM, refused.getError().getCode(), refused.toString());
        assertTrue(refused.getError().getMessage().contains("GSSAPI")
                && refused.getError().getMessage().contains("[PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]"),
                refused.getError().getMessage());
        assertEquals(List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"), refused.getEnabledMechanismsList());
    }

    @Test
    void aCallWithoutATokenIsUnauthenticatedNamingTheMethod() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> BrokerGrpc.newBlockingStub(channel(1, trustOnly())).metadata(MetadataRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("raftmq.broker.v1.Broker/Metadata")
                && e.getStatus().getDescription().contains("SaslAuthenticate"), e.getStatus().getDescription());
        assertEquals(SaslSessionHeaders.REQUIRED, e.getTrailers().get(SaslSessionHeaders.REFUSAL));
    }

    @Test
    void aForgedTokenIsUnauthenticatedAsUnknown() {
        ChannelCredentials forged = CompositeChannelCredentials.create(trustOnly(),
                new PerNodeSession(cluster.addresses(), List.of("forged", "forged", "forged")));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> BrokerGrpc.newBlockingStub(channel(1, forged)).metadata(MetadataRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("unknown to this node or has expired"),
                e.getStatus().getDescription());
        assertEquals(SaslSessionHeaders.UNKNOWN_SESSION, e.getTrailers().get(SaslSessionHeaders.REFUSAL));
    }

    @Test
    void aTokenOfAnotherNodeIsUnknownThere() throws Exception {
        ChannelCredentials node1Token = CompositeChannelCredentials.create(trustOnly(),
                new PerNodeSession(cluster.addresses(), List.of(token(1), token(1), token(1))));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> BrokerGrpc.newBlockingStub(channel(2, node1Token)).metadata(MetadataRequest.getDefaultInstance()));
        assertEquals(SaslSessionHeaders.UNKNOWN_SESSION, e.getTrailers().get(SaslSessionHeaders.REFUSAL));
    }

    @Test
    void aClientCertificateWithoutSaslIsRefused() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> BrokerGrpc.newBlockingStub(
                channel(1, GrpcTlsIntegrationTest.tlsAs(CERTS.clientKeystore("alice"))))
                .metadata(MetadataRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertEquals(SaslSessionHeaders.REQUIRED, e.getTrailers().get(SaslSessionHeaders.REFUSAL));
    }

    @Test
    void aSaslUserIsRefusedTheNodeOnlyMethods() throws Exception {
        ChannelCredentials alice = CompositeChannelCredentials.create(trustOnly(),
                new PerNodeSession(cluster.addresses(), List.of(token(1), token(2), token(3))));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ControllerGrpc.newBlockingStub(
                channel(1, alice)).describeCluster(DescribeClusterRequest.getDefaultInstance()));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    }

    @Test
    void theExchangeIsBounded() throws Exception {
        SaslAuthenticateResponse tooLarge = last(exchange(1, "PLAIN", new byte[64 * 1024]));
        assertEquals(ErrorCode.INVALID_REQUEST, tooLarge.getError().getCode(), tooLarge.toString());
        assertTrue(tooLarge.getError().getMessage().contains("65536 bytes"), tooLarge.getError().getMessage());
        // A SCRAM exchange that repeats its first message: the second names a mechanism again.
        byte[] clientFirst = "n,,n=alice,r=abcdefgh".getBytes(StandardCharsets.UTF_8);
        List<SaslAuthenticateResponse> answers = exchange(1, "SCRAM-SHA-512", clientFirst, clientFirst);
        SaslAuthenticateResponse refused = last(answers);
        assertEquals(ErrorCode.ILLEGAL_SASL_STATE, refused.getError().getCode(), answers.toString());
        assertFalse(refused.getComplete());
    }

    /** A complete PLAIN exchange with node {@code node} as alice: its session token. */
    private String token(int node) throws Exception {
        SaslAuthenticateResponse done = last(exchange(node, "PLAIN", plain("alice", "alice-secret")));
        assertTrue(done.getComplete(), done.toString());
        return done.getSessionToken();
    }

    private List<SaslAuthenticateResponse> exchange(int node, String mechanism, byte[]... tokens) throws Exception {
        return SaslTestCalls.exchange(channel(node, trustOnly()), mechanism, tokens);
    }

    private ManagedChannel channel(int node, ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1",
                cluster.addresses().get(node - 1).port(), credentials).build();
        channels.add(channel);
        return channel;
    }

    /** TLS trusting the test CA, without a certificate of one's own. */
    private static ChannelCredentials trustOnly() {
        return TlsChannelCredentials.newBuilder().trustManager(NodeTls.load(new Config(
                CERTS.storeConfig(CERTS.clientKeystore("alice")), NodeTls.KEYS)).trustManagers().getTrustManagers())
                .build();
    }
}
