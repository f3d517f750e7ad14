package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One broker, two front ends: records written through one (this SDK over gRPC, or Kafka's own
 * client over the Kafka listener) are read through the other, with the same keys in the same
 * partitions, offsets, timestamps and headers.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaInteropTest {
    private ClusterFixture fixture;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        fixture = new ClusterFixture(dir);
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private Map<String, Object> kafkaProps() {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", fixture.cluster.kafkaBootstrap());
        props.put("key.serializer", StringSerializer.class);
        props.put("value.serializer", StringSerializer.class);
        props.put("key.deserializer", StringDeserializer.class);
        props.put("value.deserializer", StringDeserializer.class);
        props.put("enable.auto.commit", false);
        return props;
    }

    private record Sent(String key, String value, int partition, long offset) {}

    @Test
    void recordsOfKafkasProducerAreReadByThisSdkAtTheSamePartitionsAndOffsets() throws Exception {
        try (Admin admin = fixture.admin()) {
            admin.createTopic(new NewTopic("from-kafka", 3, 3));
        }
        List<Sent> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafkaProps())) {
            for (int i = 0; i < 200; i++) {
                org.apache.kafka.clients.producer.ProducerRecord<String, String> r =
                        new org.apache.kafka.clients.producer.ProducerRecord<>("from-kafka", "key-" + (i % 17), "v" + i);
                r.headers().add("n", Integer.toString(i).getBytes());
                var m = producer.send(r).get(30, TimeUnit.SECONDS);
                sent.add(new Sent(r.key(), r.value(), m.partition(), m.offset()));
            }
        }
        List<TopicPartition> partitions = List.of(new TopicPartition("from-kafka", 0),
                new TopicPartition("from-kafka", 1), new TopicPartition("from-kafka", 2));
        List<Sent> read = new ArrayList<>();
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().build(),
                Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.add(new Sent(r.key(), r.value(), r.partition(), r.offset()));
                }
                return read.size() >= sent.size();
            });
        }
        assertEquals(sorted(sent), sorted(read));
        try (Producer<String, String> ours = new Producer<>(fixture.producerConfig().build(),
                Serdes.stringSerializer(), Serdes.stringSerializer())) {
            for (Sent s : sent.subList(0, 17)) {
                assertEquals(s.partition(), ours.send(new ProducerRecord<>("from-kafka", s.key(), "again")).get(30,
                        TimeUnit.SECONDS).partition(), "both partitioners put key " + s.key() + " in one partition");
            }
        }
    }

    @Test
    void recordsOfThisSdkAreReadByKafkasConsumer() throws Exception {
        try (Admin admin = fixture.admin()) {
            admin.createTopic(new NewTopic("from-sdk", 2, 3));
        }
        List<Sent> sent = new ArrayList<>();
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().compressionType("zstd")
                .build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            for (int i = 0; i < 300; i++) {
                RecordMetadata m = producer.send(new ProducerRecord<>("from-sdk", "k" + (i % 11), "value-" + i))
                        .get(30, TimeUnit.SECONDS);
                sent.add(new Sent("k" + (i % 11), "value-" + i, m.partition(), m.offset()));
            }
        }
        List<org.apache.kafka.common.TopicPartition> partitions = List.of(
                new org.apache.kafka.common.TopicPartition("from-sdk", 0),
                new org.apache.kafka.common.TopicPartition("from-sdk", 1));
        List<Sent> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(kafkaProps())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(new Sent(r.key(), r.value(),
                        r.partition(), r.offset())));
                return read.size() >= sent.size();
            });
        }
        assertEquals(sorted(sent), sorted(read));
    }

    private static List<Sent> sorted(List<Sent> records) {
        List<Sent> out = new ArrayList<>(records);
        out.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return out;
    }
}
