package io.raftmq.metadata.image;

import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A topic: its name, id, config overrides and partitions (index = partition id). Immutable.
 */
public record TopicImage(String name, UUID id, SortedMap<String, String> configs, List<PartitionRegistration> partitions) {

    public TopicImage {
        configs = Collections.unmodifiableSortedMap(new TreeMap<>(configs));
        partitions = List.copyOf(partitions);
    }

    public int numPartitions() {
        return partitions.size();
    }

    /** The partition, or null when the topic has no partition with that id. */
    public PartitionRegistration partition(int partitionId) {
        return partitionId >= 0 && partitionId < partitions.size() ? partitions.get(partitionId) : null;
    }

    /** Replication factor: the replica count of partition 0 (all partitions share it). */
    public int replicationFactor() {
        return partitions.isEmpty() ? 0 : partitions.get(0).replicas().size();
    }

    /** The topic-level override of {@code key}, if any. */
    public Optional<String> config(String key) {
        return Optional.ofNullable(configs.get(key));
    }
}
