package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.common.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The consumer's group protocol against a fake broker and coordinator (the real coordinator is
 * being built on the brokers): join and sync, fetch from committed offsets or the reset policy,
 * rejoin on REBALANCE_IN_PROGRESS and with a fresh id on UNKNOWN_MEMBER_ID, commits, leave on close.
 */
@Timeout(60)
class ConsumerGroupTest {
    private FakeBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new FakeBroker();
        broker.createTopic("t", 3);
        try (Producer<String, String> p = new Producer<>(ProducerConfig.builder().bootstrapServers(broker.bootstrap())
                .lingerMs(0).build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            for (int i = 0; i < 12; i++) {
                p.send(new ProducerRecord<>("t", i % 3, "k", "v" + i));
            }
            p.flush();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private Consumer<String, String> consumer(boolean autoCommit) {
        return new Consumer<>(ConsumerConfig.builder().bootstrapServers(broker.bootstrap()).groupId("g")
                .autoOffsetReset("earliest").heartbeatIntervalMs(50).sessionTimeoutMs(5000).fetchMaxWaitMs(50)
                .enableAutoCommit(autoCommit).autoCommitIntervalMs(100).build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer());
    }

    private static List<String> pollUntil(Consumer<String, String> c, int count) {
        List<String> out = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            c.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
            return out.size() >= count;
        });
        return out;
    }

    @Test
    void joinsReadsEverythingCommitsOnCloseAndLeaves() {
        Consumer<String, String> c = consumer(true);
        List<String> events = new CopyOnWriteArrayList<>();
        c.subscribe(List.of("t"), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                events.add("revoked " + partitions.size());
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                events.add("assigned " + partitions.size());
            }
        });
        assertEquals(12, pollUntil(c, 12).size());
        assertEquals(Set.of(new TopicPartition("t", 0), new TopicPartition("t", 1), new TopicPartition("t", 2)),
                c.assignment());
        c.close();
        assertEquals(List.of("assigned 3", "revoked 3"), events);
        assertEquals(12L, broker.groups.committed.values().stream().mapToLong(Long::longValue).sum());
        assertTrue(broker.groups.calls.contains("commit:1"), broker.groups.calls.toString());
        assertEquals("leave:member-1", broker.groups.calls.get(broker.groups.calls.size() - 1));
    }

    @Test
    void aRestartedMemberResumesFromTheCommittedOffsets() {
        Consumer<String, String> first = consumer(false);
        first.subscribe(List.of("t"));
        pollUntil(first, 12);
        first.commitSync();
        first.close();
        try (Producer<String, String> p = new Producer<>(ProducerConfig.builder().bootstrapServers(broker.bootstrap())
                .lingerMs(0).build(), Serdes.stringSerializer(), Serdes.stringSerializer())) {
            p.send(new ProducerRecord<>("t", 1, "k", "after"));
            p.flush();
        }
        Consumer<String, String> second = consumer(false);
        second.subscribe(List.of("t"));
        assertEquals(List.of("after"), pollUntil(second, 1));
        second.close();
    }

    @Test
    void aRebalanceRejoinsWithTheSameIdAndAnUnknownMemberWithAFreshOne() {
        Consumer<String, String> c = consumer(false);
        c.subscribe(List.of("t"));
        pollUntil(c, 12);
        broker.groups.heartbeatErrorOnce = ErrorCode.REBALANCE_IN_PROGRESS;
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            c.poll(Duration.ofMillis(50));
            return broker.groups.calls.contains("sync:2");
        });
        assertTrue(broker.groups.calls.contains("join:member-1"), broker.groups.calls.toString());
        broker.groups.heartbeatErrorOnce = ErrorCode.UNKNOWN_MEMBER_ID;
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            c.poll(Duration.ofMillis(50));
            return broker.groups.calls.contains("sync:3");
        });
        assertEquals(2, broker.groups.calls.stream().filter(s -> s.equals("join:")).count(),
                "joined again with an empty member id: " + broker.groups.calls);
        assertEquals("member-3", c.memberId());
        c.close();
    }

    @Test
    void asyncCommitCallbacksRunInsidePoll() {
        Consumer<String, String> c = consumer(false);
        c.subscribe(List.of("t"));
        pollUntil(c, 12);
        AtomicReference<String> outcome = new AtomicReference<>();
        c.commitAsync((offsets, e) -> outcome.set(e == null ? "ok " + offsets.size() : e.toString()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            c.poll(Duration.ofMillis(20));
            return outcome.get() != null;
        });
        assertEquals("ok 3", outcome.get());
        assertEquals(12L, broker.groups.committed.values().stream().mapToLong(Long::longValue).sum());
        assertNull(null);
        c.close();
    }
}
