package io.raftmq.client;

import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.common.ErrorCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One immutable view of the cluster as a broker's Metadata answer had it: live brokers, and per
 * topic its partitions' leaders and epochs (or the topic's error). Readers hold a reference.
 */
record MetadataSnapshot(Map<Integer, BrokerAddress> brokers, Map<String, List<PartitionState>> topics,
        Map<String, ErrorCode> topicErrors, int controllerId, long metadataOffset, long fetchedAtMs) {

    /** A partition's leadership; leader -1 when it has none. */
    record PartitionState(int partition, int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr) {}

    static final MetadataSnapshot EMPTY = new MetadataSnapshot(Map.of(), Map.of(), Map.of(), -1, -1, 0);

    static MetadataSnapshot of(MetadataResponse response, long nowMs) {
        Map<Integer, BrokerAddress> brokers = new HashMap<>();
        for (BrokerInfo b : response.getBrokersList()) {
            brokers.put(b.getBrokerId(), new BrokerAddress(b.getHost(), b.getPort()));
        }
        Map<String, List<PartitionState>> topics = new HashMap<>();
        Map<String, ErrorCode> errors = new HashMap<>();
        for (TopicMetadata t : response.getTopicsList()) {
            if (t.getError().getCode() != ErrorCode.NONE) {
                errors.put(t.getName(), t.getError().getCode());
                continue;
            }
            PartitionState[] parts = new PartitionState[t.getPartitionsCount()];
            for (PartitionMetadata p : t.getPartitionsList()) {
                if (p.getPartition() >= 0 && p.getPartition() < parts.length) {
                    parts[p.getPartition()] = new PartitionState(p.getPartition(),
                            p.getError().getCode() == ErrorCode.NONE ? p.getLeader() : -1, p.getLeaderEpoch(),
                            List.copyOf(p.getReplicasList()), List.copyOf(p.getIsrList()));
                }
            }
            for (int i = 0; i < parts.length; i++) {
                if (parts[i] == null) {
                    parts[i] = new PartitionState(i, -1, -1, List.of(), List.of());
                }
            }
            topics.put(t.getName(), List.of(parts));
        }
        return new MetadataSnapshot(Map.copyOf(brokers), Map.copyOf(topics), Map.copyOf(errors),
                response.getControllerId(), response.getMetadataOffset(), nowMs);
    }

    /** The partition count, or -1 when the topic is not known. */
    int partitionCount(String topic) {
        List<PartitionState> parts = topics.get(topic);
        return parts == null ? -1 : parts.size();
    }

    PartitionState partition(TopicPartition tp) {
        List<PartitionState> parts = topics.get(tp.topic());
        return parts == null || tp.partition() >= parts.size() ? null : parts.get(tp.partition());
    }

    /** The leader's address, or null when the partition has no (known, live) leader. */
    BrokerAddress leaderAddress(TopicPartition tp) {
        PartitionState p = partition(tp);
        return p == null || p.leader() < 0 ? null : brokers.get(p.leader());
    }

    /** A copy with one partition's leader replaced (from a current_leader hint in an answer). */
    MetadataSnapshot withLeader(TopicPartition tp, int leader, int leaderEpoch) {
        PartitionState p = partition(tp);
        if (p == null || leaderEpoch < p.leaderEpoch() || !brokers.containsKey(leader)) {
            return this;
        }
        Map<String, List<PartitionState>> topicsCopy = new HashMap<>(topics);
        PartitionState[] parts = topics.get(tp.topic()).toArray(new PartitionState[0]);
        parts[tp.partition()] = new PartitionState(p.partition(), leader, leaderEpoch, p.replicas(), p.isr());
        topicsCopy.put(tp.topic(), List.of(parts));
        return new MetadataSnapshot(brokers, Map.copyOf(topicsCopy), topicErrors, controllerId, metadataOffset,
                fetchedAtMs);
    }
}
