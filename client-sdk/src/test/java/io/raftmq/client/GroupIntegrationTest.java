package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups and the idempotent producer against three in-process nodes. 
 */
@Timeout(120)
class GroupIntegrationTest {
    @TempDir
    Path dir;
    private ClusterFixture fixture;
    private Admin admin;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        fixture = new ClusterFixture(dir);
        admin = fixture.admin();
        admin.createTopic(new NewTopic("events", 4, 3));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        admin.close();
        fixture.close();
    }

    private Consumer<String, String> member(String group) {
        Consumer<String, String> c = new Consumer<>(fixture.consumerConfig().groupId(group).sessionTimeoutMs(6000)
                .heartbeatIntervalMs(200).autoCommitIntervalMs(200).set(ConsumerConfig.MAX_POLL_INTERVAL_MS, 10_000)
                .build(), Serdes.stringDeserializer(), Serdes.stringDeserializer());
        clients.add(c);
        return c;
    }

    private void produce(int from, int to) throws Exception {
        try (Producer<String, String> p = new Producer<>(fixture.producerConfig().build(), Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (int i = from; i < to; i++) {
                sends.add(p.send(new ProducerRecord<>("events", "k" + i, "v" + i)));
            }
            p.flush();
            for (Future<RecordMetadata> send : sends) {
                send.get(30, TimeUnit.SECONDS); // a lost send would show up later as a record never read
            }
        }
    }

    private static void pollInto(Consumer<String, String> c, Collection<String> out) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
            out.add(r.value());
        }
    }

    @Test
    void twoMembersSplitThePartitionsAndTheSurvivorTakesAllWhenOneCloses() throws Exception {
        Consumer<String, String> a = member("split");
        Consumer<String, String> b = member("split");
        a.subscribe(List.of("events"));
        b.subscribe(List.of("events"));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            a.poll(Duration.ofMillis(50));
            b.poll(Duration.ofMillis(50));
            return a.assignment().size() == 2 && b.assignment().size() == 2;
        });
        Set<TopicPartition> union = new HashSet<>(a.assignment());
        union.addAll(b.assignment());
        assertEquals(4, union.size(), "each partition to exactly one member");

        b.close();
        clients.remove(b);
        long closedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            a.poll(Duration.ofMillis(50));
            return a.assignment().size() == 4;
        });
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closedAt);
        assertTrue(tookMs < 6000, "a clean leave rebalances without waiting for the session timeout: " + tookMs);
    }

    @Test
    void twoGroupsEachReceiveEveryRecord() throws Exception {
        produce(0, 200);
        Consumer<String, String> g1 = member("g1");
        Consumer<String, String> g2 = member("g2");
        g1.subscribe(List.of("events"));
        g2.subscribe(List.of("events"));
        Set<String> seen1 = new TreeSet<>();
        Set<String> seen2 = new TreeSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            pollInto(g1, seen1);
            pollInto(g2, seen2);
            return seen1.size() == 200 && seen2.size() == 200;
        });
        Admin.GroupDescription d = admin.describeGroups(List.of("g1")).get("g1");
        assertEquals("Stable", d.state());
        assertEquals(1, d.members().size());
        assertEquals(4, d.members().get(0).assignment().size());
        assertTrue(admin.listGroups().stream().map(Admin.GroupListing::groupId).toList().containsAll(List.of("g1",
                "g2")));
    }

    @Test
    void aRestartedGroupResumesFromItsCommittedOffsets() throws Exception {
        produce(0, 100);
        Set<String> first = new TreeSet<>();
        Consumer<String, String> c1 = member("resume");
        c1.subscribe(List.of("events"));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            pollInto(c1, first);
            return first.size() == 100;
        });
        c1.commitSync();
        c1.close();
        clients.remove(c1);
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("resume");
        assertEquals(100, committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum());
        assertTrue(admin.groupLag("resume").stream().allMatch(l -> l.lag() == 0));

        produce(100, 150);
        Set<String> second = new TreeSet<>();
        Consumer<String, String> c2 = member("resume");
        c2.subscribe(List.of("events"));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            pollInto(c2, second);
            return second.size() >= 50;
        });
        Set<String> want = new TreeSet<>();
        for (int i = 100; i < 150; i++) {
            want.add("v" + i);
        }
        assertEquals(want, second, "only what was produced after the commit");
    }

    @Test
    void aProduceWhoseAnswerIsLostIsWrittenOnce() throws Exception {
        try (Producer<String, String> producer = new Producer<>(fixture.producerConfig().enableIdempotence(true)
                .retryBackoffMs(50).build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            DropFirstProduceAnswer dropper = new DropFirstProduceAnswer();
            producer.channels().interceptor = dropper;
            RecordMetadata m = producer.send(new ProducerRecord<>("events", 0, "k", "exactly-once"))
                    .get(30, TimeUnit.SECONDS);
            assertEquals(1, dropper.dropped.get(), "the first answer was dropped");
            assertTrue(producer.producerId() >= 0, "a producer id from the cluster");
            try (Consumer<String, String> c = new Consumer<>(fixture.consumerConfig().build(),
                    Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
                TopicPartition tp = new TopicPartition("events", 0);
                c.assign(List.of(tp));
                List<String> values = new ArrayList<>();
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    pollInto(c, values);
                    return c.position(tp) >= c.endOffsets(List.of(tp)).get(tp);
                });
                assertEquals(List.of("exactly-once"), values);
                assertEquals(0, m.offset(), "the retry's answer carries the original offset");
            }
        }
    }
}
