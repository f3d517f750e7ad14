package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.raftmq.client.errors.RaftmqException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A deserializer that fails on a record, whether the SDK's own (run where answers are decoded) or
 * the user's (run only on the thread that calls poll): poll throws its exception at that record
 * after returning the records before it, the position stays on it, and a seek past it carries on.
 */
@Timeout(60)
class ConsumerDeserializerTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    private FakeBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new FakeBroker();
        broker.createTopic("t", 1);
        try (Producer<byte[], byte[]> p = new Producer<>(ProducerConfig.builder().bootstrapServers(broker.bootstrap())
                .lingerMs(0).build(), Serdes.byteArraySerializer(), Serdes.byteArraySerializer())) {
            for (byte[] value : List.of(intBytes(0), intBytes(1), intBytes(2), new byte[5], intBytes(4))) {
                p.send(new ProducerRecord<>("t", 0, null, value));
            }
            p.flush();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static byte[] intBytes(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static Stream<Arguments> deserializers() {
        Set<Thread> userThreads = ConcurrentHashMap.newKeySet();
        Deserializer<Integer> user = (topic, b) -> {
            userThreads.add(Thread.currentThread());
            return Serdes.integerDeserializer().deserialize(topic, b);
        };
        return Stream.of(Arguments.of("built-in", Serdes.integerDeserializer(), Set.of()),
                Arguments.of("user", user, userThreads));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deserializers")
    void aFailingDeserializerThrowsFromPollAtItsRecord(String name, Deserializer<Integer> values,
            Set<Thread> ranOn) {
        try (Consumer<byte[], Integer> c = new Consumer<>(ConsumerConfig.builder()
                .bootstrapServers(broker.bootstrap()).autoOffsetReset("earliest").fetchMaxWaitMs(50).build(),
                Serdes.byteArrayDeserializer(), values)) {
            c.assign(List.of(TP));
            List<Integer> read = new ArrayList<>();
            List<RuntimeException> failures = new ArrayList<>();
            await().pollInSameThread().atMost(Duration.ofSeconds(20)).until(() -> {
                try {
                    c.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                } catch (RaftmqException e) {
                    failures.add(e);
                    return read.size() == 3; // thrown again after the records before it were returned
                }
                return false;
            });
            assertEquals(List.of(0, 1, 2), read);
            for (RuntimeException e : failures) {
                assertEquals(RaftmqException.class, e.getClass());
                assertEquals("an int needs 4 bytes; the record of topic 't' has 5", e.getMessage());
            }
            assertEquals(3, c.position(TP));
            c.seek(TP, 4);
            await().pollInSameThread().atMost(Duration.ofSeconds(20)).until(() -> {
                c.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                return read.size() == 4;
            });
            assertEquals(List.of(0, 1, 2, 4), read);
            assertEquals(5, c.position(TP));
        }
        // The calls to poll all came from this thread (awaitility polls in it).
        assertFalse(ranOn.stream().anyMatch(t -> t != Thread.currentThread()), "user deserializer ran on " + ranOn);
    }
}
