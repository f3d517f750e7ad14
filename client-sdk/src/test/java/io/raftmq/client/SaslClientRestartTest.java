package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.ScramUsersFixture;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SASL_SSL cluster with hour-long session tokens, and a node restarted under an authenticated
 * producer and admin: the restarted node no longer knows the client's token (sessions are in
 * memory), the client's next call to it is refused as an unknown session, and the client
 * authenticates again by itself and retries; no error reaches the application.
 */
class SaslClientRestartTest {
    private static final String TOPIC = "sasl-restart";

    @TempDir
    static Path dir;
    private static ClusterFixture fixture;
    private static InProcessCluster cluster;
    private static String bootstrap;

    @BeforeAll
    static void startCluster() throws Exception {
        fixture = new ClusterFixture(dir, Map.of("grpc.listener.security.protocol", "SASL_SSL",
                "replica.lag.time.max.ms", "5000", "leader.imbalance.check.interval.seconds", "1"));
        cluster = fixture.cluster;
        bootstrap = fixture.bootstrap;
        ScramUsersFixture.create(cluster, "admin", "admin-secret", ScramMechanism.SCRAM_SHA_512);
    }

    @AfterAll
    static void stopCluster() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void aNodeRestartUnderAnAuthenticatedClientIsNoError() throws Exception {
        Map<String, Object> settings = new HashMap<>(SaslClientIntegrationTest.sasl("SCRAM-SHA-512", "admin",
                "admin-secret"));
        settings.put(CommonConfigs.BOOTSTRAP_SERVERS, bootstrap);
        settings.put(AdminConfig.DEFAULT_API_TIMEOUT_MS, 60_000L);
        ProducerConfig.Builder producerConfig = ProducerConfig.builder().acks("all");
        settings.forEach((key, value) -> {
            if (!key.equals(AdminConfig.DEFAULT_API_TIMEOUT_MS)) {
                producerConfig.set(key, value);
            }
        });
        try (Admin admin = new Admin(AdminConfig.fromMap(settings));
                Producer<String, String> producer = new Producer<>(producerConfig.build(),
                        Serdes.stringSerializer(), Serdes.stringSerializer())) {
            admin.createTopic(new NewTopic(TOPIC, 3, 3));
            int onNode2 = awaitPartitionLedBy(2);
            for (int p = 0; p < 3; p++) { // a session with every node
                producer.send(new ProducerRecord<>(TOPIC, p, null, "before")).get(30, TimeUnit.SECONDS);
            }
            cluster.stop(2);
            cluster.start(2);
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            // Node 2 leads its preferred partition again (leader rebalance): the producer must talk to
            // it, with a token it no longer knows.
            awaitPartitionLedBy(2);
            producer.send(new ProducerRecord<>(TOPIC, onNode2, null, "after")).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) { // the admin rotates over the brokers, node 2 among them
                assertTrue(admin.listTopics().contains(TOPIC));
            }
        }
    }

    /** A partition of the topic whose leader is {@code node}, once one is. */
    private static int awaitPartitionLedBy(int node) {
        int[] found = {-1};
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            TopicImage topic = cluster.node(node).broker().image().topic(TOPIC);
            for (int p = 0; topic != null && p < 3; p++) {
                PartitionRegistration partition = topic.partition(p);
                if (partition != null && partition.leader() == node) {
                    found[0] = p;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }
}
