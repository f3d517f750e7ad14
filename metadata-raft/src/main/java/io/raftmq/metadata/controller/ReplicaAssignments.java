package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Manual replica assignments (kafka-topics {@code --replica-assignment}, Kafka's {@code
 * NewTopic(name, assignments)} and {@code NewPartitions.increaseTo(n, assignments)}), checked with
 * Kafka's rules (ReplicationControlManager.createTopic / createPartitions):
 *
 * <ul>
 *   <li>a new topic with an assignment gives neither num_partitions nor replication_factor
 *       (INVALID_REQUEST); its partition indices are 0..n-1, each exactly once;
 *   <li>new partitions of an existing topic: exactly one list per new partition;
 *   <li>every list is non-empty, names no broker twice, and has as many replicas as every other
 *       list of the topic (for new partitions: the topic's replication factor);
 *   <li>every broker listed is registered, and at least one per partition is eligible (unfenced,
 *       not shutting down) to lead it.
 * </ul>
 *
 * All but the first rule fail with INVALID_REPLICA_ASSIGNMENT; every error names the values. Pure
 * functions of the image and the request.
 */
final class ReplicaAssignments {
    private ReplicaAssignments() {}

    /**
     * The replica lists of a new topic's manual assignment, in partition order, once {@link
     * #validateNewTopic} accepted it; null when the topic has none.
     */
    static List<List<Integer>> ordered(CreatableTopic topic) {
        if (topic.getAssignmentsCount() == 0) {
            return null;
        }
        List<List<Integer>> out = new ArrayList<>(topic.getAssignmentsCount());
        for (int p = 0; p < topic.getAssignmentsCount(); p++) {
            out.add(null);
        }
        for (CreatableReplicaAssignment a : topic.getAssignmentsList()) {
            out.set(a.getPartitionIndex(), List.copyOf(a.getBrokerIdsList()));
        }
        return out;
    }

    /** Checks the manual assignment of a new topic that has one. */
    static ApiError validateNewTopic(MetadataImage image, CreatableTopic topic) {
        String name = topic.getName();
        if (topic.hasNumPartitions() || topic.hasReplicationFactor()) {
            List<String> given = new ArrayList<>();
            if (topic.hasNumPartitions()) {
                given.add("num_partitions " + topic.getNumPartitions());
            }
            if (topic.hasReplicationFactor()) {
                given.add("replication_factor " + topic.getReplicationFactor());
            }
            return ApiError.of(ErrorCode.INVALID_REQUEST, "topic '%s' has a replica assignment, so num_partitions and"
                    + " replication_factor must be absent (the assignment sets both); the request also gives %s",
                    name, String.join(" and ", given));
        }
        int partitions = topic.getAssignmentsCount();
        ApiError countError = TopicDecisions.validatePartitionCount(name, partitions);
        if (countError.isFailure()) {
            return countError;
        }
        Set<Integer> seen = new HashSet<>();
        for (CreatableReplicaAssignment a : topic.getAssignmentsList()) {
            int index = a.getPartitionIndex();
            if (index < 0 || index >= partitions) {
                return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "topic '%s' assigns replicas to partition"
                        + " %d, but with %d assignments the partitions are 0..%d, each exactly once", name, index,
                        partitions, partitions - 1);
            }
            if (!seen.add(index)) {
                return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "topic '%s' assigns replicas to partition"
                        + " %d more than once", name, index);
            }
        }
        List<List<Integer>> ordered = ordered(topic);
        int replicationFactor = ordered.get(0).size();
        for (int p = 0; p < partitions; p++) {
            ApiError error = validateReplicas(image, name, p, ordered.get(p), replicationFactor,
                    "partition 0 has " + replicationFactor);
            if (error.isFailure()) {
                return error;
            }
        }
        return ApiError.NONE;
    }

    /** Checks the manual assignment of new partitions of {@code topic}; {@code wanted} adds some. */
    static ApiError validateNewPartitions(MetadataImage image, TopicImage topic, CreatePartitionsTopic wanted) {
        int added = wanted.getCount() - topic.numPartitions();
        if (wanted.getAssignmentsCount() != added) {
            return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "topic '%s' goes from %d to %d partitions (%d"
                    + " new), but the request gives %d replica lists", topic.name(), topic.numPartitions(),
                    wanted.getCount(), added, wanted.getAssignmentsCount());
        }
        for (int i = 0; i < added; i++) {
            ApiError error = validateReplicas(image, topic.name(), topic.numPartitions() + i,
                    wanted.getAssignments(i).getBrokerIdsList(), topic.replicationFactor(),
                    "the topic's replication factor is " + topic.replicationFactor());
            if (error.isFailure()) {
                return error;
            }
        }
        return ApiError.NONE;
    }

    /**
     * One manually assigned replica list: non-empty, no broker twice, {@code replicationFactor}
     * long (else the error says {@code expected}), registered brokers only, one of them eligible.
     */
    private static ApiError validateReplicas(MetadataImage image, String topic, int partitionId,
            List<Integer> replicas, int replicationFactor, String expected) {
        if (replicas.isEmpty()) {
            return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partition %d of topic '%s' has an empty replica"
                    + " list", partitionId, topic);
        }
        Set<Integer> distinct = new HashSet<>();
        for (int broker : replicas) {
            if (!distinct.add(broker)) {
                return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partition %d of topic '%s' lists broker %d"
                        + " twice: %s", partitionId, topic, broker, replicas);
            }
        }
        if (replicas.size() != replicationFactor) {
            return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partition %d of topic '%s' has %d replicas %s,"
                    + " but %s; every partition of a topic has the same number of replicas", partitionId, topic,
                    replicas.size(), replicas, expected);
        }
        for (int broker : replicas) {
            if (image.broker(broker) == null) {
                String registered = image.brokersSorted().stream().map(b -> String.valueOf(b.id()))
                        .collect(Collectors.joining(", "));
                return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partition %d of topic '%s' lists broker %d,"
                        + " which is not registered (brokers %s)", partitionId, topic, broker,
                        registered.isEmpty() ? "none" : registered);
            }
        }
        if (replicas.stream().noneMatch(image::isEligible)) {
            List<String> states = new ArrayList<>();
            for (int broker : replicas) {
                states.add("broker " + broker + " is " + BrokerDecisions.describeState(image, broker));
            }
            return ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partition %d of topic '%s' has no eligible"
                    + " replica to lead it: %s", partitionId, topic, String.join(", ", states));
        }
        return ApiError.NONE;
    }
}
