package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/**
 * ElectLeaders' answer translation at each version (elections against a live controller are tested
 * in {@link KafkaTopicAdminHandlerTest}).
 */
class LeaderElectionHandlerTest {

    private static ElectLeadersRequestData request(String topic, Integer... partitions) {
        ElectLeadersRequestData data = new ElectLeadersRequestData();
        data.topicPartitions().add(new ElectLeadersRequestData.TopicPartitions().setTopic(topic)
                .setPartitions(List.of(partitions)));
        return data;
    }

    private static ElectLeadersResponseData answer(short version, ElectLeadersRequestData request,
            LeaderElectionHandler.ElectionAnswer answer) {
        return (ElectLeadersResponseData) KafkaWire.onTheWire(LeaderElectionHandler.response(version, request, answer),
                version);
    }

    @Test
    void perPartitionOutcomesAreGroupedByTopicInTheAnswersOrder() {
        Map<TopicPartition, ApiError> results = new LinkedHashMap<>();
        results.put(new TopicPartition("a", 1), ApiError.NONE);
        results.put(new TopicPartition("b", 0), ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no topic b"));
        results.put(new TopicPartition("a", 0), ApiError.NONE);
        for (short version = 0; version <= 2; version++) {
            ElectLeadersResponseData r = answer(version, request("a", 0, 1),
                    new LeaderElectionHandler.ElectionAnswer(ApiError.NONE, results));
            assertEquals(Errors.NONE.code(), r.errorCode());
            List<ReplicaElectionResult> topics = r.replicaElectionResults();
            assertEquals(List.of("a", "b"), topics.stream().map(ReplicaElectionResult::topic).toList());
            assertEquals(List.of(1, 0), topics.get(0).partitionResult().stream()
                    .map(ElectLeadersResponseData.PartitionResult::partitionId).toList());
            assertNull(topics.get(0).partitionResult().get(0).errorMessage());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), topics.get(1).partitionResult().get(0).errorCode());
            assertEquals("no topic b", topics.get(1).partitionResult().get(0).errorMessage());
        }
    }

    @Test
    void aRequestLevelErrorIsTopLevelFromV1AndOnEveryNamedPartition() {
        ApiError refused = ApiError.of(ErrorCode.INVALID_REQUEST, "refused");
        ElectLeadersResponseData v0 = answer((short) 0, request("a", 0, 1),
                new LeaderElectionHandler.ElectionAnswer(refused, Map.of()));
        assertEquals(2, v0.replicaElectionResults().get(0).partitionResult().size());
        assertTrue(v0.replicaElectionResults().get(0).partitionResult().stream()
                .allMatch(p -> p.errorCode() == Errors.INVALID_REQUEST.code()));
        ElectLeadersResponseData v2 = answer((short) 2, new ElectLeadersRequestData().setTopicPartitions(null),
                new LeaderElectionHandler.ElectionAnswer(refused, Map.of()));
        assertEquals(Errors.INVALID_REQUEST.code(), v2.errorCode());
        assertTrue(v2.replicaElectionResults().isEmpty());
    }
}
