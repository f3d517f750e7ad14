package io.raftmq.replication;

import io.raftmq.protocol.TopicPartition;

/**
 * Told when this broker starts or stops leading a partition (the group coordinator loads and
 * drops the state it keeps for partitions it leads).
 *
 * <p>Called on the thread that applies metadata, in metadata order, after the partition's role
 * changed; implementations must return quickly (enqueue the work) and must not call back into the
 * {@link ReplicaManager} from the callback.
 */
public interface LeadershipListener {

    /** This broker now leads {@code tp} at {@code leaderEpoch}; its log is ready for appends. */
    void onBecomeLeader(TopicPartition tp, int leaderEpoch);

    /**
     * This broker no longer leads {@code tp} (it follows it, or holds no replica of it any more).
     * Also called for partitions it never led; ignore those.
     */
    void onStopLeading(TopicPartition tp);
}
