package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-clients classic-protocol groups against three in-process combined nodes, in the situations
 * applications meet: a member's process dies (no LeaveGroup; the coordinator notices when its
 * session expires) and the survivor takes its partitions over from their committed offsets; a
 * topic's partition count grows and the group picks the new partitions up; two groups on one topic
 * each read every record. Consumers are polled from the test thread only; the crashing member runs
 * in a child JVM ({@link CrashingGroupMember}).
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaGroupsBehaviourTest {
    /** Below BrokerConfig's default group.min.session.timeout.ms (6 s), so the cluster lowers that. */
    private static final int SESSION_TIMEOUT_MS = 3_000;
    private static final int HEARTBEAT_INTERVAL_MS = 300;

    private KafkaClientCluster kafka;
    private InProcessCluster cluster;
    private Admin admin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kafka = KafkaClientCluster.start(dir, Map.of("replica.lag.time.max.ms", "2000",
                "group.min.session.timeout.ms", "1000"));
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
        return kafka.classicConsumer(group, SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, overrides);
    }

    private void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 3))).all().get(30, TimeUnit.SECONDS);
    }

    /** Writes {@code prefix + i} for i in [0, count) to partition {@code i % partitions}. */
    private void produce(String topic, int partitions, int count, String prefix) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, i % partitions, null, prefix + i));
            }
            producer.flush();
        }
    }

    /** One poll of {@code consumer}; its records go to {@code seen}; a non-empty poll is committed. */
    private static List<ConsumerRecord<String, String>> pollAndCommit(KafkaConsumer<String, String> consumer,
            Set<String> seen) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        consumer.poll(Duration.ofMillis(100)).forEach(got::add);
        if (!got.isEmpty()) {
            got.forEach(r -> seen.add(r.value()));
            consumer.commitSync(Duration.ofSeconds(30));
        }
        return got;
    }

    private Map<TopicPartition, Long> committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> result = new HashMap<>();
        offsets.forEach((tp, o) -> {
            if (o != null) {
                result.put(tp, o.offset());
            }
        });
        return result;
    }

    private static Set<TopicPartition> partitions(String topic, int count) {
        Set<TopicPartition> all = new HashSet<>();
        for (int p = 0; p < count; p++) {
            all.add(new TopicPartition(topic, p));
        }
        return all;
    }

    @Test
    void aCrashedMembersPartitionsGoToTheSurvivorAfterItsSessionExpiresFromTheirCommittedOffsets()
            throws Exception {
        String topic = "crash";
        String group = "crashing";
        createTopic(topic, 3);
        produce(topic, 3, 30, "a"); // 10 per partition
        Set<TopicPartition> all = partitions(topic, 3);

        List<String> childLines = new CopyOnWriteArrayList<>();
        Process child = new ProcessBuilder(NodeProcessCluster.javaBinary(), "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), CrashingGroupMember.class.getName(),
                cluster.kafkaBootstrap(), group, topic, Integer.toString(SESSION_TIMEOUT_MS),
                Integer.toString(HEARTBEAT_INTERVAL_MS))
                .redirectErrorStream(true)
                .start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    childLines.add(line);
                }
            } catch (java.io.IOException e) {
                childLines.add("READ FAILED " + e);
            }
        }, "crashing-member-output");
        reader.setDaemon(true);
        reader.start();
        Set<String> seenBefore = new HashSet<>();
        try (KafkaConsumer<String, String> survivor = consumer(group, Map.of())) {
            try {
                // Both members in one generation, every partition's first batch consumed and committed.
                await().atMost(Duration.ofSeconds(30)).until(() -> childLines.stream().anyMatch(l -> l.startsWith("ASSIGNED ")));
                survivor.subscribe(List.of(topic));
                Map<TopicPartition, Long> tens = all.stream().collect(Collectors.toMap(tp -> tp, tp -> 10L));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    pollAndCommit(survivor, seenBefore);
                    Set<TopicPartition> mine = survivor.assignment();
                    Set<TopicPartition> theirs = childAssignment(childLines, topic);
                    Set<TopicPartition> union = new HashSet<>(mine);
                    union.addAll(theirs);
                    return !mine.isEmpty() && !theirs.isEmpty() && union.equals(all)
                            && mine.size() + theirs.size() == 3 && committed(group).equals(tens);
                });
                Set<TopicPartition> crashedPartitions = childAssignment(childLines, topic);
                assertTrue(child.isAlive(), "the member ran until killed: " + childLines);

                child.destroyForcibly(); // SIGKILL: no LeaveGroup, its heartbeats just stop
                assertTrue(child.waitFor(10, TimeUnit.SECONDS));
                long killNanos = System.nanoTime();
                produce(topic, 3, 30, "b"); // 10 more per partition, offsets 10..19

                Map<TopicPartition, Long> firstOffsetAfterKill = new HashMap<>();
                Set<String> seenAfter = new HashSet<>();
                long[] allAssignedNanos = {-1};
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    for (ConsumerRecord<String, String> r : pollAndCommit(survivor, seenAfter)) {
                        firstOffsetAfterKill.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
                    }
                    if (allAssignedNanos[0] < 0 && survivor.assignment().equals(all)) {
                        allAssignedNanos[0] = System.nanoTime();
                    }
                    return allAssignedNanos[0] >= 0 && seenAfter.containsAll(values("b", 30));
                });
                long takeoverMs = TimeUnit.NANOSECONDS.toMillis(allAssignedNanos[0] - killNanos);
                System.out.println("crashed member's partitions " + crashedPartitions + " reassigned " + takeoverMs
                        + " ms after the kill (session.timeout.ms " + SESSION_TIMEOUT_MS + ")");
                // Only a session expiry removes a member that never left: not before the session could end.
                assertTrue(takeoverMs >= SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS - 500,
                        "reassigned after " + takeoverMs + " ms: the crashed member seems to have left cleanly");
                for (TopicPartition tp : crashedPartitions) {
                    assertEquals(10L, firstOffsetAfterKill.get(tp),
                            "the survivor resumed " + tp + " from its committed offset; first offsets " + firstOffsetAfterKill);
                }
                Set<String> reread = seenAfter.stream().filter(v -> v.startsWith("a")).collect(Collectors.toSet());
                assertEquals(Set.of(), reread, "records committed before the crash are not read again");
                assertEquals(all.stream().collect(Collectors.toMap(tp -> tp, tp -> 20L)), committed(group));
                assertEquals(1, admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                        .get(30, TimeUnit.SECONDS).members().size());
            } catch (Throwable t) {
                System.out.println("crashing member's output:\n" + String.join("\n", childLines));
                throw t;
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The crashing member's latest assignment, from its last {@code ASSIGNED} line. */
    private static Set<TopicPartition> childAssignment(List<String> lines, String topic) {
        String last = null;
        for (String l : lines) {
            if (l.startsWith("ASSIGNED ")) {
                last = l.substring("ASSIGNED ".length()).trim();
            }
        }
        Set<TopicPartition> result = new HashSet<>();
        if (last == null || last.isEmpty()) {
            return result;
        }
        for (String tp : last.split(",")) {
            int dash = tp.lastIndexOf('-');
            result.add(new TopicPartition(tp.substring(0, dash), Integer.parseInt(tp.substring(dash + 1))));
        }
        assertTrue(result.stream().allMatch(tp -> tp.topic().equals(topic)), last);
        return result;
    }

    private static Set<String> values(String prefix, int count) {
        Set<String> all = new HashSet<>();
        for (int i = 0; i < count; i++) {
            all.add(prefix + i);
        }
        return all;
    }

    @Test
    void aGroupPicksUpPartitionsAddedToItsTopic() throws Exception {
        String topic = "growing";
        String group = "growers";
        createTopic(topic, 2);
        Map<String, Object> fastMetadata = Map.of(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 500);
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, String> c1 = consumer(group, fastMetadata);
                KafkaConsumer<String, String> c2 = consumer(group, fastMetadata)) {
            c1.subscribe(List.of(topic));
            c2.subscribe(List.of(topic));
            produce(topic, 2, 10, "old");
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                pollAndCommit(c1, seen);
                pollAndCommit(c2, seen);
                return c1.assignment().size() == 1 && c2.assignment().size() == 1 && seen.containsAll(values("old", 10));
            });

            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get(30, TimeUnit.SECONDS);
            Map<String, Object> props = new HashMap<>();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            Set<String> added = new HashSet<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
                for (int i = 0; i < 10; i++) {
                    String value = "new" + i;
                    producer.send(new ProducerRecord<>(topic, 2 + i % 2, null, value)).get(30, TimeUnit.SECONDS);
                    added.add(value);
                }
            }
            Map<String, Integer> partitionOfValue = new HashMap<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (KafkaConsumer<String, String> c : List.of(c1, c2)) {
                    pollAndCommit(c, seen).forEach(r -> partitionOfValue.put(r.value(), r.partition()));
                }
                Set<TopicPartition> union = new HashSet<>(c1.assignment());
                union.addAll(c2.assignment());
                return union.equals(partitions(topic, 4)) && c1.assignment().size() == 2
                        && c2.assignment().size() == 2 && seen.containsAll(added);
            });
            for (String v : added) {
                assertTrue(Set.of(2, 3).contains(partitionOfValue.get(v)), v + " read from " + partitionOfValue.get(v));
            }
            Map<TopicPartition, Long> expected = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                expected.put(new TopicPartition(topic, p), 5L);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(expected, committed(group)));
        }
    }

    @Test
    void aPatternSubscriptionPicksUpANewMatchingTopic() throws Exception {
        String group = "pattern-readers";
        createTopic("metrics-cpu", 2);
        createTopic("logs-app", 1); // does not match
        Map<String, Object> fastMetadata = Map.of(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 500);
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, String> c1 = consumer(group, fastMetadata);
                KafkaConsumer<String, String> c2 = consumer(group, fastMetadata)) {
            c1.subscribe(java.util.regex.Pattern.compile("metrics-.*"));
            c2.subscribe(java.util.regex.Pattern.compile("metrics-.*"));
            produce("metrics-cpu", 2, 10, "cpu");
            produce("logs-app", 1, 5, "log");
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                pollAndCommit(c1, seen);
                pollAndCommit(c2, seen);
                return c1.assignment().size() == 1 && c2.assignment().size() == 1 && seen.containsAll(values("cpu", 10));
            });

            // A topic created later that matches: the members see it in their metadata, rejoin, and share it too.
            createTopic("metrics-disk", 2);
            produce("metrics-disk", 2, 10, "disk");
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                pollAndCommit(c1, seen);
                pollAndCommit(c2, seen);
                Set<TopicPartition> union = new HashSet<>(c1.assignment());
                union.addAll(c2.assignment());
                Set<TopicPartition> expected = partitions("metrics-cpu", 2);
                expected.addAll(partitions("metrics-disk", 2));
                return union.equals(expected) && c1.assignment().size() == 2 && c2.assignment().size() == 2
                        && seen.containsAll(values("disk", 10));
            });
            assertTrue(seen.stream().noneMatch(v -> v.startsWith("log")), "a topic the pattern does not match was read");
        }
    }

    @Test
    void twoGroupsOnOneTopicEachReadEveryRecord() throws Exception {
        String topic = "fanout";
        createTopic(topic, 3);
        produce(topic, 3, 30, "r");
        Set<String> seenA = new HashSet<>();
        Set<String> seenB = new HashSet<>();
        List<String> readByB = new ArrayList<>();
        try (KafkaConsumer<String, String> a1 = consumer("fanout-a", Map.of());
                KafkaConsumer<String, String> a2 = consumer("fanout-a", Map.of());
                KafkaConsumer<String, String> b1 = consumer("fanout-b", Map.of())) {
            a1.subscribe(List.of(topic));
            a2.subscribe(List.of(topic));
            b1.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                pollAndCommit(a1, seenA);
                pollAndCommit(a2, seenA);
                pollAndCommit(b1, seenB).forEach(r -> readByB.add(r.value()));
                return seenA.containsAll(values("r", 30)) && seenB.containsAll(values("r", 30))
                        && a1.assignment().size() + a2.assignment().size() == 3;
            });
            assertEquals(values("r", 30), seenA);
            assertEquals(values("r", 30), seenB);
            assertEquals(30, readByB.size(), "a group alone on the topic reads each record once: " + readByB);
        }
        Map<TopicPartition, Long> ends = partitions(topic, 3).stream().collect(Collectors.toMap(tp -> tp, tp -> 10L));
        assertEquals(ends, committed("fanout-a"));
        assertEquals(ends, committed("fanout-b"));
    }
}
