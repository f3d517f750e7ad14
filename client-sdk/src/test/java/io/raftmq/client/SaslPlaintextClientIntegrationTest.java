package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.SaslAuthenticationException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against three nodes with {@code grpc.listener.security.protocol=SASL_PLAINTEXT}, the
 * authorizer on (super user User:admin): the first user is made by an admin logged in as a node
 * ({@code node-1} with the node secret, a super user as every node is), then that user administers,
 * produces and consumes with SCRAM over plaintext; a wrong password fails fast, and a client
 * without SASL is refused.
 */
class SaslPlaintextClientIntegrationTest {
    private static final String NODE_SECRET = "sdk-test-node-secret";

    @TempDir
    static Path dir;
    private static ClusterFixture fixture;
    private static String bootstrap;

    @BeforeAll
    static void startCluster() throws Exception {
        fixture = new ClusterFixture(dir, Map.of("grpc.listener.security.protocol", "SASL_PLAINTEXT",
                "grpc.sasl.node.secret", NODE_SECRET, "authorizer.enabled", "true", "super.users", "User:admin",
                "replica.lag.time.max.ms", "5000"));
        bootstrap = fixture.bootstrap;
    }

    @AfterAll
    static void stopCluster() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void theFirstUserIsMadeAsANodeAndThenWorksOverPlaintext() throws Exception {
        try (Admin asNode = new Admin(AdminConfig.fromMap(settings("SCRAM-SHA-512", "node-1", NODE_SECRET)))) {
            asNode.upsertScramCredential("admin", "SCRAM-SHA-256", 4096, "admin-secret");
        }
        Map<String, Object> admin = settings("SCRAM-SHA-256", "admin", "admin-secret");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            try (Admin a = new Admin(AdminConfig.fromMap(admin))) {
                a.createTopic(new NewTopic("sasl-plaintext", 1, 3));
            }
            return true;
        });
        ProducerConfig.Builder producerConfig = ProducerConfig.builder().acks("all");
        ConsumerConfig.Builder consumerConfig = ConsumerConfig.builder().autoOffsetReset("earliest")
                .fetchMaxWaitMs(100);
        admin.forEach((key, value) -> {
            if (!key.equals(AdminConfig.DEFAULT_API_TIMEOUT_MS)) {
                producerConfig.set(key, value);
                consumerConfig.set(key, value);
            }
        });
        try (Producer<String, String> producer = new Producer<>(producerConfig.build(), Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            for (String value : List.of("a", "b", "c")) {
                producer.send(new ProducerRecord<>("sasl-plaintext", 0, null, value)).get(30, TimeUnit.SECONDS);
            }
        }
        List<String> read = new ArrayList<>();
        try (Consumer<String, String> consumer = new Consumer<>(consumerConfig.build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("sasl-plaintext", 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= 3;
            });
        }
        assertEquals(List.of("a", "b", "c"), read);
    }

    @Test
    void aWrongPasswordFailsFastAndAClientWithoutSaslIsRefused() {
        long start = System.nanoTime();
        try (Admin a = new Admin(AdminConfig.fromMap(settings("SCRAM-SHA-512", "node-1", "not-the-secret")))) {
            SaslAuthenticationException e = assertThrows(SaslAuthenticationException.class, a::listTopics);
            assertTrue(e.getMessage().contains("authentication failed for user node-1"), e.getMessage());
            assertFalse(e.isRetriable());
        }
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failed fast");
        Map<String, Object> plaintext = new HashMap<>();
        plaintext.put(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap);
        try (Admin a = new Admin(AdminConfig.fromMap(plaintext))) {
            SaslAuthenticationException e = assertThrows(SaslAuthenticationException.class, a::listTopics);
            assertTrue(e.getMessage().contains("needs SASL authentication on this SASL_PLAINTEXT port"),
                    e.getMessage());
        }
    }

    private static Map<String, Object> settings(String mechanism, String user, String password) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap);
        settings.put(AdminConfig.DEFAULT_API_TIMEOUT_MS, 30_000L);
        settings.put(CommonConfigs.SECURITY_PROTOCOL, "SASL_PLAINTEXT");
        settings.put(CommonConfigs.SASL_MECHANISM, mechanism);
        settings.put(CommonConfigs.SASL_USERNAME, user);
        settings.put(CommonConfigs.SASL_PASSWORD, password);
        return settings;
    }
}
