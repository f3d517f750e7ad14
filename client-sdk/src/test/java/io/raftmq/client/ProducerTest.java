package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.RecordTooLargeException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.Record;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The producer against a {@link FakeBroker}: batching, buffer memory, sequences and in-order retries. */
@Timeout(60)
class ProducerTest {
    private FakeBroker broker;
    private final List<Producer<String, String>> producers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        broker = new FakeBroker();
        broker.createTopic("t", 3);
    }

    @AfterEach
    void stop() {
        producers.forEach(p -> p.close(Duration.ofSeconds(5)));
        broker.close();
    }

    private Producer<String, String> producer(ProducerConfig.Builder config) {
        Producer<String, String> p = new Producer<>(config.bootstrapServers(broker.bootstrap()).build(),
                Serdes.stringSerializer(), Serdes.stringSerializer(), System::currentTimeMillis, new Random(7));
        producers.add(p);
        return p;
    }

    private static List<String> values(List<Record> log) {
        return log.stream().map(r -> new String(r.valueBytes(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void keyedRecordsGoWhereKafkaPutsThemAndCarryOffsets() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0));
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", "key-" + i, "v" + i)));
        }
        for (int i = 0; i < 30; i++) {
            RecordMetadata m = futures.get(i).get(10, TimeUnit.SECONDS);
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            int kafka = org.apache.kafka.common.utils.Utils.toPositive(
                    org.apache.kafka.common.utils.Utils.murmur2(key)) % 3;
            assertEquals(kafka, m.partition(), "partition of key-" + i);
            assertEquals("v" + i, values(broker.log("t", m.partition())).get((int) m.offset()));
        }
    }

    @Test
    void recordsWithoutKeyStickToOnePartitionUntilTheBatchCloses() throws Exception {
        // Batches of about 3 records (each record ~ 21 + 10 bytes of overhead and value).
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(60_000).batchSize(61 + 3 * 31));
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", null, String.format("value-%04d", i))));
        }
        producer.flush();
        List<Integer> partitions = new ArrayList<>();
        for (Future<RecordMetadata> f : futures) {
            partitions.add(f.get().partition());
        }
        // Runs of three on one partition, and consecutive runs on different partitions.
        for (int run = 0; run < 4; run++) {
            int p = partitions.get(run * 3);
            assertEquals(List.of(p, p, p), partitions.subList(run * 3, run * 3 + 3), "run " + run + ": " + partitions);
            if (run > 0) {
                assertTrue(p != partitions.get(run * 3 - 1), "the sticky partition moved on: " + partitions);
            }
        }
    }

    @Test
    void aFullBatchIsSentWithoutWaitingForLinger() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(60_000).batchSize(200)
                .deliveryTimeoutMs(200_000));
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", 0, null, "x".repeat(40))));
        }
        // 200-byte batches hold 2 such records (61 + 2 * 61 > 200 is false for 2, true for 3).
        futures.get(0).get(10, TimeUnit.SECONDS);
        assertTrue(broker.arrivals.get(0).records() >= 2, "first batch " + broker.arrivals.get(0));
        assertTrue(!futures.get(9).isDone(), "the last, partly filled batch waits for linger.ms");
        producer.flush();
        assertTrue(futures.get(9).isDone());
    }

    @Test
    void lingerGathersRecordsIntoOneBatch() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(300));
        long start = System.nanoTime();
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", 1, null, "v" + i)));
        }
        futures.get(19).get(10, TimeUnit.SECONDS);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(elapsedMs >= 250, "sent after " + elapsedMs + " ms, before linger.ms");
        assertEquals(1, broker.arrivals.size(), "one batch: " + broker.arrivals);
        assertEquals(20, broker.arrivals.get(0).records());
        for (int i = 0; i < 20; i++) {
            assertEquals(i, futures.get(i).get().offset());
        }
    }

    @Test
    void sendBlocksOnFullBufferMemoryThenTimesOut() throws Exception {
        broker.hook = (t, p, s, a) -> FakeBroker.Action.HOLD;
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).bufferMemory(2_000)
                .maxRequestSize(1_000).maxBlockMs(300));
        // Learn the topic first (connecting can take longer than 300 ms on a loaded machine).
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> producer.partitionsFor("t").size() == 3);
        String value = "y".repeat(400);
        int accepted = 0;
        ExecutionException failure = null;
        long start = System.nanoTime();
        for (int i = 0; i < 10 && failure == null; i++) {
            Future<RecordMetadata> f = producer.send(new ProducerRecord<>("t", 0, null, value));
            if (f.isDone()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    failure = e;
                }
            } else {
                accepted++;
            }
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(failure != null, "a send failed once buffer.memory was used up");
        assertInstanceOf(TimeoutException.class, failure.getCause());
        assertTrue(failure.getCause().getMessage().contains("max.block.ms"), failure.getCause().getMessage());
        assertEquals(4, accepted, "2000 bytes hold four 421-byte records");
        assertTrue(elapsedMs >= 280, "blocked " + elapsedMs + " ms");
    }

    @Test
    void aRecordLargerThanMaxRequestSizeFailsAtOnce() {
        Producer<String, String> producer = producer(ProducerConfig.builder().maxRequestSize(100));
        Future<RecordMetadata> f = producer.send(new ProducerRecord<>("t", "k", "z".repeat(200)));
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(RecordTooLargeException.class, e.getCause());
    }

    @Test
    void batchesCarryConsecutiveSequencesPerPartition() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).batchSize(100));
        for (int i = 0; i < 40; i++) {
            producer.send(new ProducerRecord<>("t", i % 2, null, "value-" + i));
        }
        producer.flush();
        for (int p = 0; p < 2; p++) {
            // Requests may reach the broker out of order (gRPC runs calls concurrently); the leader refuses a
            // gap and the producer re-sends, so arrivals may repeat, but the sequences are exactly 0..19.
            Set<Integer> sequences = new java.util.TreeSet<>();
            for (FakeBroker.Arrival a : broker.arrivals) {
                if (a.partition() == p) {
                    assertEquals(1, a.records());
                    assertEquals(1000, a.producerId(), "one producer id throughout");
                    sequences.add(a.baseSequence());
                }
            }
            assertEquals(java.util.stream.IntStream.range(0, 20).boxed().toList(), new ArrayList<>(sequences));
            List<String> want = new ArrayList<>();
            for (int i = p; i < 40; i += 2) {
                want.add("value-" + i);
            }
            assertEquals(want, values(broker.log("t", p)));
        }
    }

    @Test
    void aRetriableFailureResendsLaterBatchesInSequenceOrder() throws Exception {
        // The first arrival of the batch with sequence 3 is refused; batches after it (in flight at
        // the same time) hit the gap; all are re-sent in order and each record is written once.
        Set<Integer> refused = new HashSet<>();
        broker.hook = (t, p, seq, attempt) -> {
            if (seq >= 3 && refused.add(seq) && seq < 4) {
                return FakeBroker.Action.REFUSE;
            }
            return FakeBroker.Action.NORMAL;
        };
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).batchSize(70)
                .retryBackoffMs(20));
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", 2, null, "r" + i)));
        }
        producer.flush();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            want.add("r" + i);
            assertEquals(i, futures.get(i).get().offset(), "offset of r" + i);
        }
        assertEquals(want, values(broker.log("t", 2)));
        assertTrue(broker.arrivals.size() > 30, "a batch was retried: " + broker.arrivals.size() + " arrivals");
    }

    @Test
    void aLostAnswerIsRetriedAndTheRecordAppearsOnce() throws Exception {
        broker.hook = (t, p, seq, attempt) -> attempt == 0 ? FakeBroker.Action.APPEND_THEN_FAIL
                : FakeBroker.Action.NORMAL;
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).retryBackoffMs(10));
        RecordMetadata m = producer.send(new ProducerRecord<>("t", 0, "k", "once")).get(10, TimeUnit.SECONDS);
        assertEquals(0, m.offset(), "the duplicate answer carries the original offset");
        assertEquals(List.of("once"), values(broker.log("t", 0)));
        assertEquals(2, broker.arrivals.size());
    }

    @Test
    void withoutIdempotenceALostAnswerIsWrittenTwice() throws Exception {
        broker.hook = (t, p, seq, attempt) -> attempt == 0 ? FakeBroker.Action.APPEND_THEN_FAIL
                : FakeBroker.Action.NORMAL;
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).retryBackoffMs(10)
                .enableIdempotence(false).acks("1"));
        producer.send(new ProducerRecord<>("t", 0, "k", "twice")).get(10, TimeUnit.SECONDS);
        assertEquals(List.of("twice", "twice"), values(broker.log("t", 0)), "at-least-once");
        assertEquals(-1, broker.arrivals.get(0).producerId());
    }

    @Test
    void aClusterWithoutProducerIdsFallsBackToAtLeastOnceUnlessIdempotenceWasAskedFor() throws Exception {
        broker.supportsProducerIds = false;
        Producer<String, String> fallback = producer(ProducerConfig.builder().lingerMs(0));
        assertEquals(0, fallback.send(new ProducerRecord<>("t", 0, "k", "v")).get(10, TimeUnit.SECONDS).offset());
        Producer<String, String> strict = producer(ProducerConfig.builder().lingerMs(0).enableIdempotence(true));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> strict.send(new ProducerRecord<>("t", 0, "k", "v")).get(10, TimeUnit.SECONDS));
        assertEquals(ErrorCode.UNSUPPORTED_VERSION, ((RaftmqException) e.getCause()).code());
    }

    @Test
    void nonRetriableErrorsFailTheSendWithTheirType() throws Exception {
        broker.refuseWith = ErrorCode.RECORD_TOO_LARGE;
        broker.hook = (t, p, seq, attempt) -> FakeBroker.Action.REFUSE;
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0));
        List<Exception> seen = new ArrayList<>();
        Future<RecordMetadata> f = producer.send(new ProducerRecord<>("t", 0, "k", "v"), (m, e) -> seen.add(e));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(RecordTooLargeException.class, e.getCause());
        await().until(() -> seen.size() == 1);
        assertInstanceOf(RecordTooLargeException.class, seen.get(0));
    }

    @Test
    void retriesStopAtTheDeliveryTimeout() {
        broker.hook = (t, p, seq, attempt) -> FakeBroker.Action.REFUSE;
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).requestTimeoutMs(200)
                .deliveryTimeoutMs(1500).retryBackoffMs(20));
        producer.partitionsFor("t"); // connect first: the delivery timeout runs from send()
        Future<RecordMetadata> f = producer.send(new ProducerRecord<>("t", 0, "k", "v"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(broker.arrivals.size() >= 3, "retried before giving up: " + broker.arrivals.size());
    }

    @Test
    void anUnknownTopicTimesOutAfterMaxBlock() {
        Producer<String, String> producer = producer(ProducerConfig.builder().maxBlockMs(300));
        Future<RecordMetadata> f = producer.send(new ProducerRecord<>("nope", "k", "v"));
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(TimeoutException.class, e.getCause());
        String message = e.getCause().getMessage();
        assertTrue(message.contains("topic 'nope' not present in metadata after "), message);
        // The broker answered every time: the message says what it answered, not that none did.
        assertTrue(message.contains("UNKNOWN_TOPIC_OR_PARTITION"), message);
        assertFalse(message.contains("no broker answered"), message);
    }

    @Test
    void closeDeliversWhatWasAccepted() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(10_000).deliveryTimeoutMs(60_000));
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", 0, null, "c" + i)));
        }
        producer.close();
        for (Future<RecordMetadata> f : futures) {
            assertTrue(f.get(1, TimeUnit.SECONDS).offset() >= 0);
        }
        assertThrows(IllegalStateException.class, () -> producer.send(new ProducerRecord<>("t", "k", "v")));
    }
}
