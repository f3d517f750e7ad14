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

    /**
     * This snapshot updated with a newer answer, {@code answer}, as Kafka's client does it: a
     * partition the answer has at a lower leader epoch than this snapshot keeps what this snapshot
     * has (the answering broker is behind, or cut off), with its leader's address; everything else
     * is taken from the answer.
     */
    Merged merge(MetadataSnapshot answer) {
        Map<String, List<PartitionState>> merged = new HashMap<>(answer.topics);
        Map<Integer, BrokerAddress> brokersCopy = new HashMap<>(answer.brokers);
        int stale = 0;
        for (Map.Entry<String, List<PartitionState>> topic : answer.topics.entrySet()) {
            List<PartitionState> known = topics.get(topic.getKey());
            if (known == null || known.size() != topic.getValue().size()) {
                continue; // new, or its partition count changed: nothing to compare
            }
            PartitionState[] parts = topic.getValue().toArray(new PartitionState[0]);
            boolean changed = false;
            for (int i = 0; i < parts.length; i++) {
                PartitionState mine = known.get(i);
                if (parts[i].leaderEpoch() < mine.leaderEpoch()) {
                    parts[i] = mine;
                    changed = true;
                    stale++;
                    BrokerAddress leader = brokers.get(mine.leader());
                    if (leader != null) {
                        brokersCopy.putIfAbsent(mine.leader(), leader);
                    }
                }
            }
            if (changed) {
                merged.put(topic.getKey(), List.of(parts));
            }
        }
        if (stale == 0) {
            return new Merged(answer, 0);
        }
        return new Merged(new MetadataSnapshot(Map.copyOf(brokersCopy), Map.copyOf(merged), answer.topicErrors,
                answer.controllerId, Math.max(metadataOffset, answer.metadataOffset), answer.fetchedAtMs), stale);
    }

    /** The outcome of {@link #merge}: the new snapshot, and how many partitions the answer had older than known. */
    record Merged(MetadataSnapshot snapshot, int stalePartitions) {}

    /** Whether some partition of a known topic has no leader. */
    boolean anyPartitionWithoutLeader() {
        for (List<PartitionState> parts : topics.values()) {
            for (PartitionState p : parts) {
                if (p.leader() < 0) {
                    return true;
                }
            }
        }
        return false;
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
