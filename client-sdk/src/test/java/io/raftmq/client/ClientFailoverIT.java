package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.node.NodeProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against three real node processes (broker-node's packaged jar) when a node dies with
 * kill -9: an idempotent producer loses and duplicates nothing when a partition leader is killed
 * under it, and a consumer group whose coordinator's node is killed goes on consuming with its
 * committed offsets intact.
 */
@Timeout(300)
class ClientFailoverIT {
    @TempDir
    Path dir;

    interface Scenario {
        void run(NodeProcessCluster cluster, String bootstrap, Admin admin) throws Exception;
    }

    private void withCluster(Scenario scenario) throws Exception {
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir)) {
            try {
                cluster.startAll();
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                String bootstrap = cluster.bootstrapServers();
                try (Admin admin = new Admin(AdminConfig.builder().bootstrapServers(bootstrap)
                        .defaultApiTimeoutMs(30_000).build())) {
                    scenario.run(cluster, bootstrap, admin);
                }
            } catch (Throwable t) {
                cluster.dumpLogs();
                throw t;
            }
        }
    }

    /** Where an acknowledged record was written. */
    private record Written(int partition, long offset) {}

    /** Waits until every partition of the topic has a leader and all three replicas in its ISR. */
    private static void awaitFullIsr(Admin admin, String topic) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() ->
                admin.describeTopics(List.of(topic)).get(topic).partitions().stream()
                        .allMatch(p -> p.leader() >= 0 && p.isr().size() == 3));
    }

    @Test
    void killNineOfAPartitionLeaderUnderAnIdempotentProducerLosesAndDuplicatesNothing() throws Exception {
        withCluster((cluster, bootstrap, admin) -> {
            String topic = "orders";
            admin.createTopic(new NewTopic(topic, 3, 3, Map.of("min.insync.replicas", "2")));
            awaitFullIsr(admin, topic);
            int victim = admin.describeTopics(List.of(topic)).get(topic).partitions().get(0).leader();

            Map<String, Written> acked = new ConcurrentHashMap<>();
            Map<Integer, AtomicInteger> ackedPerPartition = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger sent = new AtomicInteger();
            Semaphore inFlight = new Semaphore(200);
            ProducerConfig config = ProducerConfig.builder().bootstrapServers(bootstrap).acks("all").lingerMs(5)
                    .requestTimeoutMs(5_000).build();
            assertTrue(config.idempotenceEnabled(), "idempotence is on by default");
            try (Producer<String, String> producer = new Producer<>(config, Serdes.stringSerializer(),
                    Serdes.stringSerializer())) {
                Thread sender = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            inFlight.acquire();
                        } catch (InterruptedException e) {
                            return;
                        }
                        String value = "v" + i;
                        sent.incrementAndGet();
                        producer.send(new ProducerRecord<>(topic, "k" + (i % 64), value), (metadata, error) -> {
                            inFlight.release();
                            if (error != null) {
                                failures.add(value + ": " + error);
                            } else {
                                acked.put(value, new Written(metadata.partition(), metadata.offset()));
                                ackedPerPartition.computeIfAbsent(metadata.partition(), p -> new AtomicInteger())
                                        .incrementAndGet();
                            }
                        });
                    }
                }, "continuous-sender");
                sender.start();
                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 3_000);
                    cluster.node(victim).kill9();
                    int partition0AtKill = ackedPerPartition.get(0).get();
                    long killedAt = System.nanoTime();
                    // Production resumes on partition 0, which the killed node led.
                    await().atMost(Duration.ofSeconds(60)).until(() -> ackedPerPartition.get(0).get()
                            >= partition0AtKill + 1_000);
                    System.out.printf("1,000 more records of partition 0 acknowledged %d ms after kill -9 of its leader, node %d%n",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt), victim);
                    cluster.node(victim).start();
                    awaitFullIsr(admin, topic);
                    int rejoinedAt = acked.size();
                    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= rejoinedAt + 1_000);
                } finally {
                    stop.set(true);
                    sender.join(30_000);
                }
                producer.flush();
            }
            assertTrue(failures.isEmpty(), () -> failures.size() + " sends failed, e.g. " + failures.peek());
            assertEquals(sent.get(), acked.size(), "every send is acknowledged");

            Map<String, List<Written>> stored = readAll(bootstrap, topic, 3);
            List<String> problems = new ArrayList<>();
            acked.forEach((value, where) -> {
                List<Written> copies = stored.get(value);
                if (copies == null) {
                    problems.add("lost: " + value + " acknowledged at " + where);
                } else if (!copies.contains(where)) {
                    problems.add("moved: " + value + " acknowledged at " + where + ", stored at " + copies);
                }
            });
            stored.forEach((value, copies) -> {
                if (copies.size() > 1) {
                    problems.add("duplicated: " + value + " stored at " + copies);
                }
            });
            int storedCount = stored.values().stream().mapToInt(List::size).sum();
            System.out.printf("idempotent production across a leader kill: %d acknowledged, %d stored, %d problems%n",
                    acked.size(), storedCount, problems.size());
            assertTrue(problems.isEmpty(), () -> problems.size() + " problems: "
                    + String.join("\n", problems.subList(0, Math.min(20, problems.size()))));
            assertEquals(acked.size(), storedCount, "the log holds exactly the acknowledged records");
        });
    }

    @Test
    void killNineOfTheGroupCoordinatorsNodeKeepsTheGroupConsumingWithItsCommittedOffsets() throws Exception {
        withCluster((cluster, bootstrap, admin) -> {
            String topic = "payments";
            String group = "billing";
            admin.createTopic(new NewTopic(topic, 3, 3, Map.of("min.insync.replicas", "2")));
            awaitFullIsr(admin, topic);
            produce(bootstrap, topic, 0, 3_000);

            Set<String> seen = new HashSet<>();
            try (Consumer<String, String> member = new Consumer<>(ConsumerConfig.builder().bootstrapServers(bootstrap)
                    .groupId(group).enableAutoCommit(false).autoOffsetReset("earliest").maxPollRecords(100)
                    .sessionTimeoutMs(10_000).heartbeatIntervalMs(500).fetchMaxWaitMs(100).build(),
                    Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
                member.subscribe(List.of(topic));
                await().atMost(Duration.ofSeconds(60)).pollInSameThread().until(() -> {
                    pollAndCommit(member, seen);
                    return seen.size() >= 1_000;
                });
                Map<TopicPartition, OffsetAndMetadata> before = admin.listConsumerGroupOffsets(group);
                assertEquals(seen.size(), before.values().stream().mapToLong(OffsetAndMetadata::offset).sum(),
                        "the committed offsets cover what the member consumed");
                int coordinator = admin.describeGroups(List.of(group)).get(group).coordinatorId();
                int generation = admin.describeGroups(List.of(group)).get(group).generationId();

                cluster.node(coordinator).kill9();
                // The new coordinator has rebuilt the group from __consumer_offsets: the same commits.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() ->
                        admin.describeGroups(List.of(group)).get(group).coordinatorId() != coordinator
                                && admin.listConsumerGroupOffsets(group).equals(before));

                // The member goes on: new records are consumed and committed through the new coordinator.
                produce(bootstrap, topic, 3_000, 4_000);
                await().atMost(Duration.ofSeconds(60)).pollInSameThread().until(() -> {
                    pollAndCommit(member, seen);
                    return seen.size() == 4_000;
                });
                Admin.GroupDescription after = admin.describeGroups(List.of(group)).get(group);
                System.out.printf("group '%s': coordinator %d killed, now %d; generation %d -> %d; %d records consumed%n",
                        group, coordinator, after.coordinatorId(), generation, after.generationId(), seen.size());
                Map<TopicPartition, Long> ends = member.endOffsets(member.assignment());
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group);
                    return ends.entrySet().stream().allMatch(e -> committed.get(e.getKey()).offset() == e.getValue());
                });
            }

            // A restarted member resumes from the commits: it sees only what was produced since.
            cluster.nodes().stream().filter(n -> !n.alive()).findFirst().orElseThrow().start();
            awaitFullIsr(admin, topic);
            produce(bootstrap, topic, 4_000, 4_100);
            Set<String> resumed = new HashSet<>();
            try (Consumer<String, String> member = new Consumer<>(ConsumerConfig.builder().bootstrapServers(bootstrap)
                    .groupId(group).enableAutoCommit(false).autoOffsetReset("earliest").fetchMaxWaitMs(100).build(),
                    Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
                member.subscribe(List.of(topic));
                await().atMost(Duration.ofSeconds(60)).pollInSameThread().until(() -> {
                    pollAndCommit(member, resumed);
                    return resumed.size() >= 100;
                });
                // One more round: nothing older arrives late.
                await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).pollInSameThread().until(() -> {
                    pollAndCommit(member, resumed);
                    return true;
                });
            }
            Set<String> expected = new HashSet<>();
            for (int i = 4_000; i < 4_100; i++) {
                expected.add("v" + i);
            }
            assertEquals(expected, resumed, "after a restart the group resumes from its committed offsets");
        });
    }

    private static void pollAndCommit(Consumer<String, String> member, Set<String> seen) {
        ConsumerRecords<String, String> records = member.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, String> r : records) {
            seen.add(r.value());
        }
        if (!records.isEmpty()) {
            member.commitSync();
        }
    }

    private static void produce(String bootstrap, String topic, int from, int to) throws Exception {
        try (Producer<String, String> producer = new Producer<>(ProducerConfig.builder().bootstrapServers(bootstrap)
                .acks("all").lingerMs(5).build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> results = new ArrayList<>();
            for (int i = from; i < to; i++) {
                results.add(producer.send(new ProducerRecord<>(topic, "k" + (i % 64), "v" + i)));
            }
            producer.flush();
            for (var r : results) {
                r.get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** Every record of the topic, by value, with where it is stored. */
    private static Map<String, List<Written>> readAll(String bootstrap, String topic, int partitions) {
        Map<String, List<Written>> stored = new HashMap<>();
        try (Consumer<String, String> reader = new Consumer<>(ConsumerConfig.builder().bootstrapServers(bootstrap)
                .fetchMaxWaitMs(100).build(), Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            List<TopicPartition> all = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                all.add(new TopicPartition(topic, p));
            }
            reader.assign(all);
            reader.seekToBeginning(all);
            Map<TopicPartition, Long> ends = reader.endOffsets(all);
            await().atMost(Duration.ofSeconds(60)).pollInSameThread().until(() -> {
                for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(100))) {
                    stored.computeIfAbsent(r.value(), v -> new ArrayList<>()).add(new Written(r.partition(), r.offset()));
                }
                return all.stream().allMatch(tp -> reader.position(tp) >= ends.get(tp));
            });
        }
        return stored;
    }
}
