package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own consumer with group.protocol=consumer (KIP-848) against three combined nodes in
 * this JVM through their Kafka listeners: two consumers of one group split a topic's partitions
 * between them and together read every record, commit, and after one leaves the other owns every
 * partition and goes on from the leaver's commits. Kafka's Admin lists the group as a consumer
 * group (type consumer) and describes it.
 */
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaConsumerProtocolIntegrationTest {
    private static final String TOPIC = "kip848";
    private static final int PARTITIONS = 6;
    private static final int RECORDS_PER_PARTITION = 10;
    private KafkaClientCluster kafka;
    private InProcessCluster cluster;
    private Admin admin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kafka = KafkaClientCluster.start(dir, Map.of("group.consumer.heartbeat.interval.ms", "500"));
        cluster = kafka.cluster;
        admin = kafka.admin;
        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private KafkaConsumer<String, String> consumer(String group) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return new KafkaConsumer<>(props);
    }

    /** Whether the consumer's position is {@code end} on every partition it owns (known positions only). */
    private static boolean consumedTo(KafkaConsumer<?, ?> consumer, long end) {
        try {
            for (TopicPartition tp : consumer.assignment()) {
                if (consumer.position(tp, Duration.ofMillis(500)) != end) {
                    return false;
                }
            }
            return true;
        } catch (IllegalStateException | org.apache.kafka.common.errors.TimeoutException e) {
            return false; // revoked meanwhile, or its committed offset is still being looked up
        }
    }

    @Test
    void twoConsumersSplitTheTopicAndOneTakesOverWhenTheOtherLeaves() throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < PARTITIONS * RECORDS_PER_PARTITION; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, "v" + i));
            }
            producer.flush();
        }
        Set<String> read = new HashSet<>();
        KafkaConsumer<String, String> b = consumer("g848");
        try (KafkaConsumer<String, String> a = consumer("g848")) {
            a.subscribe(List.of(TOPIC));
            b.subscribe(List.of(TOPIC));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                a.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                b.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                Set<TopicPartition> both = new HashSet<>(a.assignment());
                both.retainAll(b.assignment());
                assertTrue(both.isEmpty(), "a partition owned by both: " + both);
                // commitSync() commits the positions of owned partitions whose position is known: a
                // consumer just given a partition (whose records the other may already have read) has
                // none until its offset lookup is done, so wait until each has read its own to the end.
                return read.size() == PARTITIONS * RECORDS_PER_PARTITION && a.assignment().size() == PARTITIONS / 2
                        && b.assignment().size() == PARTITIONS / 2
                        && consumedTo(a, RECORDS_PER_PARTITION) && consumedTo(b, RECORDS_PER_PARTITION);
            });
            a.commitSync();
            b.commitSync();
            assertEquals(2, admin.describeConsumerGroups(List.of("g848")).all().get(30, TimeUnit.SECONDS)
                    .get("g848").members().size());
            b.close(); // leaves with epoch -1
            List<String> readAgain = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                a.poll(Duration.ofMillis(100)).forEach(r -> readAgain.add(r.value()));
                return a.assignment().size() == PARTITIONS;
            });
            // a goes on from b's commits (its OffsetFetch as a member), not from the earliest offset.
            for (TopicPartition tp : a.assignment()) {
                assertEquals(RECORDS_PER_PARTITION, a.position(tp, Duration.ofSeconds(30)), "position of " + tp);
            }
            assertEquals(List.of(), readAgain, "records read again after taking over b's partitions");
        } finally {
            b.close();
        }
        assertEquals(PARTITIONS * RECORDS_PER_PARTITION, admin.listConsumerGroupOffsets("g848")
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS).values().stream()
                .mapToLong(o -> o.offset()).sum());
    }

    @Test
    @SuppressWarnings("removal") // listConsumerGroups: what tools still call; listGroups succeeds it
    void adminListsAndDescribesTheGroupAsAConsumerGroup() throws Exception {
        try (KafkaConsumer<String, String> consumer = consumer("g848-admin")) {
            consumer.subscribe(List.of(TOPIC));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(100));
                return consumer.assignment().size() == PARTITIONS;
            });
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                GroupListing listed = admin.listGroups().all().get(30, TimeUnit.SECONDS).stream()
                        .filter(g -> g.groupId().equals("g848-admin")).findFirst().orElseThrow();
                assertEquals(Optional.of(GroupType.CONSUMER), listed.type());
                assertEquals("consumer", listed.protocol());
                assertEquals(Optional.of(GroupState.STABLE), listed.groupState());
            });
            assertTrue(admin.listGroups(new ListGroupsOptions().withTypes(Set.of(GroupType.CLASSIC))).all()
                    .get(30, TimeUnit.SECONDS).stream().noneMatch(g -> g.groupId().equals("g848-admin")),
                    "listed as a classic group");
            ConsumerGroupListing consumerListed = admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
                    .filter(g -> g.groupId().equals("g848-admin")).findFirst().orElseThrow();
            assertEquals(Optional.of(GroupType.CONSUMER), consumerListed.type());
            assertEquals(Optional.of(GroupState.STABLE), consumerListed.groupState());

            ConsumerGroupDescription described = admin.describeConsumerGroups(List.of("g848-admin")).all()
                    .get(30, TimeUnit.SECONDS).get("g848-admin");
            assertEquals(GroupType.CONSUMER, described.type());
            assertEquals(GroupState.STABLE, described.groupState());
            assertEquals("uniform", described.partitionAssignor());
            assertEquals(1, described.members().size());
            MemberDescription member = described.members().iterator().next();
            Set<TopicPartition> all = new HashSet<>();
            for (int p = 0; p < PARTITIONS; p++) {
                all.add(new TopicPartition(TOPIC, p));
            }
            assertEquals(all, member.assignment().topicPartitions());
            assertEquals(Optional.of(all), member.targetAssignment().map(t -> t.topicPartitions()));
            assertEquals(described.groupEpoch(), member.memberEpoch());
            assertEquals(described.groupEpoch(), described.targetAssignmentEpoch());
        }
    }
}
