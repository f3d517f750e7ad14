package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-clients' KafkaConsumer with group.protocol=classic against three combined nodes, through
 * their Kafka listeners: consumers share a topic's partitions, a new member and a leaving member
 * move them, committed offsets carry over to a restarted consumer, cooperative-sticky moves only
 * what it must, and a static member that restarts within its session keeps its partitions
 * without a new generation. Consumers are polled from the test thread only.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaClassicGroupsIntegrationTest {
    private static final int PARTITIONS = 3;

    private KafkaClientCluster kafka;
    private InProcessCluster cluster;
    private Admin admin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kafka = KafkaClientCluster.start(dir, Map.of("replica.lag.time.max.ms", "2000"));
        cluster = kafka.cluster;
        admin = kafka.admin;
    }

    @AfterAll
    void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private KafkaConsumer<String, String> consumer(String group, Map<String, Object> overrides) {
        return kafka.classicConsumer(group, 10_000, 500, overrides);
    }

    private void createTopic(String name) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
    }

    private void produce(String topic, int count, String prefix) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, prefix + i));
            }
            producer.flush();
        }
    }

    /** Polls every consumer (briefly, in turn) until their assignments split the topic's partitions as asked. */
    private static void pollUntilSplit(String topic, List<KafkaConsumer<String, String>> consumers,
            List<Integer> sizes, Collection<String> seen) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (KafkaConsumer<String, String> c : consumers) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    seen.add(r.value());
                }
            }
            Set<TopicPartition> union = new HashSet<>();
            List<Integer> actual = new ArrayList<>();
            for (KafkaConsumer<String, String> c : consumers) {
                union.addAll(c.assignment());
                actual.add(c.assignment().size());
            }
            return union.size() == PARTITIONS && actual.stream().mapToInt(Integer::intValue).sum() == PARTITIONS
                    && actual.stream().sorted().toList().equals(sizes.stream().sorted().toList())
                    && union.stream().allMatch(tp -> tp.topic().equals(topic));
        });
    }

    @Test
    void consumersShareRebalanceOnJoinAndLeaveAndResumeFromCommits() throws Exception {
        createTopic("shared");
        produce("shared", 30, "a");
        List<String> seen = new CopyOnWriteArrayList<>();
        KafkaConsumer<String, String> c1 = consumer("sharing", Map.of());
        KafkaConsumer<String, String> c2 = consumer("sharing", Map.of());
        KafkaConsumer<String, String> c3 = consumer("sharing", Map.of());
        try {
            c1.subscribe(List.of("shared"));
            c2.subscribe(List.of("shared"));
            pollUntilSplit("shared", List.of(c1, c2), List.of(1, 2), seen);

            c3.subscribe(List.of("shared"));
            pollUntilSplit("shared", List.of(c1, c2, c3), List.of(1, 1, 1), seen);
            ConsumerGroupDescription described = admin.describeConsumerGroups(List.of("sharing"))
                    .describedGroups().get("sharing").get(30, TimeUnit.SECONDS);
            assertEquals(GroupState.STABLE, described.groupState());
            assertEquals("range", described.partitionAssignor());
            assertEquals(3, described.members().size());
            Set<TopicPartition> described3 = new HashSet<>();
            for (MemberDescription m : described.members()) {
                described3.addAll(m.assignment().topicPartitions());
            }
            assertEquals(PARTITIONS, described3.size(), "DescribeGroups shows every member's assignment");

            c3.close(); // a clean leave: the others take its partition over at once
            pollUntilSplit("shared", List.of(c1, c2), List.of(1, 2), seen);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                c1.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
                c2.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
                return new HashSet<>(seen).size() == 30;
            });
            c1.commitSync(Duration.ofSeconds(30));
            c2.commitSync(Duration.ofSeconds(30));
        } finally {
            c1.close();
            c2.close();
            c3.close();
        }

        produce("shared", 6, "b");
        List<String> after = new ArrayList<>();
        try (KafkaConsumer<String, String> restarted = consumer("sharing", Map.of())) {
            restarted.subscribe(List.of("shared"));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                restarted.poll(Duration.ofMillis(200)).forEach(r -> after.add(r.value()));
                return after.size() >= 6;
            });
            restarted.poll(Duration.ofMillis(500)).forEach(r -> after.add(r.value()));
        }
        assertEquals(6, after.size(), "resumes from the committed offsets: " + after);
        assertTrue(after.stream().allMatch(v -> v.startsWith("b")), after.toString());
    }

    @Test
    void cooperativeStickyMovesOnlyThePartitionsItMust() throws Exception {
        createTopic("cooperative");
        List<Collection<TopicPartition>> revoked = new CopyOnWriteArrayList<>();
        Map<String, Object> cooperative = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                CooperativeStickyAssignor.class.getName());
        List<String> seen = new CopyOnWriteArrayList<>();
        try (KafkaConsumer<String, String> c1 = consumer("coop", cooperative);
                KafkaConsumer<String, String> c2 = consumer("coop", cooperative)) {
            c1.subscribe(List.of("cooperative"), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        revoked.add(List.copyOf(partitions));
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }
            });
            pollUntilSplit("cooperative", List.of(c1), List.of(3), seen);
            c2.subscribe(List.of("cooperative"));
            pollUntilSplit("cooperative", List.of(c1, c2), List.of(1, 2), seen);
            assertFalse(revoked.isEmpty(), "c1 gave something up");
            for (Collection<TopicPartition> r : revoked) {
                assertTrue(r.size() < PARTITIONS, "cooperative: only moved partitions are revoked, not " + r);
            }
            assertEquals("cooperative-sticky", admin.describeConsumerGroups(List.of("coop")).describedGroups()
                    .get("coop").get(30, TimeUnit.SECONDS).partitionAssignor());
        }
    }

    @Test
    void aStaticMemberRestartingWithinItsSessionKeepsItsPartitionsWithoutANewGeneration() throws Exception {
        createTopic("static");
        List<String> seen = new CopyOnWriteArrayList<>();
        KafkaConsumer<String, String> c1 = consumer("statics", Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "s1"));
        KafkaConsumer<String, String> c2 = consumer("statics", Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "s2"));
        try {
            c1.subscribe(List.of("static"));
            c2.subscribe(List.of("static"));
            pollUntilSplit("static", List.of(c1, c2), List.of(1, 2), seen);
            int generation = c1.groupMetadata().generationId();
            Set<TopicPartition> before = Set.copyOf(c2.assignment());
            c2.close(); // a static member does not leave on close: its place is kept for its session
            c2 = consumer("statics", Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "s2"));
            c2.subscribe(List.of("static"));
            KafkaConsumer<String, String> restarted = c2;
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                c1.poll(Duration.ofMillis(100));
                restarted.poll(Duration.ofMillis(100));
                return restarted.assignment().equals(before);
            });
            assertEquals(generation, restarted.groupMetadata().generationId(), "no rebalance");
            assertEquals(generation, c1.groupMetadata().generationId());
            assertEquals(2, admin.describeConsumerGroups(List.of("statics")).describedGroups().get("statics")
                    .get(30, TimeUnit.SECONDS).members().size());
        } finally {
            c1.close();
            c2.close();
        }
    }
}
