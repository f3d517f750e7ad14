package io.raftmq.metadata.image;

import java.util.List;

/**
 * One partition's replica assignment and leadership. Immutable.
 *
 * @param replicas broker ids holding a replica; the first is the preferred leader
 * @param isr in-sync replicas: a non-empty subset of replicas. When no member is eligible it keeps
 *     the last one that was, with no leader, so that this broker can lead again when it returns
 *     (no unclean election)
 * @param leader the leader's broker id, or {@link #NO_LEADER}
 * @param leaderEpoch bumped at every leader election
 * @param partitionEpoch bumped at every change of this partition
 */
public record PartitionRegistration(
        List<Integer> replicas, List<Integer> isr, int leader, int leaderEpoch, int partitionEpoch) {

    public static final int NO_LEADER = -1;

    public PartitionRegistration {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }

    public boolean isReplica(int brokerId) {
        return replicas.contains(brokerId);
    }

    public boolean isInIsr(int brokerId) {
        return isr.contains(brokerId);
    }
}
