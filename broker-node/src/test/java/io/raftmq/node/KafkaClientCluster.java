package io.raftmq.node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Three in-process nodes with Kafka listeners, unfenced, and a Kafka {@link Admin} on them: the
 * fixture of the tests of Kafka's own clients. {@link #close()} also asserts that no node faulted.
 *
 * <p>Used from one test class's lifecycle and test methods; the clients it builds are the caller's
 * to close.
 */
final class KafkaClientCluster implements AutoCloseable {
    final InProcessCluster cluster;
    final Admin admin;

    private KafkaClientCluster(InProcessCluster cluster, Admin admin) {
        this.cluster = cluster;
        this.admin = admin;
    }

    /** Starts the nodes with {@code nodeConfigs} and waits until every broker is unfenced. */
    static KafkaClientCluster start(Path dir, Map<String, String> nodeConfigs) throws Exception {
        InProcessCluster cluster = new InProcessCluster(3, dir, nodeConfigs);
        try {
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        return new KafkaClientCluster(cluster, Admin.create(props));
    }

    /**
     * A classic-protocol consumer of string records in {@code group}: manual commits, from the
     * earliest offset, range assignor, the given session and heartbeat; {@code overrides} last.
     */
    KafkaConsumer<String, String> classicConsumer(String group, int sessionTimeoutMs, int heartbeatIntervalMs,
            Map<String, Object> overrides) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionTimeoutMs);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, heartbeatIntervalMs);
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        props.putAll(overrides);
        return new KafkaConsumer<>(props);
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(10));
        cluster.close();
        cluster.assertNoFaults();
    }
}
