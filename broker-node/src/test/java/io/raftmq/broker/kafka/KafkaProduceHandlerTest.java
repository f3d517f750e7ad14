package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaRecords.batch;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.replication.ReplicaManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kafka Produce v3-13 against in-process brokers: acks 0, 1 and all; a broker that does not lead
 * naming the leader; topics by id; idempotent retries and gaps; what is refused with nothing
 * written (corrupt, empty, too large, internal topic, transactional, request-level errors). Every
 * answer is read back from the wire at the request's version.
 */
@ExtendWith(KafkaTestCluster.Resolver.class)
@Timeout(120)
class KafkaProduceHandlerTest {
    private static KafkaTestCluster cluster;

    @BeforeAll
    static void cluster(KafkaTestCluster shared) {
        cluster = shared;
    }

    /** One partition's batch in a request: by name below v13, by id from v13. */
    private record Part(String topic, int partition, MemoryRecords records) {}

    private static ProduceRequestData request(short version, String transactionalId, int acks, Part... parts) {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        for (Part part : parts) {
            TopicProduceData topic = version >= 13 ? new TopicProduceData().setTopicId(cluster.topicId(part.topic()))
                    : new TopicProduceData().setName(part.topic());
            topic.partitionData().add(new PartitionProduceData().setIndex(part.partition()).setRecords(part.records()));
            topics.add(topic);
        }
        return new ProduceRequestData().setTransactionalId(transactionalId).setAcks((short) acks).setTimeoutMs(10_000)
                .setTopicData(topics);
    }

    private static ProduceResponseData produce(int node, short version, ProduceRequestData request) {
        return KafkaWire.call(cluster.apis(node), ApiKeys.PRODUCE, version, request);
    }

    /** The answer of a one-partition produce. */
    private static PartitionProduceResponse produceOne(int node, short version, int acks, TopicPartition tp,
            MemoryRecords records) {
        ProduceResponseData response = produce(node, version, request(version, null, acks, new Part(tp.topic(),
                tp.partition(), records)));
        return only(response);
    }

    private static PartitionProduceResponse only(ProduceResponseData response) {
        List<PartitionProduceResponse> all = partitions(response);
        assertEquals(1, all.size(), response.toString());
        return all.get(0);
    }

    private static List<PartitionProduceResponse> partitions(ProduceResponseData response) {
        List<PartitionProduceResponse> all = new ArrayList<>();
        response.responses().forEach(t -> all.addAll(t.partitionResponses()));
        return all;
    }

    private static long latest(TopicPartition tp) {
        return cluster.api(cluster.leader(tp)).listOffset(tp, ReplicaManager.LATEST_TIMESTAMP, -1).offset();
    }

    private static TopicPartition topic(String name, int replicationFactor, Map<String, String> configs) {
        cluster.createTopic(name, 1, replicationFactor, configs);
        return new TopicPartition(name, 0);
    }

    @Test
    void acksOneAndAllAreAnsweredWithTheBaseOffsetAtEveryVersion() {
        TopicPartition tp = topic("produce-acks", 2, Map.of());
        int leader = cluster.leader(tp);
        PartitionProduceResponse v3 = produceOne(leader, (short) 3, 1, tp, batch("a", "b"));
        assertEquals(Errors.NONE.code(), v3.errorCode());
        assertEquals(0, v3.baseOffset());
        assertEquals(-1, v3.logAppendTimeMs(), "CreateTime topic");
        assertEquals(-1, v3.logStartOffset(), "a field since v5");
        PartitionProduceResponse v12 = produceOne(leader, (short) 12, -1, tp, batch("c"));
        assertEquals(Errors.NONE.code(), v12.errorCode(), v12.errorMessage());
        assertEquals(2, v12.baseOffset());
        assertNull(v12.errorMessage(), "no message on success");
        assertEquals(0, v12.logStartOffset());
        ProduceResponseData v13 = produce(leader, (short) 13, request((short) 13, null, -1,
                new Part(tp.topic(), 0, batch("d", "e", "f"))));
        assertEquals(cluster.topicId(tp.topic()), v13.responses().iterator().next().topicId(), "answered by id");
        assertEquals(3, only(v13).baseOffset());
        assertEquals(6, latest(tp), "acks=all: the high watermark covers every record");
    }

    @Test
    void aTopicIsWritableOnItsLeaderTheMomentCreateTopicsIsAnswered() {
        // CreateTopics is answered once the answering broker has applied the change to its
        // replicas; the leader may be another broker, still applying it: that one answers a
        // retriable NOT_LEADER_OR_FOLLOWER saying so (or, before its metadata has the topic,
        // UNKNOWN_TOPIC_OR_PARTITION), never one that names itself as the leader.
        for (int i = 0; i < 10; i++) {
            String name = "produce-at-once-" + i;
            int via = 1 + i % KafkaTestCluster.NODES;
            CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(30_000);
            create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(3)
                    .setReplicationFactor((short) 3));
            CreateTopicsResponseData created = KafkaWire.call(cluster.apis(via), ApiKeys.CREATE_TOPICS, (short) 7,
                    create);
            assertEquals(Errors.NONE.code(), created.topics().find(name).errorCode());
            for (int p = 0; p < 3; p++) {
                TopicPartition tp = new TopicPartition(name, p);
                int leader = cluster.api(via).image().topic(name).partition(p).leader();
                PartitionProduceResponse answer = produceOne(leader, (short) 12, -1, tp, batch("x"));
                if (leader == via) {
                    assertEquals(Errors.NONE.code(), answer.errorCode(), answer.errorMessage());
                } else if (answer.errorCode() == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                    assertTrue(answer.errorMessage().contains("becoming the leader"), answer.errorMessage());
                } else if (answer.errorCode() != Errors.NONE.code()) {
                    // A leader whose metadata does not have the topic yet: retriable, and names no leader.
                    assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), answer.errorCode(), answer.errorMessage());
                }
            }
        }
    }

    @Test
    void acksZeroIsNotAnsweredButAFailureClosesTheConnection() {
        TopicPartition tp = topic("produce-acks0", 2, Map.of());
        int leader = cluster.leader(tp);
        KafkaResponse ok = KafkaWire.await(cluster.apis(leader).handle(KafkaWire.request(ApiKeys.PRODUCE,
                (short) 9, request((short) 9, null, 0, new Part(tp.topic(), 0, batch("x", "y"))))));
        assertSame(KafkaResponse.NO_RESPONSE, ok);
        await().atMost(Duration.ofSeconds(10)).until(() -> latest(tp) == 2);

        KafkaResponse refused = KafkaWire.await(cluster.apis(cluster.notLeader(tp)).handle(KafkaWire.request(
                ApiKeys.PRODUCE, (short) 9, request((short) 9, null, 0, new Part(tp.topic(), 0, batch("z"))))));
        KafkaResponse.Close close = assertInstanceOf(KafkaResponse.Close.class, refused);
        assertTrue(close.reason().contains("NOT_LEADER_OR_FOLLOWER"), close.reason());
        assertEquals(2, latest(tp));
    }

    @Test
    void aBrokerThatDoesNotLeadNamesTheLeaderFromV10() {
        TopicPartition tp = topic("produce-not-leader", 2, Map.of());
        int leader = cluster.leader(tp);
        int other = cluster.notLeader(tp);
        int epoch = cluster.partition(tp).leaderEpoch();
        for (short version : new short[] {10, 13}) {
            ProduceResponseData response = produce(other, version, request(version, null, 1,
                    new Part(tp.topic(), 0, batch("v" + version))));
            PartitionProduceResponse p = only(response);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), p.errorCode());
            assertEquals(leader, p.currentLeader().leaderId());
            assertEquals(epoch, p.currentLeader().leaderEpoch());
            assertTrue(p.errorMessage().contains("the leader is broker " + leader), p.errorMessage());
            assertEquals(expectedEndpoints(cluster.api(other).image(), leader), response.nodeEndpoints().size(),
                    "the leader's Kafka endpoint when it has one (none here: no Kafka listener)");
        }
        PartitionProduceResponse v9 = produceOne(other, (short) 9, 1, tp, batch("v9"));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), v9.errorCode());
        assertEquals(-1, v9.currentLeader().leaderId(), "no current leader before v10");
        PartitionProduceResponse v3 = produceOne(other, (short) 3, 1, tp, batch("v3"));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), v3.errorCode());
        assertNull(v3.errorMessage(), "no message field before v8");
        assertEquals(0, latest(tp));
    }

    private static int expectedEndpoints(MetadataImage image, int leader) {
        return KafkaIds.kafkaEndpoint(image.broker(leader)).isPresent() ? 1 : 0;
    }

    @Test
    void anUnknownTopicIdIsRefusedAndTheOtherTopicIsWritten() {
        TopicPartition tp = topic("produce-by-id", 1, Map.of());
        ProduceRequestData request = request((short) 13, null, 1, new Part(tp.topic(), 0, batch("known")));
        Uuid unknown = Uuid.randomUuid();
        TopicProduceData missing = new TopicProduceData().setTopicId(unknown);
        missing.partitionData().add(new PartitionProduceData().setIndex(0).setRecords(batch("lost")));
        request.topicData().add(missing);
        ProduceResponseData response = produce(cluster.leader(tp), (short) 13, request);
        for (ProduceResponseData.TopicProduceResponse t : response.responses()) {
            PartitionProduceResponse p = t.partitionResponses().get(0);
            if (t.topicId().equals(unknown)) {
                assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), p.errorCode());
                assertTrue(p.errorMessage().contains(unknown.toString()), p.errorMessage());
            } else {
                assertEquals(Errors.NONE.code(), p.errorCode(), p.errorMessage());
                assertEquals(0, p.baseOffset());
            }
        }
        assertEquals(2, response.responses().size());
        assertEquals(1, latest(tp));
    }

    @Test
    void anIdempotentRetryIsAnsweredWithTheOriginalOffsetAndAGapIsRefused() {
        TopicPartition tp = topic("produce-idempotent", 2, Map.of());
        int leader = cluster.leader(tp);
        InitProducerIdResponseData id = KafkaWire.call(cluster.apis(leader), ApiKeys.INIT_PRODUCER_ID, (short) 4,
                new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000));
        assertEquals(Errors.NONE.code(), id.errorCode());
        long pid = id.producerId();
        short epoch = id.producerEpoch();
        produceOne(leader, (short) 11, -1, tp, batch("before"));
        MemoryRecords first = KafkaRecords.idempotent(pid, epoch, 0, "a", "b", "c");
        PartitionProduceResponse sent = produceOne(leader, (short) 11, -1, tp, first);
        assertEquals(Errors.NONE.code(), sent.errorCode(), sent.errorMessage());
        assertEquals(1, sent.baseOffset());
        PartitionProduceResponse retried = produceOne(leader, (short) 11, -1, tp, first);
        assertEquals(Errors.NONE.code(), retried.errorCode(), retried.errorMessage());
        assertEquals(1, retried.baseOffset(), "the original offset; stored once");
        PartitionProduceResponse gap = produceOne(leader, (short) 11, -1, tp,
                KafkaRecords.idempotent(pid, epoch, 5, "d"));
        assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), gap.errorCode());
        assertTrue(gap.errorMessage().contains(Long.toString(pid)), gap.errorMessage());
        assertEquals(4, latest(tp));
    }

    @Test
    void zstdIsRefusedBelowProduceV7AsKafkaDoes() {
        TopicPartition tp = topic("produce-zstd", 1, Map.of());
        int leader = cluster.leader(tp);
        MemoryRecords zstd = KafkaRecords.compressed(Compression.zstd().build(), "z1", "z2");
        PartitionProduceResponse v6 = produceOne(leader, (short) 6, 1, tp, zstd);
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), v6.errorCode());
        assertEquals(0, latest(tp), "nothing stored");
        PartitionProduceResponse v3lz4 = produceOne(leader, (short) 3, 1, tp,
                KafkaRecords.compressed(Compression.lz4().build(), "l1"));
        assertEquals(Errors.NONE.code(), v3lz4.errorCode(), "other codecs at any version");
        PartitionProduceResponse v7 = produceOne(leader, (short) 7, 1, tp,
                KafkaRecords.compressed(Compression.zstd().build(), "z1", "z2"));
        assertEquals(Errors.NONE.code(), v7.errorCode());
        assertEquals(1, v7.baseOffset());
    }

    @Test
    void timestampsFarAheadOfTheLeadersClockAreRefused() {
        TopicPartition tp = topic("produce-future", 1, Map.of());
        int leader = cluster.leader(tp);
        long now = System.currentTimeMillis();
        PartitionProduceResponse future = produceOne(leader, (short) 12, 1, tp,
                KafkaRecords.timed(now, now + 7L * 24 * 3600_000));
        assertEquals(Errors.INVALID_TIMESTAMP.code(), future.errorCode());
        assertTrue(future.errorMessage().contains("message.timestamp.after.max.ms"), future.errorMessage());
        assertEquals(0, latest(tp), "nothing stored");
        TopicPartition lenient = topic("produce-future-allowed", 1,
                Map.of("message.timestamp.after.max.ms", Long.toString(30L * 24 * 3600_000)));
        assertEquals(Errors.NONE.code(), produceOne(cluster.leader(lenient), (short) 12, 1, lenient,
                KafkaRecords.timed(now, now + 7L * 24 * 3600_000)).errorCode(), "the topic allows it");
    }

    @Test
    void corruptAndEmptyBatchesAreRefusedWithNothingStored() {
        TopicPartition tp = topic("produce-corrupt", 1, Map.of());
        int leader = cluster.leader(tp);
        PartitionProduceResponse corrupt = produceOne(leader, (short) 9, 1, tp,
                KafkaRecords.corruptCrc(batch("a", "b")));
        assertEquals(Errors.CORRUPT_MESSAGE.code(), corrupt.errorCode());
        assertTrue(corrupt.errorMessage().contains("corrupt"), corrupt.errorMessage());
        assertEquals(Errors.INVALID_RECORD.code(), produceOne(leader, (short) 9, 1, tp, MemoryRecords.EMPTY)
                .errorCode());
        assertEquals(Errors.INVALID_RECORD.code(), produceOne(leader, (short) 9, 1, tp, null).errorCode());
        assertEquals(0, latest(tp));
        assertEquals(0, produceOne(leader, (short) 9, 1, tp, batch("fine")).baseOffset(), "nothing was stored");
    }

    @Test
    void aBatchLargerThanMaxMessageBytesIsRefused() {
        TopicPartition tp = topic("produce-large", 1, Map.of("max.message.bytes", "1024"));
        PartitionProduceResponse p = produceOne(cluster.leader(tp), (short) 13, 1, tp, batch("x".repeat(2_000)));
        assertEquals(Errors.MESSAGE_TOO_LARGE.code(), p.errorCode());
        assertTrue(p.errorMessage().contains("1024"), p.errorMessage());
        assertEquals(0, latest(tp));
    }

    @Test
    void theInternalTopicIsRefused() {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1_000);
        TopicProduceData topic = new TopicProduceData().setName("__consumer_offsets");
        topic.partitionData().add(new PartitionProduceData().setIndex(0).setRecords(batch("x")));
        request.topicData().add(topic);
        PartitionProduceResponse p = only(produce(1, (short) 12, request));
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), p.errorCode());
    }

    @Test
    void aTransactionalProduceIsRefusedWholeWithNothingWritten() {
        cluster.createTopic("produce-txn", 2, 1, Map.of());
        TopicPartition p0 = new TopicPartition("produce-txn", 0);
        TopicPartition p1 = new TopicPartition("produce-txn", 1);
        int leader = cluster.leader(p0);
        ProduceResponseData byId = produce(leader, (short) 12, request((short) 12, "txn-1", 1,
                new Part(p0.topic(), 0, batch("a")), new Part(p1.topic(), 1, batch("b"))));
        for (PartitionProduceResponse p : partitions(byId)) {
            assertEquals(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code(), p.errorCode());
            assertTrue(p.errorMessage().contains("txn-1"), p.errorMessage());
        }
        assertEquals(2, partitions(byId).size());
        PartitionProduceResponse batchOnly = produceOne(leader, (short) 12, 1, p0,
                KafkaRecords.transactional(1, (short) 0, 0, "t"));
        assertEquals(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code(), batchOnly.errorCode());
        assertEquals(0, latest(p0));
        assertEquals(0, latest(p1));
    }

    @Test
    void aRequestLevelRefusalIsAnsweredOnEveryPartition() {
        TopicPartition tp = topic("produce-request-error", 1, Map.of());
        int leader = cluster.leader(tp);
        PartitionProduceResponse badAcks = produceOne(leader, (short) 8, 2, tp, batch("a"));
        assertEquals(Errors.INVALID_REQUIRED_ACKS.code(), badAcks.errorCode());
        ProduceResponseData twice = produce(leader, (short) 8, request((short) 8, null, 1,
                new Part(tp.topic(), 0, batch("b")), new Part(tp.topic(), 0, batch("c"))));
        assertEquals(2, partitions(twice).size());
        for (PartitionProduceResponse p : partitions(twice)) {
            assertEquals(Errors.INVALID_REQUEST.code(), p.errorCode());
            assertTrue(p.errorMessage().contains("twice"), p.errorMessage());
        }
        assertEquals(0, latest(tp));
    }
}
