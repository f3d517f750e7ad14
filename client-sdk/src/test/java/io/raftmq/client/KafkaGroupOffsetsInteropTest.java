package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.GroupIdNotFoundException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One group, two protocols: offsets committed through this SDK (gRPC) are read by Kafka's Admin
 * over the Kafka listener, offsets Kafka's Admin commits are read by this SDK's consumer and
 * Admin, and a group deleted or trimmed through one is gone for the other.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaGroupOffsetsInteropTest {
    private static final String TOPIC = "shared-offsets";
    private ClusterFixture fixture;
    private org.apache.kafka.clients.admin.Admin kafkaAdmin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        fixture = new ClusterFixture(dir);
        try (Admin admin = fixture.admin()) {
            admin.createTopic(new NewTopic(TOPIC, 2, 3));
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", fixture.cluster.kafkaBootstrap());
        props.put("default.api.timeout.ms", 30_000);
        kafkaAdmin = org.apache.kafka.clients.admin.Admin.create(props);
    }

    @AfterAll
    void stop() {
        if (kafkaAdmin != null) {
            kafkaAdmin.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private static org.apache.kafka.common.TopicPartition kafkaTp(int partition) {
        return new org.apache.kafka.common.TopicPartition(TOPIC, partition);
    }

    private Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata>
            kafkaOffsets(String groupId) throws Exception {
        return kafkaAdmin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    }

    @Test
    void offsetsCommittedThroughTheSdkAreReadByKafkasAdmin() throws Exception {
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().groupId("from-sdk")
                .build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
            consumer.commitSync(Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(11, Optional.empty(),
                    "sdk"), new TopicPartition(TOPIC, 1), new OffsetAndMetadata(12)));
        }
        var read = kafkaOffsets("from-sdk");
        assertEquals(11, read.get(kafkaTp(0)).offset());
        assertEquals("sdk", read.get(kafkaTp(0)).metadata());
        assertEquals(12, read.get(kafkaTp(1)).offset());

        kafkaAdmin.deleteConsumerGroupOffsets("from-sdk", Set.of(kafkaTp(0))).all().get(30, TimeUnit.SECONDS);
        try (Admin admin = fixture.admin()) {
            assertEquals(Map.of(new TopicPartition(TOPIC, 1), new OffsetAndMetadata(12, Optional.empty(), "")),
                    admin.listConsumerGroupOffsets("from-sdk"));
        }
        kafkaAdmin.deleteConsumerGroups(List.of("from-sdk")).all().get(30, TimeUnit.SECONDS);
        try (Admin admin = fixture.admin()) {
            assertTrue(admin.listConsumerGroupOffsets("from-sdk").isEmpty());
            assertTrue(admin.listGroups().stream().noneMatch(g -> g.groupId().equals("from-sdk")));
        }
    }

    @Test
    void offsetsCommittedThroughKafkasAdminAreReadByTheSdk() throws Exception {
        kafkaAdmin.alterConsumerGroupOffsets("from-kafka", Map.of(kafkaTp(0),
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(21, "kafka"), kafkaTp(1),
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(22))).all().get(30, TimeUnit.SECONDS);
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().groupId("from-kafka")
                .build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(
                    new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
            assertEquals(21, committed.get(new TopicPartition(TOPIC, 0)).offset());
            assertEquals("kafka", committed.get(new TopicPartition(TOPIC, 0)).metadata());
            assertEquals(22, committed.get(new TopicPartition(TOPIC, 1)).offset());
        }
        try (Admin admin = fixture.admin()) {
            admin.deleteConsumerGroupOffsets("from-kafka", List.of(new TopicPartition(TOPIC, 1)));
            assertEquals(Map.of(kafkaTp(0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(21, "kafka")),
                    kafkaOffsets("from-kafka"));
            assertThrows(GroupIdNotFoundException.class, () -> admin.deleteConsumerGroupOffsets("no-such-group",
                    List.of(new TopicPartition(TOPIC, 0))));
            admin.deleteGroups(List.of("from-kafka"));
        }
        assertTrue(kafkaOffsets("from-kafka").values().stream().allMatch(v -> v == null));
    }
}
