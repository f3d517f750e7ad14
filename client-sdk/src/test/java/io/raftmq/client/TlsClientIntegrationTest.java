package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.ConfigException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.SslAuthenticationException;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against three nodes with {@code grpc.listener.security.protocol=SSL}: produce and consume
 * over TLS with server authentication only and with a client certificate (mutual TLS); a truststore
 * of another CA is refused with {@link SslAuthenticationException}; a plaintext client gets no answer.
 */
class TlsClientIntegrationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();

    @TempDir
    static Path dir;
    private static ClusterFixture fixture;
    private static InProcessCluster cluster;
    private static String bootstrap;

    @BeforeAll
    static void startCluster() throws Exception {
        fixture = new ClusterFixture(dir, Map.of("grpc.listener.security.protocol", "SSL",
                "replica.lag.time.max.ms", "5000"));
        cluster = fixture.cluster;
        bootstrap = fixture.bootstrap;
    }

    @AfterAll
    static void stopCluster() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void producesAndConsumesOverTlsTrustingTheClusterCa() throws Exception {
        roundTrip("tls-server-auth", tls(false));
    }

    @Test
    void producesAndConsumesOverMutualTls() throws Exception {
        roundTrip("tls-mutual", tls(true));
    }

    @Test
    void aTruststoreThatDoesNotTrustTheBrokersIsATypedError(@TempDir Path otherDir) {
        TestCertificates other = TestCertificates.create(otherDir, "other-ca");
        Map<String, Object> settings = Map.of(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap,
                AdminConfig.SECURITY_PROTOCOL, "SSL",
                AdminConfig.SSL_TRUSTSTORE_LOCATION, other.truststore().toString(),
                AdminConfig.SSL_TRUSTSTORE_PASSWORD, other.password(),
                AdminConfig.DEFAULT_API_TIMEOUT_MS, 10_000L);
        try (Admin admin = new Admin(AdminConfig.fromMap(settings))) {
            SslAuthenticationException e = assertThrows(SslAuthenticationException.class, admin::describeCluster);
            assertTrue(e.getMessage().contains("TLS handshake") && e.getMessage().contains("ssl.truststore.location"),
                    e.getMessage());
        }
    }

    @Test
    void aPlaintextClientGetsNoAnswerFromTheTlsPort() {
        try (Admin admin = new Admin(AdminConfig.builder().bootstrapServers(bootstrap).defaultApiTimeoutMs(3_000)
                .requestTimeoutMs(1_000).build())) {
            RaftmqException e = assertThrows(RaftmqException.class, admin::describeCluster);
            assertTrue(!(e instanceof SslAuthenticationException), e.toString());
        }
    }

    @Test
    void sslWithoutATruststoreIsAConfigError() {
        ConfigException e = assertThrows(ConfigException.class, () -> new Admin(AdminConfig.fromMap(Map.of(
                CommonConfigs.BOOTSTRAP_SERVERS, bootstrap, AdminConfig.SECURITY_PROTOCOL, "SSL"))));
        assertTrue(e.getMessage().contains("ssl.truststore.location"), e.getMessage());
    }

    private static void roundTrip(String topic, Map<String, Object> tls) throws Exception {
        Map<String, Object> admin = new java.util.HashMap<>(tls);
        admin.put(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap);
        admin.put(AdminConfig.DEFAULT_API_TIMEOUT_MS, 30_000L);
        try (Admin a = new Admin(AdminConfig.fromMap(admin))) {
            a.createTopic(new NewTopic(topic, 1, 3));
        }
        ProducerConfig.Builder producerConfig = ProducerConfig.builder().bootstrapServers(bootstrap).acks("all");
        tls.forEach(producerConfig::set);
        List<String> sent = List.of("a", "b", "c");
        try (Producer<String, String> producer = new Producer<>(producerConfig.build(), Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            for (String value : sent) {
                producer.send(new ProducerRecord<>(topic, 0, null, value)).get(30, TimeUnit.SECONDS);
            }
        }
        ConsumerConfig.Builder consumerConfig = ConsumerConfig.builder().bootstrapServers(bootstrap)
                .autoOffsetReset("earliest").fetchMaxWaitMs(100);
        tls.forEach(consumerConfig::set);
        List<String> read = new ArrayList<>();
        try (Consumer<String, String> consumer = new Consumer<>(consumerConfig.build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= sent.size();
            });
        }
        assertEquals(sent, read);
    }

    private static Map<String, Object> tls(boolean withClientCertificate) {
        Map<String, Object> settings = new java.util.HashMap<>();
        settings.put(CommonConfigs.SECURITY_PROTOCOL, "SSL");
        settings.put(CommonConfigs.SSL_TRUSTSTORE_LOCATION, CERTS.truststore().toString());
        settings.put(CommonConfigs.SSL_TRUSTSTORE_PASSWORD, CERTS.password());
        if (withClientCertificate) {
            settings.put(CommonConfigs.SSL_KEYSTORE_LOCATION, CERTS.clientKeystore("alice").toString());
            settings.put(CommonConfigs.SSL_KEYSTORE_PASSWORD, CERTS.password());
        }
        return settings;
    }
}
