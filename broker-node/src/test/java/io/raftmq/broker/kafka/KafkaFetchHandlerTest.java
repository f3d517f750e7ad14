package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaRecords.batch;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchRequestData.ForgottenTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kafka Fetch v4-18 against in-process brokers: full fetches, every fetch session transition
 * (new, incremental with only what changed, forgotten partitions, wrong epoch, unknown session,
 * close, a full cache, eviction, topic ids against names), long polls, min and max bytes, the
 * diverging epoch, READ_COMMITTED, replicas refused, unknown topic ids. Every answer is read back
 * from the wire at the request's version.
 */
@ExtendWith(KafkaTestCluster.Resolver.class)
@Timeout(120)
class KafkaFetchHandlerTest {
    private static final int ONE_MIB = 1 << 20;

    private static KafkaTestCluster cluster;

    @BeforeAll
    static void cluster(KafkaTestCluster shared) {
        cluster = shared;
    }

    private static FetchPartition part(int partition, long offset) {
        return new FetchPartition().setPartition(partition).setFetchOffset(offset).setPartitionMaxBytes(ONE_MIB);
    }

    private static FetchTopic topic(short version, String name, FetchPartition... parts) {
        FetchTopic t = version >= 13 ? new FetchTopic().setTopicId(cluster.topicId(name)) : new FetchTopic()
                .setTopic(name);
        return t.setPartitions(new ArrayList<>(List.of(parts)));
    }

    private static FetchRequestData request(int sessionId, int epoch, int maxWaitMs, int minBytes, FetchTopic... topics) {
        return new FetchRequestData().setMaxWaitMs(maxWaitMs).setMinBytes(minBytes).setMaxBytes(ONE_MIB)
                .setSessionId(sessionId).setSessionEpoch(epoch).setTopics(new ArrayList<>(List.of(topics)));
    }

    private static FetchRequestData forget(FetchRequestData request, short version, String topic, int... partitions) {
        ForgottenTopic forgotten = version >= 13 ? new ForgottenTopic().setTopicId(cluster.topicId(topic))
                : new ForgottenTopic().setTopic(topic);
        List<Integer> list = new ArrayList<>();
        for (int p : partitions) {
            list.add(p);
        }
        request.forgottenTopicsData().add(forgotten.setPartitions(list));
        return request;
    }

    private static FetchResponseData fetch(KafkaRequestHandler handler, short version, FetchRequestData request) {
        return KafkaWire.call(handler, ApiKeys.FETCH, version, request);
    }

    /** The answer's partitions by "topic-partition", in answer order. */
    private static Map<String, PartitionData> partitions(FetchResponseData response) {
        Map<String, PartitionData> out = new LinkedHashMap<>();
        for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
            String name = t.topic().isEmpty() ? cluster.topicName(t.topicId()) : t.topic();
            for (PartitionData p : t.partitions()) {
                out.put(name + "-" + p.partitionIndex(), p);
            }
        }
        return out;
    }

    private static PartitionData only(FetchResponseData response) {
        Map<String, PartitionData> all = partitions(response);
        assertEquals(1, all.size(), response.toString());
        return all.values().iterator().next();
    }

    @Test
    void aFullFetchReadsRecordsAtTheLowestAndHighestVersion() {
        cluster.createTopic("fetch-full", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-full", 0);
        cluster.produce(tp, batch("a", "b", "c"));
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        for (short version : new short[] {4, 18}) {
            FetchResponseData response = fetch(apis, version, request(0, -1, 0, 1, topic(version, tp.topic(),
                    part(0, 0))));
            PartitionData p = only(response);
            assertEquals(Errors.NONE.code(), p.errorCode());
            assertEquals(List.of("a", "b", "c"), KafkaRecords.values(p.records()));
            assertEquals(List.of(0L, 1L, 2L), KafkaRecords.offsets(p.records()));
            assertEquals(3, p.highWatermark());
            assertEquals(3, p.lastStableOffset(), "no transactions: the last stable offset is the high watermark");
            assertEquals(version >= 5 ? 0 : -1, p.logStartOffset(), "a field since v5");
            assertNull(p.abortedTransactions(), "READ_UNCOMMITTED");
            assertEquals(-1, p.preferredReadReplica());
            assertEquals(0, response.sessionId());
            assertEquals(0, response.throttleTimeMs());
        }
        FetchHandler handler = handler(cluster.leader(tp));
        assertEquals(0, fetchWith(handler, (short) 12, request(0, -1, 0, 1, topic((short) 12, tp.topic(),
                part(0, 0)))).sessionId());
        assertEquals(0, handler.sessions().size(), "a sessionless fetch opens no session");
    }

    @Test
    void zstdRecordsAreRefusedToFetchesBelowV10AsKafkaDoes() {
        cluster.createTopic("fetch-zstd", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-zstd", 0);
        cluster.produce(tp, batch("plain"));
        cluster.produce(tp, KafkaRecords.compressed(Compression.zstd().build(), "z"));
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        PartitionData v9 = only(fetch(apis, (short) 9, request(0, -1, 0, 1, topic((short) 9, tp.topic(),
                part(0, 0)))));
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), v9.errorCode());
        assertEquals(0, v9.records().sizeInBytes());
        PartitionData v10 = only(fetch(apis, (short) 10, request(0, -1, 0, 1, topic((short) 10, tp.topic(),
                part(0, 0)))));
        assertEquals(Errors.NONE.code(), v10.errorCode());
        assertEquals(List.of("plain", "z"), KafkaRecords.values(v10.records()));
        PartitionData v4 = only(fetch(apis, (short) 4, request(0, -1, 0, 1, topic((short) 4, tp.topic(),
                part(0, 0)))));
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), v4.errorCode());
    }

    /** Two partitions of one topic that one broker leads (a session lives on one broker). */
    private record Pair(TopicPartition a, TopicPartition b, int leader) {}

    private static Pair onOneLeader(String topic, int replicationFactor) {
        // One partition more than brokers: two of them share a leader, wherever placement puts them.
        cluster.createTopic(topic, KafkaTestCluster.NODES + 1, replicationFactor, Map.of());
        Map<Integer, TopicPartition> firstByLeader = new HashMap<>();
        for (int p = 0; p <= KafkaTestCluster.NODES; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            int leader = cluster.leader(tp);
            TopicPartition first = firstByLeader.putIfAbsent(leader, tp);
            if (first != null) {
                return new Pair(first, tp, leader);
            }
        }
        throw new IllegalStateException("no two partitions of " + topic + " share a leader");
    }

    private static String key(TopicPartition tp) {
        return tp.topic() + "-" + tp.partition();
    }

    /** A fetch handler on {@code node} with a cache of its own (ten sessions). */
    private static FetchHandler handler(int node) {
        return new FetchHandler(cluster.api(node), new FetchSessionCache(node, 10), KafkaAuthorization.allowAll());
    }

    @Test
    void aSessionAnswersOnlyWhatChangedForgetsPartitionsAndCloses() {
        for (short version : new short[] {7, 18}) {
            Pair pair = onOneLeader("fetch-session-v" + version, 2);
            TopicPartition a = pair.a();
            TopicPartition b = pair.b();
            String topic = a.topic();
            cluster.produce(a, batch("a1"));
            FetchHandler handler = handler(pair.leader());
            FetchResponseData created = fetchWith(handler, version, request(0, 0, 0, 1,
                    topic(version, topic, part(a.partition(), 0), part(b.partition(), 0))));
            int session = created.sessionId();
            assertNotEquals(0, session, "a new session");
            Map<String, PartitionData> full = partitions(created);
            assertEquals(List.of(key(a), key(b)), List.copyOf(full.keySet()), "a full answer lists every partition");
            assertEquals(List.of("a1"), KafkaRecords.values(full.get(key(a)).records()));

            // Epoch 1: the client moved a past what it read; nothing is new anywhere.
            FetchResponseData quiet = fetchWith(handler, version, request(session, 1, 10, 1,
                    topic(version, topic, part(a.partition(), 1))));
            assertEquals(session, quiet.sessionId());
            assertTrue(partitions(quiet).isEmpty(), "nothing changed: " + quiet);

            // Epoch 2: b gets a record; only b is answered, though the request lists nothing.
            cluster.produce(b, batch("b1"));
            Map<String, PartitionData> changed = partitions(fetchWith(handler, version, request(session, 2, 10, 1)));
            assertEquals(List.of(key(b)), List.copyOf(changed.keySet()));
            assertEquals(List.of("b1"), KafkaRecords.values(changed.get(key(b)).records()));
            assertEquals(1, changed.get(key(b)).highWatermark());

            // Epoch 3: forget b; both get records, only a is answered.
            cluster.produce(a, batch("a2"));
            cluster.produce(b, batch("b2"));
            Map<String, PartitionData> afterForget = partitions(fetchWith(handler, version,
                    forget(request(session, 3, 10, 1), version, topic, b.partition())));
            assertEquals(List.of(key(a)), List.copyOf(afterForget.keySet()));
            assertEquals(List.of("a2"), KafkaRecords.values(afterForget.get(key(a)).records()));

            // A wrong epoch and an unknown session are refused; the session goes on at its epoch.
            FetchResponseData wrongEpoch = fetchWith(handler, version, request(session, 9, 0, 1));
            assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH.code(), wrongEpoch.errorCode());
            assertEquals(0, wrongEpoch.sessionId());
            assertTrue(wrongEpoch.responses().isEmpty());
            FetchResponseData unknown = fetchWith(handler, version, request(session + 1, 1, 0, 1));
            assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), unknown.errorCode());
            assertEquals(session, fetchWith(handler, version, request(session, 4, 0, 1)).sessionId());

            // Epoch -1 closes it: a sessionless answer, and the id is gone.
            FetchResponseData closing = fetchWith(handler, version, request(session, -1, 0, 1,
                    topic(version, topic, part(a.partition(), 0))));
            assertEquals(0, closing.sessionId());
            assertEquals(List.of("a1", "a2"), KafkaRecords.values(only(closing).records()));
            assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(),
                    fetchWith(handler, version, request(session, 5, 0, 1)).errorCode());
            assertEquals(0, handler.sessions().size());
        }
    }

    @Test
    void forgettingEveryPartitionClosesTheSession() {
        cluster.createTopic("fetch-forget-all", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-forget-all", 0);
        FetchHandler handler = handler(cluster.leader(tp));
        int session = fetchWith(handler, (short) 12, request(0, 0, 0, 1, topic((short) 12, tp.topic(),
                part(0, 0)))).sessionId();
        FetchResponseData last = fetchWith(handler, (short) 12, forget(request(session, 1, 0, 1), (short) 12,
                tp.topic(), 0));
        assertEquals(Errors.NONE.code(), last.errorCode());
        assertEquals(0, last.sessionId(), "closed: no partition left");
        assertEquals(0, handler.sessions().size());
    }

    @Test
    void aSessionByTopicIdIsRefusedToARequestByName() {
        cluster.createTopic("fetch-session-ids", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-session-ids", 0);
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        int session = fetch(apis, (short) 13, request(0, 0, 0, 1, topic((short) 13, tp.topic(), part(0, 0))))
                .sessionId();
        assertNotEquals(0, session);
        assertEquals(Errors.FETCH_SESSION_TOPIC_ID_ERROR.code(),
                fetch(apis, (short) 12, request(session, 1, 0, 1)).errorCode());
    }

    @Test
    void partitionsThatReturnedRecordsMoveToTheEndOfTheSession() {
        Pair pair = onOneLeader("fetch-rotate", 1);
        TopicPartition a = pair.a();
        TopicPartition b = pair.b();
        cluster.produce(a, batch("x".repeat(500)));
        cluster.produce(b, batch("y".repeat(500)));
        cluster.produce(a, batch("z".repeat(500)));
        FetchHandler handler = handler(pair.leader());
        FetchRequestData first = request(0, 0, 0, 1, topic((short) 12, a.topic(), part(a.partition(), 0),
                part(b.partition(), 0)));
        first.setMaxBytes(1); // room for the first batch only
        FetchResponseData created = fetchWith(handler, (short) 12, first);
        Map<String, PartitionData> one = partitions(created);
        assertEquals(List.of("x".repeat(500)), KafkaRecords.values(one.get(key(a)).records()), "the first batch always");
        assertEquals(0, one.get(key(b)).records().sizeInBytes(), "no budget left for b");
        // a returned records, so b is read first now, though a has more.
        FetchRequestData next = request(created.sessionId(), 1, 0, 1, topic((short) 12, a.topic(),
                part(a.partition(), 1)));
        next.setMaxBytes(1);
        Map<String, PartitionData> two = partitions(fetchWith(handler, (short) 12, next));
        assertEquals(List.of("y".repeat(500)), KafkaRecords.values(two.get(key(b)).records()));
        assertTrue(!two.containsKey(key(a)) || two.get(key(a)).records().sizeInBytes() == 0, two.toString());
        // b returned records: a is first again.
        FetchRequestData third = request(created.sessionId(), 2, 0, 1, topic((short) 12, a.topic(),
                part(b.partition(), 1)));
        third.setMaxBytes(1);
        Map<String, PartitionData> three = partitions(fetchWith(handler, (short) 12, third));
        assertEquals(List.of("z".repeat(500)), KafkaRecords.values(three.get(key(a)).records()));
    }

    @Test
    void aFullCacheAnswersSessionIdZeroAndAnIdleSessionIsEvicted() {
        cluster.createTopic("fetch-cache", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-cache", 0);
        int leader = cluster.leader(tp);
        MockTime time = new MockTime();
        FetchHandler handler = new FetchHandler(cluster.api(leader), new FetchSessionCache(leader, 1, 1_000, time,
                new SplittableRandom(42)), KafkaAuthorization.allowAll());
        FetchRequestData newSession = request(0, 0, 0, 1, topic((short) 16, tp.topic(), part(0, 0)));
        int a = sessionId(handler, newSession);
        assertNotEquals(0, a);
        assertEquals(0, sessionId(handler, newSession), "full: the only session is not idle long enough");
        time.advanceMs(1_001);
        int b = sessionId(handler, newSession);
        assertNotEquals(0, b, "the idle session made room");
        assertNotEquals(a, b);
        FetchResponseData evicted = fetchWith(handler, (short) 16, request(a, 1, 0, 1));
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), evicted.errorCode());
        assertEquals(b, fetchWith(handler, (short) 16, request(b, 1, 0, 1)).sessionId());

        FetchHandler off = new FetchHandler(cluster.api(leader), new FetchSessionCache(leader, 0),
                KafkaAuthorization.allowAll());
        assertEquals(0, sessionId(off, newSession), "no slots: the client fetches in full");
    }

    private static int sessionId(FetchHandler handler, FetchRequestData request) {
        FetchResponseData response = fetchWith(handler, (short) 16, request);
        assertEquals(Errors.NONE.code(), response.errorCode());
        assertEquals(1, partitions(response).size(), "a full answer");
        return response.sessionId();
    }

    private static FetchResponseData fetchWith(FetchHandler handler, short version, FetchRequestData request) {
        return (FetchResponseData) KafkaWire.sent(ApiKeys.FETCH, version, KafkaWire.await(handler.fetch(
                KafkaWire.request(ApiKeys.FETCH, version, request))));
    }

    @Test
    void aLongPollIsAnsweredWhenRecordsArrive() {
        cluster.createTopic("fetch-long-poll", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-long-poll", 0);
        cluster.produce(tp, batch("old"));
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        CompletableFuture<KafkaResponse> poll = apis.handle(KafkaWire.request(ApiKeys.FETCH, (short) 15,
                request(0, -1, 20_000, 1, topic((short) 15, tp.topic(), part(0, 1)))));
        assertFalse(poll.isDone(), "nothing to read yet: the fetch waits");
        cluster.produce(tp, batch("new"));
        await().atMost(Duration.ofSeconds(10)).until(poll::isDone);
        FetchResponseData response = (FetchResponseData) KafkaWire.sent(ApiKeys.FETCH, (short) 15, poll.join());
        assertEquals(List.of("new"), KafkaRecords.values(only(response).records()));
    }

    @Test
    void minBytesWaitsForMoreDataUntilMaxWait() {
        cluster.createTopic("fetch-min-bytes", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-min-bytes", 0);
        cluster.produce(tp, batch("small"));
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        long startNs = System.nanoTime();
        PartitionData waited = only(fetch(apis, (short) 11, request(0, -1, 400, ONE_MIB,
                topic((short) 11, tp.topic(), part(0, 0)))));
        long waitedMs = (System.nanoTime() - startNs) / 1_000_000;
        assertTrue(waitedMs >= 350, "less than min bytes: answered after max wait, not " + waitedMs + " ms");
        assertEquals(List.of("small"), KafkaRecords.values(waited.records()));
        startNs = System.nanoTime();
        only(fetch(apis, (short) 11, request(0, -1, 20_000, 1, topic((short) 11, tp.topic(), part(0, 0)))));
        long quickMs = (System.nanoTime() - startNs) / 1_000_000;
        assertTrue(quickMs < 10_000, "min bytes met: answered at once, not after " + quickMs + " ms");
        startNs = System.nanoTime();
        PartitionData nothing = only(fetch(apis, (short) 11, request(0, -1, 20_000, 0,
                topic((short) 11, tp.topic(), part(0, 1)))));
        long zeroMs = (System.nanoTime() - startNs) / 1_000_000;
        assertTrue(zeroMs < 10_000, "min bytes 0: answered at once, as Kafka does, not after " + zeroMs + " ms");
        assertEquals(List.of(), KafkaRecords.values(nothing.records()), "nothing past the log end yet");
    }

    @Test
    void maxBytesAcrossPartitionsStillReturnsTheFirstBatch() {
        Pair pair = onOneLeader("fetch-max-bytes", 1);
        TopicPartition a = pair.a();
        TopicPartition b = pair.b();
        cluster.produce(a, batch("a".repeat(1_000)));
        cluster.produce(a, batch("b".repeat(1_000)));
        cluster.produce(b, batch("c".repeat(1_000)));
        KafkaApis apis = cluster.apis(pair.leader());
        FetchRequestData request = request(0, -1, 0, 1, topic((short) 10, a.topic(), part(a.partition(), 0),
                part(b.partition(), 0)));
        request.setMaxBytes(1_500);
        Map<String, PartitionData> answer = partitions(fetch(apis, (short) 10, request));
        assertEquals(List.of("a".repeat(1_000)), KafkaRecords.values(answer.get(key(a)).records()),
                "whole batches only, the first one even past the limit");
        assertEquals(0, answer.get(key(b)).records().sizeInBytes(), "nothing left for b");
        FetchRequestData tiny = request(0, -1, 0, 1, topic((short) 10, b.topic(),
                part(b.partition(), 0).setPartitionMaxBytes(10)));
        assertEquals(1, KafkaRecords.values(only(fetch(apis, (short) 10, tiny)).records()).size(),
                "partition max bytes below the batch: the batch anyway");
    }

    /**
     * A consumer that read epoch E past where E ends in the leader's log is told where to truncate
     * (here it claims offsets the log never had; KafkaOffsetsHandlerTest has a real truncation
     * after a leader change). An epoch the log never had cannot be placed: OFFSET_OUT_OF_RANGE.
     */
    @Test
    void aConsumerAheadOfTheLeadersEpochIsToldWhereItEnds() {
        cluster.createTopic("fetch-diverging", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-diverging", 0);
        cluster.produce(tp, batch("a", "b"));
        int epoch = cluster.partition(tp).leaderEpoch();
        KafkaApis apis = cluster.apis(cluster.leader(tp));
        for (short version : new short[] {12, 18}) {
            PartitionData diverged = only(fetch(apis, version, request(0, -1, 5_000, 1, topic(version, tp.topic(),
                    part(0, 5).setLastFetchedEpoch(epoch).setCurrentLeaderEpoch(epoch)))));
            assertEquals(Errors.NONE.code(), diverged.errorCode());
            assertEquals(epoch, diverged.divergingEpoch().epoch());
            assertEquals(2, diverged.divergingEpoch().endOffset(), "epoch " + epoch + " ends at the log end");
            assertEquals(0, diverged.records().sizeInBytes());

            PartitionData unknown = only(fetch(apis, version, request(0, -1, 5_000, 1, topic(version, tp.topic(),
                    part(0, 2).setLastFetchedEpoch(epoch + 5)))));
            assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), unknown.errorCode());

            PartitionData inStep = only(fetch(apis, version, request(0, -1, 0, 1, topic(version, tp.topic(),
                    part(0, 1).setLastFetchedEpoch(epoch)))));
            assertEquals(-1, inStep.divergingEpoch().epoch(), "no divergence");
            assertEquals(List.of("a", "b"), KafkaRecords.values(inStep.records()), "the whole batch holding 1");
        }
    }

    @Test
    void readCommittedReadsUpToTheLastStableOffset() {
        cluster.createTopic("fetch-read-committed", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-read-committed", 0);
        cluster.produce(tp, batch("a", "b"));
        FetchRequestData request = request(0, -1, 0, 1, topic((short) 18, tp.topic(), part(0, 0)));
        request.setIsolationLevel((byte) 1);
        PartitionData p = only(fetch(cluster.apis(cluster.leader(tp)), (short) 18, request));
        assertEquals(List.of("a", "b"), KafkaRecords.values(p.records()));
        assertEquals(2, p.highWatermark());
        assertEquals(2, p.lastStableOffset());
        assertNotNull(p.abortedTransactions());
        assertTrue(p.abortedTransactions().isEmpty(), "no transactions, none aborted");
    }

    @Test
    void aFetchFromAReplicaIsRefused() {
        cluster.createTopic("fetch-replica", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-replica", 0);
        cluster.produce(tp, batch("a"));
        FetchHandler handler = handler(cluster.leader(tp));
        FetchRequestData old = request(0, 0, 0, 1, topic((short) 14, tp.topic(), part(0, 0))).setReplicaId(2);
        FetchResponseData v14 = fetchWith(handler, (short) 14, old);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), only(v14).errorCode());
        assertEquals(0, v14.sessionId());
        FetchRequestData v15 = request(0, 0, 0, 1, topic((short) 15, tp.topic(), part(0, 0)))
                .setReplicaState(new FetchRequestData.ReplicaState().setReplicaId(2).setReplicaEpoch(7));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), only(fetchWith(handler, (short) 15, v15)).errorCode());
        assertEquals(0, handler.sessions().size(), "a replica's fetch opens no session");
    }

    @Test
    void anUnknownTopicIdIsAnsweredAtOnce() {
        cluster.createTopic("fetch-unknown-id", 1, 1, Map.of());
        TopicPartition tp = new TopicPartition("fetch-unknown-id", 0);
        Uuid unknown = Uuid.randomUuid();
        FetchRequestData request = request(0, -1, 20_000, 1, topic((short) 13, tp.topic(), part(0, 0)),
                new FetchTopic().setTopicId(unknown).setPartitions(new ArrayList<>(List.of(part(0, 0)))));
        long startNs = System.nanoTime();
        FetchResponseData response = fetch(cluster.apis(cluster.leader(tp)), (short) 13, request);
        assertTrue((System.nanoTime() - startNs) / 1_000_000 < 10_000, "answered without waiting");
        for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
            short expected = t.topicId().equals(unknown) ? Errors.UNKNOWN_TOPIC_ID.code() : Errors.NONE.code();
            assertEquals(expected, t.partitions().get(0).errorCode(), t.toString());
        }
        assertEquals(2, response.responses().size());
    }

    @Test
    void aBrokerThatDoesNotLeadNamesTheLeader() {
        cluster.createTopic("fetch-not-leader", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("fetch-not-leader", 0);
        int leader = cluster.leader(tp);
        int epoch = cluster.partition(tp).leaderEpoch();
        KafkaApis other = cluster.apis(cluster.notLeader(tp));
        FetchResponseData v18 = fetch(other, (short) 18, request(0, -1, 0, 1, topic((short) 18, tp.topic(),
                part(0, 0))));
        PartitionData p = only(v18);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), p.errorCode());
        assertEquals(leader, p.currentLeader().leaderId());
        assertEquals(epoch, p.currentLeader().leaderEpoch());
        PartitionData v11 = only(fetch(other, (short) 11, request(0, -1, 0, 1, topic((short) 11, tp.topic(),
                part(0, 0)))));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), v11.errorCode());
        assertEquals(-1, v11.currentLeader().leaderId(), "no current leader before v12");
    }
}
