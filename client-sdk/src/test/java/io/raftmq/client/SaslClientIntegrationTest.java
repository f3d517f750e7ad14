package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.ConfigException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.SaslAuthenticationException;
import io.raftmq.client.errors.TopicAuthorizationException;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.ScramUsersFixture;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against three nodes with {@code grpc.listener.security.protocol=SASL_SSL}, the authorizer
 * on (super user User:admin) and 2-second session tokens: SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN
 * users produce, consume and administer; ACLs see the SASL user; a wrong password or an unknown
 * user fails fast with {@link SaslAuthenticationException} and changes nothing; a client
 * certificate without SASL is refused; a client keeps working across several token lifetimes
 * without an error. (A node restart: {@link SaslClientRestartTest}.)
 */
class SaslClientIntegrationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final long LIFETIME_MS = 2_000;

    @TempDir
    static Path dir;
    private static ClusterFixture fixture;
    private static InProcessCluster cluster;
    private static String bootstrap;

    @BeforeAll
    static void startCluster() throws Exception {
        fixture = new ClusterFixture(dir, Map.of("grpc.listener.security.protocol", "SASL_SSL",
                "grpc.sasl.session.lifetime.ms", Long.toString(LIFETIME_MS), "authorizer.enabled", "true",
                "super.users", "User:admin", "replica.lag.time.max.ms", "5000"));
        cluster = fixture.cluster;
        bootstrap = fixture.bootstrap;
        ScramUsersFixture.create(cluster, "admin", "admin-secret", ScramMechanism.SCRAM_SHA_512);
        ScramUsersFixture.create(cluster, "alice", "alice-secret", ScramMechanism.SCRAM_SHA_256);
        ScramUsersFixture.create(cluster, "carol", "carol-secret", ScramMechanism.SCRAM_SHA_512);
    }

    @AfterAll
    static void stopCluster() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void aScramSha512SuperUserAdministersProducesAndConsumes() throws Exception {
        Map<String, Object> admin = sasl("SCRAM-SHA-512", "admin", "admin-secret");
        try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(admin)))) {
            a.createTopic(new NewTopic("sasl-512", 1, 3));
            assertEquals(3, a.describeCluster().brokers().size());
        }
        assertEquals(List.of("a", "b", "c"), roundTrip("sasl-512", admin, null));
    }

    @Test
    void aclsSeeTheSaslUserAndPlainChecksTheScramCredential() throws Exception {
        Map<String, Object> admin = sasl("SCRAM-SHA-512", "admin", "admin-secret");
        try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(admin)))) {
            a.createTopic(new NewTopic("acl-t", 1, 3));
            a.createTopic(new NewTopic("acl-u", 1, 3));
            List<Acl> acls = new ArrayList<>();
            for (String user : List.of("User:alice", "User:carol")) {
                for (Acl.Operation op : List.of(Acl.Operation.WRITE, Acl.Operation.READ, Acl.Operation.DESCRIBE)) {
                    acls.add(new Acl(Acl.ResourceType.TOPIC, "acl-t", Acl.PatternType.LITERAL, user, "*", op,
                            Acl.Permission.ALLOW));
                }
                acls.add(new Acl(Acl.ResourceType.TOPIC, "acl-u", Acl.PatternType.LITERAL, user, "*",
                        Acl.Operation.DESCRIBE, Acl.Permission.ALLOW));
                acls.add(new Acl(Acl.ResourceType.GROUP, "*", Acl.PatternType.LITERAL, user, "*",
                        Acl.Operation.READ, Acl.Permission.ALLOW));
            }
            a.createAcls(acls);
        }
        // alice with SCRAM-SHA-256, carol with PLAIN (checked against her SCRAM-SHA-512 credential).
        for (Map<String, Object> user : List.of(sasl("SCRAM-SHA-256", "alice", "alice-secret"),
                sasl("PLAIN", "carol", "carol-secret"))) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                produce("acl-t", user, "x");
                return true;
            });
            Throwable refused = produceFailure("acl-u", user);
            assertInstanceOf(TopicAuthorizationException.class, refused, refused.toString());
            assertTrue(refused.getMessage().contains(userOf(user)), refused.getMessage());
        }
        assertEquals(List.of("x", "x"), roundTrip("acl-t", sasl("PLAIN", "carol", "carol-secret"), List.of()));
    }

    @Test
    void aWrongPasswordOrAnUnknownUserFailsFastAndChangesNothing() {
        for (Map<String, Object> wrong : List.of(sasl("SCRAM-SHA-512", "admin", "wrong"),
                sasl("PLAIN", "admin", "wrong"), sasl("SCRAM-SHA-256", "nobody", "admin-secret"))) {
            long start = System.nanoTime();
            try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(wrong)))) {
                SaslAuthenticationException e = assertThrows(SaslAuthenticationException.class,
                        () -> a.createTopic(new NewTopic("never", 1, 3)));
                assertTrue(e.getMessage().contains("authentication failed for user " + userOf(wrong)),
                        e.getMessage());
                assertFalse(e.isRetriable());
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failed fast");
            Throwable produce = produceFailure("never", wrong);
            assertInstanceOf(SaslAuthenticationException.class, produce, produce.toString());
        }
        try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(sasl("SCRAM-SHA-512", "admin", "admin-secret"))))) {
            assertFalse(a.listTopics().contains("never"));
        }
    }

    @Test
    void aClientCertificateWithoutSaslIsRefused() {
        Map<String, Object> settings = new HashMap<>();
        settings.put(CommonConfigs.SECURITY_PROTOCOL, "SSL");
        settings.put(CommonConfigs.SSL_TRUSTSTORE_LOCATION, CERTS.truststore().toString());
        settings.put(CommonConfigs.SSL_TRUSTSTORE_PASSWORD, CERTS.password());
        settings.put(CommonConfigs.SSL_KEYSTORE_LOCATION, CERTS.clientKeystore("alice").toString());
        settings.put(CommonConfigs.SSL_KEYSTORE_PASSWORD, CERTS.password());
        try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(settings)))) {
            SaslAuthenticationException e = assertThrows(SaslAuthenticationException.class, a::listTopics);
            assertTrue(e.getMessage().contains("needs SASL authentication"), e.getMessage());
        }
    }

    @Test
    void saslSslWithoutAMechanismIsAConfigError() {
        Map<String, Object> settings = withBootstrap(Map.of(CommonConfigs.SECURITY_PROTOCOL, "SASL_SSL",
                CommonConfigs.SSL_TRUSTSTORE_LOCATION, CERTS.truststore().toString(),
                CommonConfigs.SSL_TRUSTSTORE_PASSWORD, CERTS.password(),
                CommonConfigs.SASL_USERNAME, "admin", CommonConfigs.SASL_PASSWORD, "admin-secret"));
        ConfigException e = assertThrows(ConfigException.class, () -> new Admin(AdminConfig.fromMap(settings)));
        assertTrue(e.getMessage().contains("sasl.mechanism=GSSAPI"), e.getMessage());
    }

    @Test
    void aClientKeepsWorkingAcrossSeveralTokenLifetimes() throws Exception {
        Map<String, Object> admin = sasl("SCRAM-SHA-512", "admin", "admin-secret");
        try (Admin a = new Admin(AdminConfig.fromMap(withBootstrap(admin)));
                Producer<String, String> producer = producer(admin)) {
            a.createTopic(new NewTopic("sasl-expiry", 3, 3));
            long start = System.nanoTime();
            int[] sent = {0};
            // Every call must succeed (an exception fails the wait) while tokens expire three times over.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                producer.send(new ProducerRecord<>("sasl-expiry", sent[0] % 3, null, "v" + sent[0]))
                        .get(30, TimeUnit.SECONDS);
                assertTrue(a.listTopics().contains("sasl-expiry"));
                sent[0]++;
                return System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(3 * LIFETIME_MS + 500);
            });
            assertTrue(sent[0] > 10, "sent " + sent[0]);
        }
    }

    private static List<String> roundTrip(String topic, Map<String, Object> settings, List<String> values)
            throws Exception {
        List<String> sent = values == null ? List.of("a", "b", "c") : values;
        try (Producer<String, String> producer = producer(settings)) {
            for (String value : sent) {
                producer.send(new ProducerRecord<>(topic, 0, null, value)).get(30, TimeUnit.SECONDS);
            }
        }
        ConsumerConfig.Builder consumerConfig = ConsumerConfig.builder().bootstrapServers(bootstrap)
                .autoOffsetReset("earliest").fetchMaxWaitMs(100);
        settings.forEach(consumerConfig::set);
        List<String> read = new ArrayList<>();
        int expected = (int) countOf(topic, settings);
        try (Consumer<String, String> consumer = new Consumer<>(consumerConfig.build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= expected;
            });
        }
        return read;
    }

    /** How many records partition 0 of {@code topic} holds (its end offset). */
    private static long countOf(String topic, Map<String, Object> settings) {
        ConsumerConfig.Builder config = ConsumerConfig.builder().bootstrapServers(bootstrap);
        settings.forEach(config::set);
        try (Consumer<String, String> consumer = new Consumer<>(config.build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    private static void produce(String topic, Map<String, Object> settings, String value) throws Exception {
        try (Producer<String, String> producer = producer(settings)) {
            producer.send(new ProducerRecord<>(topic, 0, null, value)).get(30, TimeUnit.SECONDS);
        }
    }

    /** What a (non-idempotent, quickly timing out) producer's send to {@code topic} fails with. */
    private static Throwable produceFailure(String topic, Map<String, Object> settings) {
        Map<String, Object> quick = new HashMap<>(settings);
        quick.put("enable.idempotence", "false");
        quick.put("max.block.ms", "10000");
        quick.put("request.timeout.ms", "5000");
        quick.put("delivery.timeout.ms", "10000");
        try (Producer<String, String> producer = producer(quick)) {
            producer.send(new ProducerRecord<>(topic, 0, null, "refused")).get(30, TimeUnit.SECONDS);
            throw new AssertionError("the produce to " + topic + " was accepted");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (RaftmqException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Producer<String, String> producer(Map<String, Object> settings) {
        ProducerConfig.Builder config = ProducerConfig.builder().bootstrapServers(bootstrap).acks("all");
        settings.forEach(config::set);
        return new Producer<>(config.build(), Serdes.stringSerializer(), Serdes.stringSerializer());
    }

    private static String userOf(Map<String, Object> settings) {
        Object jaas = settings.get(CommonConfigs.SASL_JAAS_CONFIG);
        return jaas == null ? (String) settings.get(CommonConfigs.SASL_USERNAME)
                : ClientSasl.jaasOptions((String) jaas).get("username");
    }

    private static Map<String, Object> withBootstrap(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.put(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap);
        all.put(AdminConfig.DEFAULT_API_TIMEOUT_MS, 30_000L);
        return all;
    }

    /** SASL_SSL settings: Kafka's JAAS line for SCRAM, sasl.username/password for PLAIN (both forms tested). */
    static Map<String, Object> sasl(String mechanism, String user, String password) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(CommonConfigs.SECURITY_PROTOCOL, "SASL_SSL");
        settings.put(CommonConfigs.SSL_TRUSTSTORE_LOCATION, CERTS.truststore().toString());
        settings.put(CommonConfigs.SSL_TRUSTSTORE_PASSWORD, CERTS.password());
        settings.put(CommonConfigs.SASL_MECHANISM, mechanism);
        if (mechanism.equals("PLAIN")) {
            settings.put(CommonConfigs.SASL_USERNAME, user);
            settings.put(CommonConfigs.SASL_PASSWORD, password);
        } else {
            settings.put(CommonConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule"
                    + " required username=\"" + user + "\" password=\"" + password + "\";");
        }
        return settings;
    }
}
