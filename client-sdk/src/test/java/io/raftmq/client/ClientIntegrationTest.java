package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.InvalidPartitionsException;
import io.raftmq.client.errors.InvalidReplicationFactorException;
import io.raftmq.client.errors.InvalidTopicException;
import io.raftmq.client.errors.OffsetOutOfRangeException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TopicExistsException;
import io.raftmq.client.errors.UnknownTopicException;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Producer, assign-mode consumer and Admin against three in-process nodes: what the brokers serve
 * today (metadata, produce, fetch, list offsets, topic administration, describe cluster).
 */
@Timeout(120)
class ClientIntegrationTest {
    @TempDir
    static Path dir;
    private static ClusterFixture fixture;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        fixture = new ClusterFixture(dir);
        admin = fixture.admin();
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void adminCreatesDescribesGrowsAndDeletesTopics() {
        Admin.CreatedTopic created = admin.createTopic(new NewTopic("admin-topic", 3, 3,
                Map.of("retention.ms", "3600000")));
        assertEquals(3, created.numPartitions());
        assertEquals(3, created.replicationFactor());
        await().atMost(Duration.ofSeconds(10)).until(() -> admin.listTopics().contains("admin-topic"));

        Admin.TopicInfo info = admin.describeTopics(List.of("admin-topic")).get("admin-topic");
        assertEquals(created.topicId(), info.topicId());
        assertEquals(3, info.partitions().size());
        for (Admin.PartitionDescription p : info.partitions()) {
            assertEquals(3, p.replicas().size());
            assertTrue(p.replicas().contains(p.leader()), "leader among replicas: " + p);
        }
        if (!info.configs().isEmpty()) {
            assertEquals("3600000", info.configs().get("retention.ms"));
        }

        assertThrows(TopicExistsException.class, () -> admin.createTopic(new NewTopic("admin-topic", 1, 1)));
        assertThrows(InvalidTopicException.class, () -> admin.createTopic(new NewTopic("bad/name", 1, 1)));
        assertThrows(InvalidReplicationFactorException.class, () -> admin.createTopic(new NewTopic("rf5", 1, 5)));

        Admin.CreatedTopic placed = admin.createTopic(new NewTopic("admin-placed", Map.of(0, List.of(3, 1),
                1, List.of(2, 3))));
        assertEquals(2, placed.numPartitions());
        assertEquals(2, placed.replicationFactor());
        List<Admin.PartitionDescription> placedParts = admin.describeTopics(List.of("admin-placed"))
                .get("admin-placed").partitions();
        assertEquals(List.of(3, 1), placedParts.get(0).replicas());
        assertEquals(3, placedParts.get(0).leader());
        assertEquals(List.of(2, 3), placedParts.get(1).replicas());
        RaftmqException unregistered = assertThrows(InvalidReplicationFactorException.class,
                () -> admin.createTopic(new NewTopic("admin-misplaced", Map.of(0, List.of(1, 9)))));
        assertEquals(ErrorCode.INVALID_REPLICA_ASSIGNMENT, unregistered.code());
        assertTrue(unregistered.getMessage().contains("broker 9, which is not registered"), unregistered.getMessage());
        admin.deleteTopics(List.of("admin-placed"));
        InvalidPartitionsException fewer = assertThrows(InvalidPartitionsException.class,
                () -> admin.createPartitions(Map.of("admin-topic", 2)));
        assertTrue(fewer.getMessage().contains("admin-topic"), fewer.getMessage());

        admin.createPartitions(Map.of("admin-topic", 5));
        // Whichever broker answers next, an admin reads its own change (it passes the offset it saw).
        for (int i = 0; i < 3; i++) {
            assertEquals(5, admin.describeTopics(List.of("admin-topic")).get("admin-topic").partitions().size());
        }

        admin.deleteTopics(List.of("admin-topic"));
        await().atMost(Duration.ofSeconds(10)).until(() -> !admin.listTopics().contains("admin-topic"));
        assertThrows(UnknownTopicException.class, () -> admin.deleteTopics(List.of("admin-topic")));
    }

    @Test
    void describeClusterShowsTheControllerVotersAndUnfencedBrokers() {
        Admin.ClusterInfo cluster = admin.describeCluster();
        assertEquals(3, cluster.brokers().size());
        assertEquals(3, cluster.voters().size());
        assertTrue(cluster.controllerId() >= 1 && cluster.controllerId() <= 3, "controller " + cluster.controllerId());
        assertEquals(1, cluster.voters().stream().filter(Admin.Voter::leader).count());
        for (Admin.BrokerNode b : cluster.brokers()) {
            assertFalse(b.fenced(), b.toString());
            assertEquals("UNFENCED", b.state());
            assertTrue(b.endpoints().contains(new Admin.BrokerEndpoint("grpc", b.host(), b.port())), b.toString());
        }
        assertEquals(22, cluster.clusterId().length(), cluster.clusterId());
        assertEquals(cluster.clusterId(), admin.describeCluster().clusterId(), "it never changes");
    }

    @Test
    void keyedRecordsLandOnOnePartitionEachAndAreReadBackInOrder() throws Exception {
        admin.createTopic(new NewTopic("keyed", 3, 3));
        int keys = 12;
        int perKey = 40;
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().compressionType("lz4")
                .build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = 0; i < perKey; i++) {
                for (int k = 0; k < keys; k++) {
                    futures.add(producer.send(new ProducerRecord<>("keyed", "key-" + k, "key-" + k + ":" + i)));
                }
            }
            producer.flush();
            for (Future<RecordMetadata> f : futures) {
                assertTrue(f.get(30, TimeUnit.SECONDS).offset() >= 0);
            }
        }
        List<TopicPartition> partitions = List.of(new TopicPartition("keyed", 0), new TopicPartition("keyed", 1),
                new TopicPartition("keyed", 2));
        Map<String, Set<Integer>> partitionsOfKey = new HashMap<>();
        Map<String, List<Integer>> sequenceOfKey = new HashMap<>();
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().build(),
                Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            assertEquals(keys * perKey, ends.values().stream().mapToLong(Long::longValue).sum());
            Map<TopicPartition, Long> next = new HashMap<>();
            int read = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read < keys * perKey && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    long expected = next.getOrDefault(r.topicPartition(), 0L);
                    assertEquals(expected, r.offset(), "offsets are contiguous on " + r.topicPartition());
                    next.put(r.topicPartition(), expected + 1);
                    partitionsOfKey.computeIfAbsent(r.key(), k -> new HashSet<>()).add(r.partition());
                    sequenceOfKey.computeIfAbsent(r.key(), k -> new ArrayList<>())
                            .add(Integer.parseInt(r.value().substring(r.value().indexOf(':') + 1)));
                    read++;
                }
            }
            assertEquals(keys * perKey, read);
            for (TopicPartition tp : partitions) {
                assertEquals(ends.get(tp), consumer.position(tp));
            }
        }
        for (int k = 0; k < keys; k++) {
            String key = "key-" + k;
            int kafka = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 3;
            assertEquals(Set.of(kafka), partitionsOfKey.get(key), key + " on the partition Kafka would choose");
            List<Integer> want = new ArrayList<>();
            for (int i = 0; i < perKey; i++) {
                want.add(i);
            }
            assertEquals(want, sequenceOfKey.get(key), key + " in send order");
        }
    }

    @Test
    void aProducerWithoutIdempotencePipelinesBatchesAndKeepsTheirOrder() throws Exception {
        admin.createTopic(new NewTopic("pipelined", 1, 3));
        int count = 3_000;
        // Small batches, no linger, five in flight: many batches of the partition travel at once on
        // the produce stream, and the leader must append them in the order sent.
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().acks("1")
                .enableIdempotence(false).batchSize(256).lingerMs(0).maxInFlightRequestsPerConnection(5).build(),
                Serdes.stringSerializer(), Serdes.stringSerializer())) {
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(producer.send(new ProducerRecord<>("pipelined", 0, null, Integer.toString(i))));
            }
            long previous = -1;
            for (Future<RecordMetadata> f : futures) {
                long offset = f.get(30, TimeUnit.SECONDS).offset();
                assertTrue(offset > previous, "acknowledged offsets rise in send order: " + offset + " after "
                        + previous);
                previous = offset;
            }
        }
        TopicPartition tp = new TopicPartition("pipelined", 0);
        List<Integer> values = new ArrayList<>();
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().build(),
                Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(Integer.parseInt(r.value()));
                }
            }
        }
        List<Integer> want = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            want.add(i);
        }
        assertEquals(want, values, "every record once, in send order");
    }

    @Test
    void aConsumerFetchingAheadReadsEveryRecordOnceInOrderAcrossManySmallAnswers() throws Exception {
        admin.createTopic(new NewTopic("ahead", 2, 3));
        int perPartition = 4_000;
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().acks("all")
                .batchSize(512).lingerMs(0).build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            for (int i = 0; i < perPartition; i++) {
                producer.send(new ProducerRecord<>("ahead", 0, null, Integer.toString(i)));
                producer.send(new ProducerRecord<>("ahead", 1, null, Integer.toString(i)));
            }
            producer.flush();
        }
        TopicPartition p0 = new TopicPartition("ahead", 0);
        TopicPartition p1 = new TopicPartition("ahead", 1);
        // Answers of ~2 KiB and polls of 50 records: a partition's next fetch (from after the batches
        // of an answer still being read) goes out hundreds of times while records are buffered.
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().maxPartitionFetchBytes(2048)
                .maxPollRecords(50).build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(List.of(p0, p1));
            consumer.seekToBeginning(List.of(p0, p1));
            Map<TopicPartition, List<Integer>> read = new HashMap<>(Map.of(p0, new ArrayList<>(), p1, new ArrayList<>()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean sought = false;
            while ((read.get(p0).size() < perPartition || read.get(p1).size() < perPartition)
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    read.get(new TopicPartition(r.topic(), r.partition())).add(Integer.parseInt(r.value()));
                }
                if (!sought && read.get(p0).size() >= 1_500) {
                    // A seek back while fetches of p0 are in flight or being read: what they bring is
                    // dropped, and p0 is read again from 1000.
                    sought = true;
                    consumer.seek(p0, 1_000);
                    read.put(p0, new ArrayList<>(IntStream.range(0, 1_000).boxed().toList()));
                }
            }
            List<Integer> want = IntStream.range(0, perPartition).boxed().toList();
            assertEquals(want, read.get(p0), "partition 0: every record once, in order, after the seek back");
            assertEquals(want, read.get(p1), "partition 1: every record once, in order");
        }
    }

    @Test
    void seekPositionsAndResetPolicies() throws Exception {
        admin.createTopic(new NewTopic("seek", 1, 3));
        TopicPartition tp = new TopicPartition("seek", 0);
        // acks=all: the records are below the high watermark (what "latest" means) once flush returns.
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().acks("all")
                .enableIdempotence(false).compressionType("gzip").build(), Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>("seek", 0, "k", "v" + i));
            }
            producer.flush();
        }
        try (Consumer<String, String> consumer = new Consumer<>(fixture.consumerConfig().autoOffsetReset("latest")
                .build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            consumer.assign(List.of(tp));
            assertEquals(20, consumer.position(tp), "latest");
            consumer.seek(tp, 7);
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < 13 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(7, got.get(0).offset(), "the head of the batch below the position is skipped");
            assertEquals("v7", got.get(0).value());
            assertEquals(13, got.size());
            consumer.seekToBeginning(List.of(tp));
            assertEquals(0, consumer.position(tp));
            consumer.seekToEnd(List.of(tp));
            assertEquals(20, consumer.position(tp));
        }
        try (Consumer<String, String> strict = new Consumer<>(fixture.consumerConfig().autoOffsetReset("none")
                .build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            strict.assign(List.of(tp));
            assertThrows(OffsetOutOfRangeException.class, () -> strict.poll(Duration.ofMillis(500)));
            strict.seek(tp, 1000);
            assertThrows(OffsetOutOfRangeException.class, () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline) {
                    strict.poll(Duration.ofMillis(200));
                }
            });
        }
    }

    @Test
    void producingToATopicCreatedMomentsAgoWorks() throws Exception {
        admin.createTopic(new NewTopic("fresh", 2, 3));
        try (Producer<Long, Integer> producer = new Producer<>(fixture.producerConfig().build(),
                Serdes.longSerializer(), Serdes.integerSerializer())) {
            RecordMetadata m = producer.send(new ProducerRecord<>("fresh", 5L, 42)).get(30, TimeUnit.SECONDS);
            assertEquals(0, m.offset());
        }
    }
}
