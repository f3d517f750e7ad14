package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectionResult;
import io.raftmq.protocol.controller.ElectionTopic;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;

/**
 * ElectLeaders (v0-2): the request translated to an {@link Election} for the controller (through
 * {@link BrokerApi}) and its {@link ElectionAnswer} back. The controller decides every partition
 * (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, and, when
 * asked for every partition, which ones it reports); the wait is bounded by the request's
 * timeoutMs.
 *
 * <p>Stateless apart from the API; called on connection event loops, never blocks.
 */
final class LeaderElectionHandler {
    /**
     * What the controller is asked.
     *
     * @param type PREFERRED (the first replica, if in the ISR and alive) or UNCLEAN (any live
     *     replica of a leaderless partition)
     * @param partitions partition ids per topic, in request order; null: every partition
     */
    record Election(ElectionType type, Map<String, List<Integer>> partitions) {}

    /**
     * What the controller answered: a request-level error (then {@code results} is empty), or an
     * outcome per partition, in the order to report them.
     */
    record ElectionAnswer(ApiError error, Map<TopicPartition, ApiError> results) {}

    private final BrokerApi api;
    private final KafkaAuthorization authz;

    LeaderElectionHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    CompletableFuture<KafkaResponse> electLeaders(KafkaRequest request) {
        ElectLeadersRequestData data = (ElectLeadersRequestData) request.body();
        short version = request.apiVersion();
        if (!authz.rules().mayElectLeaders(caller(request))) {
            // As Kafka: ALTER on the cluster, else the error on every partition named.
            return CompletableFuture.completedFuture(KafkaResponse.send(response(version, data, new ElectionAnswer(
                    KafkaAuthorization.clusterDenied(request, AclOperation.ALTER), Map.of()))));
        }
        ElectionType type;
        try {
            type = version == 0 ? ElectionType.PREFERRED : ElectionType.valueOf(data.electionType());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(KafkaResponse.send(response(version, data, new ElectionAnswer(
                    ApiError.of(ErrorCode.INVALID_REQUEST, "unknown election type %d; 0 (preferred) or 1 (unclean)",
                            data.electionType()), Map.of()))));
        }
        Map<String, List<Integer>> partitions = null;
        if (data.topicPartitions() != null) {
            partitions = new LinkedHashMap<>();
            for (TopicPartitions t : data.topicPartitions()) {
                partitions.computeIfAbsent(t.topic(), n -> new ArrayList<>()).addAll(t.partitions());
            }
        }
        Election election = new Election(type, partitions);
        return request.onLoop(TopicAdminHandler.within(elect(election), data.timeoutMs(),
                new ElectionAnswer(TopicAdminHandler.timedOut(data.timeoutMs()), Map.of())),
                answer -> KafkaResponse.send(response(version, data, answer)));
    }

    /** Asks the controller (through the broker API) and maps its answer, in the order it reports. */
    private CompletableFuture<ElectionAnswer> elect(Election election) {
        ElectLeadersRequest.Builder forward = ElectLeadersRequest.newBuilder()
                .setElectionType(election.type() == ElectionType.UNCLEAN ? ElectLeadersRequest.ElectionType.UNCLEAN
                        : ElectLeadersRequest.ElectionType.PREFERRED);
        if (election.partitions() != null) {
            election.partitions().forEach((topic, ids) -> forward.addTopics(ElectionTopic.newBuilder()
                    .setTopic(topic).addAllPartitionIds(ids)));
        }
        return api.admin().electLeaders(forward.build()).thenApply(r -> {
            Map<TopicPartition, ApiError> results = new LinkedHashMap<>();
            for (ElectionResult result : r.getResultsList()) {
                results.put(new TopicPartition(result.getTopic(), result.getPartitionId()),
                        ApiError.fromProto(result.getError()));
            }
            return new ElectionAnswer(ApiError.fromProto(r.getError()), results);
        });
    }

    /**
     * The Kafka answer at {@code version}. A request-level error goes in the top-level error code
     * (v1+) and, as Kafka's error response does, on every partition the request named.
     */
    static ElectLeadersResponseData response(short version, ElectLeadersRequestData data, ElectionAnswer answer) {
        ElectLeadersResponseData response = new ElectLeadersResponseData();
        Map<String, ReplicaElectionResult> byTopic = new LinkedHashMap<>();
        if (answer.error().isFailure()) {
            if (version >= 1) {
                response.setErrorCode(KafkaErrors.code(answer.error()));
            }
            if (data.topicPartitions() != null) {
                for (TopicPartitions t : data.topicPartitions()) {
                    for (int partition : t.partitions()) {
                        result(byTopic, t.topic()).partitionResult().add(partitionResult(partition, answer.error()));
                    }
                }
            }
        } else {
            answer.results().forEach((tp, error) ->
                    result(byTopic, tp.topic()).partitionResult().add(partitionResult(tp.partition(), error)));
        }
        response.setReplicaElectionResults(new ArrayList<>(byTopic.values()));
        return response;
    }

    private static ReplicaElectionResult result(Map<String, ReplicaElectionResult> byTopic, String topic) {
        return byTopic.computeIfAbsent(topic, t -> new ReplicaElectionResult().setTopic(t));
    }

    private static PartitionResult partitionResult(int partition, ApiError error) {
        return new PartitionResult()
                .setPartitionId(partition)
                .setErrorCode(KafkaErrors.code(error))
                .setErrorMessage(KafkaErrors.message(error));
    }
}
