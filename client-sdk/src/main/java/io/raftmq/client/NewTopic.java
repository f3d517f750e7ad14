package io.raftmq.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A topic to create: partitions and replication factor (-1 for the cluster's num.partitions and
 * default.replication.factor) and config overrides in Kafka's names (retention.ms, ...); or, as
 * Kafka's {@code NewTopic(name, replicasAssignments)}, the replicas of every partition (partition
 * index to broker ids, the first the preferred leader), with partitions and replication factor -1.
 *
 * @param replicasAssignments empty unless the replicas are given; then indices 0..n-1, each list of
 *     the same length
 */
public record NewTopic(String name, int numPartitions, int replicationFactor, Map<String, String> configs,
        Map<Integer, List<Integer>> replicasAssignments) {
    public NewTopic {
        Objects.requireNonNull(name, "name");
        configs = configs == null ? Map.of() : Map.copyOf(configs);
        TreeMap<Integer, List<Integer>> sorted = new TreeMap<>();
        if (replicasAssignments != null) {
            replicasAssignments.forEach((partition, brokers) -> sorted.put(partition, List.copyOf(brokers)));
        }
        replicasAssignments = Collections.unmodifiableSortedMap(sorted);
        if (!replicasAssignments.isEmpty() && (numPartitions != -1 || replicationFactor != -1)) {
            throw new IllegalArgumentException("topic '" + name + "' has replica assignments, so partitions and"
                    + " replication factor must be -1; got " + numPartitions + " and " + replicationFactor);
        }
    }

    public NewTopic(String name, int numPartitions, int replicationFactor, Map<String, String> configs) {
        this(name, numPartitions, replicationFactor, configs, Map.of());
    }

    public NewTopic(String name, int numPartitions, int replicationFactor) {
        this(name, numPartitions, replicationFactor, Map.of(), Map.of());
    }

    /** A topic whose partitions have the given replicas (kafka-topics {@code --replica-assignment}). */
    public NewTopic(String name, Map<Integer, List<Integer>> replicasAssignments) {
        this(name, -1, -1, Map.of(), replicasAssignments);
    }

    public NewTopic withConfigs(Map<String, String> newConfigs) {
        return new NewTopic(name, numPartitions, replicationFactor, newConfigs, replicasAssignments);
    }
}
