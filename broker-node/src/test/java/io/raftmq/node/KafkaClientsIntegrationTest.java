package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own Java client (kafka-clients, the version whose codec the listener uses) against three
 * combined nodes in this JVM, through their Kafka listeners only: producers at acks all, 1 and 0,
 * idempotent by default; keyed records in the partitions Kafka's partitioner picks; a consumer
 * with assign, seek and poll; the AdminClient creating, describing, altering and deleting topics;
 * and the errors a Kafka client acts on.
 */
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaClientsIntegrationTest {
    private KafkaClientCluster kafka;
    private InProcessCluster cluster;
    private Admin admin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kafka = KafkaClientCluster.start(dir, Map.of("auto.create.topics.enable", "true", "num.partitions", "2"));
        cluster = kafka.cluster;
        admin = kafka.admin;
    }

    @AfterAll
    void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private KafkaProducer<String, String> producer(Map<String, Object> overrides) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.putAll(overrides);
        return new KafkaProducer<>(props);
    }

    private KafkaConsumer<String, String> consumer() {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props);
    }

    private void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 3).configs(configs))).all()
                .get(30, TimeUnit.SECONDS);
    }

    /** Every record of {@code partitions}, from the beginning to their end offsets. */
    private List<ConsumerRecord<String, String>> readAll(Collection<TopicPartition> partitions) {
        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
            });
            return out;
        }
    }

    private static List<TopicPartition> partitions(String topic, int count) {
        List<TopicPartition> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            out.add(new TopicPartition(topic, p));
        }
        return out;
    }

    @Test
    void producersAtEveryAcksLevelWriteWhatTheConsumerReadsBack() throws Exception {
        String topic = "kc-acks";
        createTopic(topic, 3, Map.of("min.insync.replicas", "2"));
        Map<String, String> expected = new HashMap<>();
        for (String acks : List.of("all", "1", "0")) {
            Map<String, Object> overrides = new HashMap<>();
            overrides.put(ProducerConfig.ACKS_CONFIG, acks);
            if (!acks.equals("all")) {
                overrides.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            }
            try (KafkaProducer<String, String> producer = producer(overrides)) {
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    String key = "acks" + acks + "-" + i;
                    expected.put(key, "value-" + i);
                    sent.add(producer.send(new ProducerRecord<>(topic, key, "value-" + i)));
                }
                producer.flush();
                for (Future<RecordMetadata> f : sent) {
                    RecordMetadata m = f.get(30, TimeUnit.SECONDS);
                    assertTrue(acks.equals("0") ? m.offset() == -1 : m.offset() >= 0, acks + ": " + m);
                }
            }
        }
        List<ConsumerRecord<String, String>> read = readAll(partitions(topic, 3));
        Map<String, String> got = new HashMap<>();
        for (ConsumerRecord<String, String> r : read) {
            assertEquals(null, got.put(r.key(), r.value()), "read twice: " + r.key());
        }
        assertEquals(expected, got);
    }

    @Test
    void keyedRecordsLandInThePartitionKafkasPartitionerPicks() throws Exception {
        String topic = "kc-keys";
        int partitions = 5;
        createTopic(topic, partitions, Map.of());
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < 100; i++) {
                String key = "customer-" + i;
                RecordMetadata m = producer.send(new ProducerRecord<>(topic, key, "v")).get(30, TimeUnit.SECONDS);
                int expected = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
                assertEquals(expected, m.partition(), key);
            }
        }
    }

    @Test
    void anIdempotentProducerGetsAProducerIdAndWritesEachRecordOnceInOrder() throws Exception {
        String topic = "kc-idempotent";
        createTopic(topic, 1, Map.of("min.insync.replicas", "2"));
        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5, ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.BATCH_SIZE_CONFIG, 256))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, null, Integer.toString(i))));
            }
            for (int i = 0; i < sent.size(); i++) {
                assertEquals(i, sent.get(i).get(30, TimeUnit.SECONDS).offset(), "record " + i);
            }
        }
        List<ConsumerRecord<String, String>> read = readAll(partitions(topic, 1));
        assertEquals(2_000, read.size());
        for (int i = 0; i < read.size(); i++) {
            assertEquals(Integer.toString(i), read.get(i).value());
            assertEquals(i, read.get(i).offset());
        }
    }

    @Test
    void aConsumerAssignsSeeksAndPollsAndFindsOffsetsByTime() throws Exception {
        String topic = "kc-seek";
        createTopic(topic, 2, Map.of());
        long firstTime = System.currentTimeMillis() - 60_000;
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, 0, firstTime + i * 100L, "k" + i, "v" + i));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.assign(List.of(tp));
            assertEquals(Map.of(tp, 0L), consumer.beginningOffsets(List.of(tp)));
            assertEquals(Map.of(tp, 100L), consumer.endOffsets(List.of(tp)));
            consumer.seek(tp, 40);
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                return got.size() >= 60;
            });
            assertEquals(40, got.get(0).offset());
            assertEquals("v40", got.get(0).value());
            assertEquals(firstTime + 4_000, got.get(0).timestamp());
            Map<TopicPartition, OffsetAndTimestamp> byTime = consumer.offsetsForTimes(Map.of(tp, firstTime + 2_550));
            assertEquals(26, byTime.get(tp).offset(), "the first record at or after the time");
            consumer.seekToEnd(List.of(tp));
            assertEquals(100, consumer.position(tp));
            assertTrue(consumer.poll(Duration.ofMillis(300)).isEmpty());
        }
    }

    @Test
    void theAdminClientCreatesDescribesAltersAndDeletesTopics() throws Exception {
        DescribeClusterResult cluster = admin.describeCluster();
        assertEquals(3, cluster.nodes().get(30, TimeUnit.SECONDS).size());
        assertNotNull(cluster.controller().get(30, TimeUnit.SECONDS));

        String topic = "kc-admin";
        createTopic(topic, 3, Map.of("retention.ms", "3600000"));
        ExecutionException exists = assertThrows(ExecutionException.class, () -> createTopic(topic, 3, Map.of()));
        assertInstanceOf(TopicExistsException.class, exists.getCause());
        assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic));

        TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(topic);
        assertEquals(3, description.partitions().size());
        for (TopicPartitionInfo p : description.partitions()) {
            assertEquals(3, p.replicas().size());
            assertEquals(3, p.isr().size());
            assertNotNull(p.leader());
        }

        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
        assertEquals("3600000", config.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("retention.ms").source());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, config.get("segment.bytes").source());
        admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("max.message.bytes", "2048"), AlterConfigOp.OpType.SET))))
                .all().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> "7200000".equals(admin.describeConfigs(List.of(resource))
                .all().get(30, TimeUnit.SECONDS).get(resource).get("retention.ms").value()));

        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all().get(30, TimeUnit.SECONDS);
        // The answering broker has applied the change; the broker the next request goes to may trail
        // it for a moment, as in Kafka.
        await().atMost(Duration.ofSeconds(10)).until(() -> admin.describeTopics(List.of(topic)).allTopicNames()
                .get(30, TimeUnit.SECONDS).get(topic).partitions().size() == 5);
        ExecutionException decrease = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                Map.of(topic, NewPartitions.increaseTo(2))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidPartitionsException.class, decrease.getCause());

        // max.message.bytes now 2048: a larger record is refused with Kafka's exception.
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>(topic, 0, "k", "x".repeat(4_000))).get(30, TimeUnit.SECONDS));
            assertInstanceOf(RecordTooLargeException.class, tooLarge.getCause());
        }

        admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> !admin.listTopics().names().get(30, TimeUnit.SECONDS)
                .contains(topic));
        ExecutionException gone = assertThrows(ExecutionException.class, () -> admin.describeTopics(List.of(topic))
                .allTopicNames().get(30, TimeUnit.SECONDS));
        assertInstanceOf(UnknownTopicOrPartitionException.class, gone.getCause());
    }

    @Test
    void badTopicsAreRefusedWithKafkasExceptionsAndNothingIsCreated() throws Exception {
        ExecutionException badName = assertThrows(ExecutionException.class,
                () -> createTopic("bad/name", 1, Map.of()));
        assertInstanceOf(InvalidTopicException.class, badName.getCause());
        ExecutionException tooMany = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
                new NewTopic("kc-rf", 1, (short) 4))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicationFactorException.class, tooMany.getCause());
        Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        assertTrue(!names.contains("bad/name") && !names.contains("kc-rf"), names.toString());
    }

    @Test
    void aProducerCreatesAMissingTopicWithTheClusterDefaults() throws Exception {
        String topic = "kc-auto";
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            RecordMetadata m = producer.send(new ProducerRecord<>(topic, "k", "v")).get(30, TimeUnit.SECONDS);
            assertEquals(0, m.offset());
        }
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(topic);
        assertEquals(2, d.partitions().size(), "num.partitions of the cluster");
    }
}
