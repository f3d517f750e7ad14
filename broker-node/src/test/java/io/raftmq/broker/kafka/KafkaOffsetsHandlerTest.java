package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaRecords.batch;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kafka ListOffsets v1-11, OffsetForLeaderEpoch v2-4 and InitProducerId v0-6 against in-process
 * brokers: every special timestamp and lookups by time, per-version support, duplicates, replicas
 * refused; epoch ends before and after a real leader change, with the diverging epoch a consumer
 * that read the old epoch past its end is told; producer ids new and bumped, transactions refused.
 * Every answer is read back from the wire at the request's version.
 */
@ExtendWith(KafkaTestCluster.Resolver.class)
@Timeout(120)
class KafkaOffsetsHandlerTest {
    private static KafkaTestCluster cluster;

    @BeforeAll
    static void cluster(KafkaTestCluster shared) {
        cluster = shared;
    }

    private static ListOffsetsRequestData listRequest(TopicPartition tp, long... timestamps) {
        List<ListOffsetsPartition> partitions = new ArrayList<>();
        for (long ts : timestamps) {
            partitions.add(new ListOffsetsPartition().setPartitionIndex(tp.partition()).setTimestamp(ts));
        }
        return new ListOffsetsRequestData().setReplicaId(-1).setTopics(new ArrayList<>(List.of(
                new ListOffsetsTopic().setName(tp.topic()).setPartitions(partitions))));
    }

    private static List<ListOffsetsPartitionResponse> list(int node, short version, ListOffsetsRequestData request) {
        ListOffsetsResponseData response = KafkaWire.call(cluster.apis(node), ApiKeys.LIST_OFFSETS, version, request);
        assertEquals(1, response.topics().size());
        return response.topics().get(0).partitions();
    }

    /** The answer for one timestamp, at {@code version}, from the leader. */
    private static ListOffsetsPartitionResponse listOne(TopicPartition tp, short version, long timestamp) {
        List<ListOffsetsPartitionResponse> all = list(cluster.leader(tp), version, listRequest(tp, timestamp));
        assertEquals(1, all.size());
        return all.get(0);
    }

    private static void assertFound(ListOffsetsPartitionResponse r, long offset, long timestamp, int leaderEpoch) {
        assertEquals(Errors.NONE.code(), r.errorCode(), r.toString());
        assertEquals(offset, r.offset(), r.toString());
        assertEquals(timestamp, r.timestamp(), r.toString());
        assertEquals(leaderEpoch, r.leaderEpoch(), r.toString());
    }

    @Test
    void everySpecialTimestampAndLookupsByTime() {
        cluster.createTopic("offsets-list", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("offsets-list", 0);
        cluster.produce(tp, KafkaRecords.timed(1_000, 5_000, 3_000));
        cluster.produce(tp, KafkaRecords.timed(4_000));
        int epoch = cluster.partition(tp).leaderEpoch();
        short v11 = 11;
        assertFound(listOne(tp, v11, -1), 4, -1, epoch);
        assertFound(listOne(tp, v11, -2), 0, -1, epoch);
        assertFound(listOne(tp, v11, -3), 1, 5_000, epoch);
        assertFound(listOne(tp, v11, -4), 0, -1, epoch);
        assertFound(listOne(tp, v11, -5), -1, -1, -1);
        assertFound(listOne(tp, v11, -6), -1, -1, -1);
        assertFound(listOne(tp, v11, 2_000), 1, 5_000, epoch);
        assertFound(listOne(tp, v11, 4_000), 1, 5_000, epoch);
        assertFound(listOne(tp, v11, 6_000), -1, -1, -1);

        // Versions: v1 has no leader epoch and only -1/-2; each later special from its version on.
        assertFound(listOne(tp, (short) 1, -1), 4, -1, -1);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), listOne(tp, (short) 1, -3).errorCode());
        assertFound(listOne(tp, (short) 7, -3), 1, 5_000, epoch);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), listOne(tp, (short) 7, -4).errorCode());
        assertFound(listOne(tp, (short) 8, -4), 0, -1, epoch);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), listOne(tp, (short) 8, -5).errorCode());
        assertFound(listOne(tp, (short) 9, -5), -1, -1, -1);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), listOne(tp, (short) 10, -6).errorCode());

        ListOffsetsRequestData committed = listRequest(tp, -1).setIsolationLevel((byte) 1);
        assertFound(list(cluster.leader(tp), (short) 5, committed).get(0), 4, -1, epoch);
    }

    @Test
    void duplicatesReplicasAndNonLeadersAreRefused() {
        cluster.createTopic("offsets-refused", 1, 2, Map.of());
        TopicPartition tp = new TopicPartition("offsets-refused", 0);
        int leader = cluster.leader(tp);
        List<ListOffsetsPartitionResponse> twice = list(leader, (short) 6, listRequest(tp, -1, -2));
        assertEquals(2, twice.size());
        twice.forEach(r -> assertEquals(Errors.INVALID_REQUEST.code(), r.errorCode()));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(),
                list(leader, (short) 6, listRequest(tp, -1).setReplicaId(2)).get(0).errorCode());
        assertEquals(Errors.NONE.code(), list(leader, (short) 6, listRequest(tp, -1).setReplicaId(-2)).get(0)
                .errorCode(), "the debugging id is answered as a consumer");
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), list(cluster.notLeader(tp), (short) 6,
                listRequest(tp, -1)).get(0).errorCode());
    }

    private static OffsetForLeaderEpochRequestData epochRequest(TopicPartition tp, int currentLeaderEpoch,
            int leaderEpoch) {
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
        topics.add(new OffsetForLeaderTopic().setTopic(tp.topic()).setPartitions(new ArrayList<>(List.of(
                new OffsetForLeaderPartition().setPartition(tp.partition()).setCurrentLeaderEpoch(currentLeaderEpoch)
                        .setLeaderEpoch(leaderEpoch)))));
        return new OffsetForLeaderEpochRequestData().setTopics(topics);
    }

    private static EpochEndOffset epochEnd(int node, short version, OffsetForLeaderEpochRequestData request) {
        OffsetForLeaderEpochResponseData response = KafkaWire.call(cluster.apis(node), ApiKeys.OFFSET_FOR_LEADER_EPOCH,
                version, request);
        return response.topics().iterator().next().partitions().get(0);
    }

    private static void assertEpochEnd(EpochEndOffset r, int epoch, long endOffset) {
        assertEquals(Errors.NONE.code(), r.errorCode(), r.toString());
        assertEquals(epoch, r.leaderEpoch(), r.toString());
        assertEquals(endOffset, r.endOffset(), r.toString());
    }

    /**
     * Leadership moves (the leader's node stops cleanly, and starts again at the end): the new
     * leader knows where the old epoch ended, fences the old epoch, and tells a consumer that read
     * the old epoch past its end where to truncate.
     */
    @Test
    void epochEndsBeforeAndAfterALeaderChange() throws Exception {
        cluster.createTopic("offsets-epochs", 1, KafkaTestCluster.NODES, Map.of());
        TopicPartition tp = new TopicPartition("offsets-epochs", 0);
        cluster.produce(tp, batch("a", "b", "c"));
        int first = cluster.leader(tp);
        int oldEpoch = cluster.partition(tp).leaderEpoch();
        assertEpochEnd(epochEnd(first, (short) 2, epochRequest(tp, oldEpoch, oldEpoch)), oldEpoch, 3);
        assertEpochEnd(epochEnd(first, (short) 4, epochRequest(tp, -1, oldEpoch)), oldEpoch, 3);

        cluster.cluster().stop(first);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                    .until(() -> cluster.leader(tp) != first);
            cluster.awaitServed(tp);
            int leader = cluster.leader(tp);
            int newEpoch = cluster.partition(tp).leaderEpoch();
            assertTrue(newEpoch > oldEpoch, newEpoch + " after " + oldEpoch);
            cluster.produce(tp, batch("d", "e"));

            assertEpochEnd(epochEnd(leader, (short) 4, epochRequest(tp, newEpoch, oldEpoch)), oldEpoch, 3);
            assertEpochEnd(epochEnd(leader, (short) 3, epochRequest(tp, newEpoch, newEpoch)), newEpoch, 5);
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(),
                    epochEnd(leader, (short) 4, epochRequest(tp, oldEpoch, oldEpoch)).errorCode());
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), epochEnd(leader, (short) 3,
                    epochRequest(tp, newEpoch, oldEpoch).setReplicaId(first)).errorCode(), "a replica is refused");

            // A consumer that read epoch oldEpoch up to offset 4 (records the new leader never had).
            FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopicId(cluster.topicId(tp.topic()))
                    .setPartitions(new ArrayList<>(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                            .setFetchOffset(4).setCurrentLeaderEpoch(newEpoch).setLastFetchedEpoch(oldEpoch)
                            .setPartitionMaxBytes(1 << 20))));
            FetchResponseData fetched = KafkaWire.call(cluster.apis(leader), ApiKeys.FETCH, (short) 17,
                    new FetchRequestData().setMaxWaitMs(5_000).setMinBytes(1).setSessionEpoch(-1)
                            .setTopics(new ArrayList<>(List.of(topic))));
            FetchResponseData.PartitionData p = fetched.responses().get(0).partitions().get(0);
            assertEquals(Errors.NONE.code(), p.errorCode());
            assertEquals(oldEpoch, p.divergingEpoch().epoch());
            assertEquals(3, p.divergingEpoch().endOffset(), "truncate to where the old epoch ended");

            assertFound(listOne(tp, (short) 11, -1), 5, -1, newEpoch);
        } finally {
            cluster.cluster().start(first);
            cluster.cluster().awaitBrokersUnfenced(Duration.ofSeconds(60));
        }
    }

    private static InitProducerIdResponseData initProducerId(short version, InitProducerIdRequestData request) {
        return KafkaWire.call(cluster.apis(1), ApiKeys.INIT_PRODUCER_ID, version, request);
    }

    @Test
    void producerIdsAreAlwaysNewAndTransactionsRefused() {
        InitProducerIdResponseData fresh = initProducerId((short) 0, new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000));
        assertEquals(Errors.NONE.code(), fresh.errorCode());
        assertTrue(fresh.producerId() >= 0);
        assertEquals(0, fresh.producerEpoch());
        InitProducerIdResponseData other = initProducerId((short) 2, new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000));
        assertNotEquals(fresh.producerId(), other.producerId());

        // As Kafka: a named id and epoch are ignored; the answer is a new id at epoch 0.
        InitProducerIdResponseData named = initProducerId((short) 6, new InitProducerIdRequestData()
                .setTransactionalId(null).setProducerId(fresh.producerId()).setProducerEpoch((short) 0));
        assertEquals(Errors.NONE.code(), named.errorCode());
        assertNotEquals(fresh.producerId(), named.producerId());
        assertEquals(0, named.producerEpoch());
        assertEquals(-1, named.ongoingTxnProducerId());

        InitProducerIdResponseData transactional = initProducerId((short) 4, new InitProducerIdRequestData()
                .setTransactionalId("txn").setTransactionTimeoutMs(60_000));
        assertEquals(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code(), transactional.errorCode());
        assertEquals(-1, transactional.producerId());
        InitProducerIdResponseData twoPhase = initProducerId((short) 6, new InitProducerIdRequestData()
                .setTransactionalId(null).setEnable2Pc(true));
        assertEquals(Errors.INVALID_REQUEST.code(), twoPhase.errorCode());
        assertEquals(-1, twoPhase.producerEpoch());
    }
}
