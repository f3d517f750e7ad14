package io.raftmq.replication;

import io.raftmq.common.HostPort;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.storage.LogConfig;
import java.util.List;
import java.util.UUID;

/**
 * What committed metadata says about one partition this broker holds a replica of. Built by the
 * broker from its metadata image; immutable.
 *
 * @param leader the leader's broker id, or -1 when the partition has none
 * @param leaderEndpoint where the leader's Replica service listens (null when no leader)
 * @param minInsyncReplicas the topic's min.insync.replicas
 * @param logConfig the broker's log defaults overridden by the topic's configs
 */
public record PartitionAssignment(TopicPartition tp, UUID topicId, List<Integer> replicas, List<Integer> isr,
        int leader, int leaderEpoch, int partitionEpoch, HostPort leaderEndpoint, int minInsyncReplicas,
        LogConfig logConfig) {

    public PartitionAssignment {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    public static final int NO_LEADER = -1;
}
