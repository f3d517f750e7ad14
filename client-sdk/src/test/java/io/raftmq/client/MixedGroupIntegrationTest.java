package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.List;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One consumer group holding an SDK consumer (over gRPC) and a kafka-clients KafkaConsumer
 * (classic protocol, range assignor, over the Kafka listener): the Kafka consumer leads and
 * computes the assignment, the SDK consumer gets its share, and together they cover the topic.
 */
@Timeout(180)
class MixedGroupIntegrationTest {
    @TempDir
    Path dir;

    @Test
    void anSdkConsumerAndAKafkaConsumerShareATopicsPartitions() throws Exception {
        try (ClusterFixture fixture = new ClusterFixture(dir);
                Admin admin = fixture.admin()) {
            admin.createTopic(new NewTopic("mixed", 3, 3));
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", fixture.cluster.kafkaBootstrap());
            props.put("group.id", "mixed-group");
            props.put("group.protocol", "classic");
            props.put("partition.assignment.strategy", RangeAssignor.class.getName());
            props.put("key.deserializer", StringDeserializer.class);
            props.put("value.deserializer", StringDeserializer.class);
            props.put("session.timeout.ms", 10_000);
            try (Consumer<String, String> sdk = new Consumer<>(fixture.consumerConfig().groupId("mixed-group")
                    .sessionTimeoutMs(10_000).heartbeatIntervalMs(200).build(), Serdes.stringDeserializer(),
                    Serdes.stringDeserializer());
                    KafkaConsumer<String, String> kafka = new KafkaConsumer<>(props)) {
                sdk.subscribe(List.of("mixed"));
                kafka.subscribe(List.of("mixed"));
                await().atMost(Duration.ofSeconds(90)).until(() -> {
                    sdk.poll(Duration.ofMillis(100));
                    kafka.poll(Duration.ofMillis(100));
                    Set<String> union = new HashSet<>();
                    sdk.assignment().forEach(tp -> union.add(tp.topic() + "-" + tp.partition()));
                    kafka.assignment().forEach(tp -> union.add(tp.topic() + "-" + tp.partition()));
                    return !sdk.assignment().isEmpty() && !kafka.assignment().isEmpty() && union.size() == 3
                            && sdk.assignment().size() + kafka.assignment().size() == 3;
                });
                assertEquals(3, sdk.assignment().size() + kafka.assignment().size());
            }
        }
    }
}
