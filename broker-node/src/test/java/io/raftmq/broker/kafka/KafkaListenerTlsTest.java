package io.raftmq.broker.kafka;

import io.raftmq.broker.sasl.ScramCredentials;
import static io.raftmq.broker.kafka.StubKafkaHandler.api;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.FreePorts;
import io.raftmq.common.Time;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka listener over TLS (SSL), with kafka-clients' Admin against a stub that serves Metadata
 * and records who each request came from: the principal a connection gets (ANONYMOUS without a
 * client certificate, User:<subject DN> with one, as the mapping rules say) reaches {@link
 * KafkaRequest#principal()}; a plaintext client, an untrusted and an expired client certificate
 * are refused at the handshake and counted.
 */
@Timeout(60)
class KafkaListenerTlsTest {
    private static final TestCertificates CERTS = TestCertificates.shared();

    @TempDir
    Path dir;

    @Test
    void sslWithoutClientCertificateServesAnonymous() throws Exception {
        try (Stub stub = Stub.start(tls("none", "DEFAULT"))) {
            try (Admin admin = Admin.create(sslClient(stub.port, null))) {
                assertEquals(1, admin.describeCluster().nodes().get(20, TimeUnit.SECONDS).size());
            }
            assertEquals(List.of(KafkaPrincipal.ANONYMOUS), stub.principals());
            assertEquals(0, stub.listener.stats().authenticationsFailed());
        }
    }

    @Test
    void clientCertificateNamesThePrincipal() throws Exception {
        try (Stub stub = Stub.start(tls("required", "DEFAULT"))) {
            try (Admin admin = Admin.create(sslClient(stub.port, CERTS.clientKeystore("alice")))) {
                assertEquals(1, admin.describeCluster().nodes().get(20, TimeUnit.SECONDS).size());
            }
            assertEquals(List.of(new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "CN=alice")), stub.principals());
        }
    }

    @Test
    void mappingRulesShapeThePrincipal() throws Exception {
        try (Stub stub = Stub.start(tls("requested", "RULE:^CN=(.*?)$/$1/U,DEFAULT"))) {
            try (Admin admin = Admin.create(sslClient(stub.port, CERTS.clientKeystore("bob")))) {
                admin.describeCluster().nodes().get(20, TimeUnit.SECONDS);
            }
            assertEquals(List.of(new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "BOB")), stub.principals());
        }
    }

    @Test
    void plaintextClientOnTlsListenerIsClosed() throws Exception {
        try (Stub stub = Stub.start(tls("none", "DEFAULT"));
                KafkaWireClient client = KafkaWireClient.connect(stub.listener.boundAddress())) {
            client.write(new ApiVersionsRequestData().setClientSoftwareName("plain").setClientSoftwareVersion("1"),
                    (short) 3);
            assertTrue(client.isClosedWithin(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(10)).until(() -> stub.listener.stats().authenticationsFailed() == 1);
            assertEquals(List.of(), stub.principals());
        }
    }

    @Test
    void untrustedClientCertificateIsRefused() throws Exception {
        Path untrusted = TestCertificates.create(dir.resolve("other-ca"), "other-ca").clientKeystore("mallory");
        assertRefused(untrusted);
    }

    @Test
    void expiredClientCertificateIsRefused() throws Exception {
        assertRefused(CERTS.expiredKeystore("old-alice"));
    }

    private void assertRefused(Path keystore) throws Exception {
        try (Stub stub = Stub.start(tls("required", "DEFAULT"))) {
            Map<String, Object> config = sslClient(stub.port, keystore);
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
            try (Admin admin = Admin.create(config)) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS));
                assertInstanceOf(SslAuthenticationException.class, e.getCause(), e.toString());
            }
            assertTrue(stub.listener.stats().authenticationsFailed() >= 1);
            assertEquals(List.of(), stub.principals());
        }
    }

    private static ListenerSecurity tls(String clientAuth, String rules) {
        NodeTls node = NodeTls.load(new Config(CERTS.nodeConfig(1), NodeTls.KEYS));
        return ListenerSecurity.of(SecurityProtocol.SSL, node, clientAuth, List.of(), rules);
    }

    /** An SSL client trusting the test CA, showing {@code keystore}'s certificate unless null. */
    static Map<String, Object> sslClient(int port, Path keystore) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, CERTS.truststore().toString());
        config.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, CERTS.password());
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        if (keystore != null) {
            config.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, keystore.toString());
            config.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, CERTS.password());
            config.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        }
        return config;
    }

    /** A listener with {@code security} whose stub serves Metadata (one broker: itself). */
    record Stub(KafkaListener listener, StubKafkaHandler handler, int port) implements AutoCloseable {
        static Stub start(ListenerSecurity security) throws Exception {
            return start(security, ScramCredentials.NONE);
        }

        static Stub start(ListenerSecurity security, ScramCredentials credentials) throws Exception {
            int port = FreePorts.next();
            StubKafkaHandler handler = new StubKafkaHandler(List.of(api(ApiKeys.METADATA, 0, 13)),
                    request -> CompletableFuture.completedFuture(KafkaResponse.send(new MetadataResponseData()
                            .setClusterId("stub-cluster").setControllerId(1)
                            .setBrokers(new MetadataResponseData.MetadataResponseBrokerCollection(List.of(
                                    new MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1").setPort(port))
                                    .iterator())))));
            KafkaListener listener = new KafkaListener(new KafkaListener.Options(1, "127.0.0.1", port, 1 << 20,
                    60_000, 5, 1), handler, security, credentials, Time.SYSTEM, true);
            listener.start();
            return new Stub(listener, handler, port);
        }

        /** The distinct principals of the requests handed to the handler, in order of first sight. */
        List<KafkaPrincipal> principals() {
            return handler.seen().stream().map(KafkaRequest::principal).distinct().toList();
        }

        @Override
        public void close() {
            listener.close();
        }
    }
}
