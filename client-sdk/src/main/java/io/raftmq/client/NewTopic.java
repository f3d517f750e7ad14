package io.raftmq.client;

import java.util.Map;
import java.util.Objects;

/**
 * A topic to create: partitions and replication factor (-1 for the cluster's num.partitions and
 * default.replication.factor) and config overrides in Kafka's names (retention.ms, ...).
 */
public record NewTopic(String name, int numPartitions, int replicationFactor, Map<String, String> configs) {
    public NewTopic {
        Objects.requireNonNull(name, "name");
        configs = configs == null ? Map.of() : Map.copyOf(configs);
    }

    public NewTopic(String name, int numPartitions, int replicationFactor) {
        this(name, numPartitions, replicationFactor, Map.of());
    }

    public NewTopic withConfigs(Map<String, String> newConfigs) {
        return new NewTopic(name, numPartitions, replicationFactor, newConfigs);
    }
}
