package io.raftmq.broker.kafka;

import io.raftmq.broker.sasl.ScramCredentials;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.kafka.KafkaListenerTlsTest.Stub;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SASL on the Kafka listener against a stub handler and an in-memory credential store: kafka-clients'
 * Admin authenticates with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_PLAINTEXT and
 * SASL_SSL and its requests carry User:name; wrong passwords, unknown users and mechanisms not
 * enabled are refused with Kafka's errors; on the wire, a request before authentication closes
 * the connection as Kafka does, and an old client's handshake v0 (bare tokens) authenticates.
 */
@Timeout(60)
class KafkaListenerSaslTest {
    private static final KafkaPrincipal ALICE = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "alice");
    private static final ScramCredentials USERS = users("alice", "alice-secret");

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
    void saslPlaintextAuthenticatesEachMechanism(String mechanism) throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS)) {
            try (Admin admin = Admin.create(saslClient(stub.port(), "SASL_PLAINTEXT", mechanism, "alice",
                    "alice-secret"))) {
                assertEquals(1, admin.describeCluster().nodes().get(20, TimeUnit.SECONDS).size());
            }
            assertEquals(List.of(ALICE), stub.principals());
            assertEquals(0, stub.listener().stats().authenticationsFailed());
        }
    }

    @Test
    void saslSslAuthenticatesWithScram() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_SSL, ListenerSecurity.SUPPORTED_MECHANISMS), USERS)) {
            Map<String, Object> config = saslClient(stub.port(), "SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret");
            Map<String, Object> tls = KafkaListenerTlsTest.sslClient(stub.port(), null);
            tls.remove(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG);
            config.putAll(tls);
            try (Admin admin = Admin.create(config)) {
                assertEquals(1, admin.describeCluster().nodes().get(20, TimeUnit.SECONDS).size());
            }
            assertEquals(List.of(ALICE), stub.principals());
        }
    }

    @Test
    void wrongScramPasswordIsRefusedWithKafkasMessage() throws Exception {
        assertRefused("SCRAM-SHA-256", "alice", "wrong", SaslAuthenticationException.class,
                "Authentication failed during authentication due to invalid credentials with SASL mechanism"
                        + " SCRAM-SHA-256");
    }

    @Test
    void unknownUserIsRefusedLikeAWrongPassword() throws Exception {
        assertRefused("SCRAM-SHA-512", "nobody", "alice-secret", SaslAuthenticationException.class,
                "Authentication failed during authentication due to invalid credentials with SASL mechanism"
                        + " SCRAM-SHA-512");
    }

    @Test
    void wrongPlainPasswordIsRefused() throws Exception {
        assertRefused("PLAIN", "alice", "wrong", SaslAuthenticationException.class,
                "Authentication failed: Invalid username or password");
    }

    @Test
    void mechanismNotEnabledIsRefused() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, List.of("SCRAM-SHA-512")), USERS)) {
            Map<String, Object> config = saslClient(stub.port(), "SASL_PLAINTEXT", "PLAIN", "alice", "alice-secret");
            try (Admin admin = Admin.create(config)) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS));
                assertInstanceOf(UnsupportedSaslMechanismException.class, e.getCause(), e.toString());
            }
            assertEquals(List.of(), stub.principals());
        }
    }

    private void assertRefused(String mechanism, String user, String password, Class<? extends Exception> error,
            String message) throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS)) {
            Map<String, Object> config = saslClient(stub.port(), "SASL_PLAINTEXT", mechanism, user, password);
            try (Admin admin = Admin.create(config)) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS));
                assertInstanceOf(error, e.getCause(), e.toString());
                assertEquals(message, e.getCause().getMessage());
            }
            assertTrue(stub.listener().stats().authenticationsFailed() >= 1);
            assertEquals(List.of(), stub.principals());
        }
    }

    @Test
    void requestBeforeAuthenticationClosesTheConnectionUnanswered() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            ApiVersionsResponseData versions = client.send(new ApiVersionsRequestData()
                    .setClientSoftwareName("wire").setClientSoftwareVersion("1"), (short) 3);
            assertEquals(Errors.NONE.code(), versions.errorCode());
            assertTrue(versions.apiKeys().find(ApiKeys.SASL_HANDSHAKE.id) != null);
            client.write(new MetadataRequestData(), (short) 12);
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(10)).until(() -> stub.listener().stats().authenticationsFailed() == 1);
            assertEquals(List.of(), stub.principals());
        }
    }

    @Test
    void aFrameAboveKafkasBoundBeforeAuthenticationCloses() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            // sasl.server.max.receive.size: a size alone is enough; nothing is allocated for it.
            client.sendRaw(ByteBuffer.allocate(4).putInt(SaslAuthenticator.MAX_RECEIVE_BYTES + 1).array());
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(10)).until(() -> stub.listener().stats().authenticationsFailed() == 1);
        }
    }

    @Test
    void otherRequestInsteadOfSaslAuthenticateGetsIllegalSaslStateAndCloses() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            SaslHandshakeResponseData handshake = client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"),
                    (short) 1);
            assertEquals(Errors.NONE.code(), handshake.errorCode());
            assertEquals(ListenerSecurity.SUPPORTED_MECHANISMS, handshake.mechanisms());
            DescribeClusterResponseData cluster = client.send(new DescribeClusterRequestData(), (short) 0);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), cluster.errorCode());
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
            assertEquals(List.of(), stub.principals());
        }
    }

    @Test
    void unsupportedMechanismIsAnsweredThenClosed() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, List.of("SCRAM-SHA-256")), USERS);
                KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            SaslHandshakeResponseData handshake = client.send(new SaslHandshakeRequestData().setMechanism("GSSAPI"),
                    (short) 1);
            assertEquals(Errors.UNSUPPORTED_SASL_MECHANISM.code(), handshake.errorCode());
            assertEquals(List.of("SCRAM-SHA-256"), handshake.mechanisms());
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
        }
    }

    @Test
    void saslAuthenticateV1ThenRequestsCarryTheUser() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"), (short) 1);
            SaslAuthenticateResponseData wrong = client.send(new SaslAuthenticateRequestData()
                    .setAuthBytes(plainToken("alice", "nope")), (short) 2);
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), wrong.errorCode());
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
        }
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"), (short) 1);
            SaslAuthenticateResponseData ok = client.send(new SaslAuthenticateRequestData()
                    .setAuthBytes(plainToken("alice", "alice-secret")), (short) 2);
            assertEquals(Errors.NONE.code(), ok.errorCode());
            assertEquals(0, ok.sessionLifetimeMs());
            client.send(new MetadataRequestData(), (short) 12);
            assertEquals(List.of(ALICE), stub.principals());
            // Once authenticated, as Kafka's KafkaApis: no second exchange.
            SaslHandshakeResponseData again = client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"),
                    (short) 1);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), again.errorCode());
            SaslAuthenticateResponseData authenticateAgain = client.send(new SaslAuthenticateRequestData()
                    .setAuthBytes(plainToken("alice", "alice-secret")), (short) 2);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), authenticateAgain.errorCode());
        }
    }

    @Test
    void saslHandshakeOnAPlaintextListenerIsIllegalSaslState() throws Exception {
        try (Stub stub = Stub.start(ListenerSecurity.PLAINTEXT);
                KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            SaslHandshakeResponseData handshake = client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"),
                    (short) 1);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), handshake.errorCode());
            MetadataResponseData metadata = client.send(new MetadataRequestData(), (short) 12);
            assertEquals("stub-cluster", metadata.clusterId());
            assertEquals(List.of(KafkaPrincipal.ANONYMOUS), stub.principals());
        }
    }

    @Test
    void handshakeV0TakesBareTokens() throws Exception {
        try (Stub stub = Stub.start(sasl(SecurityProtocol.SASL_PLAINTEXT, ListenerSecurity.SUPPORTED_MECHANISMS),
                USERS); KafkaWireClient client = KafkaWireClient.connect(stub.listener().boundAddress())) {
            SaslHandshakeResponseData handshake = client.send(new SaslHandshakeRequestData().setMechanism("PLAIN"),
                    (short) 0);
            assertEquals(Errors.NONE.code(), handshake.errorCode());
            byte[] token = plainToken("alice", "alice-secret");
            client.sendRaw(ByteBuffer.allocate(4 + token.length).putInt(token.length).put(token).array());
            ByteBuffer answer = client.readFrame();
            assertFalse(answer.hasRemaining(), "PLAIN answers an empty token");
            MetadataResponseData metadata = client.send(new MetadataRequestData(), (short) 12);
            assertEquals("stub-cluster", metadata.clusterId());
            assertEquals(List.of(ALICE), stub.principals());
        }
    }

    static ListenerSecurity sasl(SecurityProtocol protocol, List<String> mechanisms) {
        TestCertificates certs = TestCertificates.shared();
        NodeTls node = protocol == SecurityProtocol.SASL_SSL
                ? NodeTls.load(new Config(certs.nodeConfig(1), NodeTls.KEYS)) : null;
        return ListenerSecurity.of(protocol, node, "none", mechanisms, "DEFAULT");
    }

    /** A store holding {@code user} with both SCRAM credentials of {@code password} (4096 iterations). */
    static ScramCredentials users(String user, String password) {
        Map<ScramMechanism, ScramCredential> credentials = new EnumMap<>(ScramMechanism.class);
        try {
            for (ScramMechanism mechanism : ScramMechanism.values()) {
                credentials.put(mechanism, new ScramFormatter(mechanism).generateCredential(password, 4096));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return name -> name.equals(user) ? credentials : Map.of();
    }

    static Map<String, Object> saslClient(int port, String protocol, String mechanism, String user,
            String password) {
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        config.put(SaslConfigs.SASL_MECHANISM, mechanism);
        config.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + user + "\" password=\""
                + password + "\";");
        return config;
    }

    private static byte[] plainToken(String user, String password) {
        return ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
    }
}
