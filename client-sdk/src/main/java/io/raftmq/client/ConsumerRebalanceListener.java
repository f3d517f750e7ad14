package io.raftmq.client;

import java.util.Collection;

/**
 * Told when the group takes partitions away from this consumer and gives it new ones. Called on the
 * thread that calls {@link Consumer#poll} (or close), inside that call.
 */
public interface ConsumerRebalanceListener {
    /** Before the partitions are taken away; with auto commit their offsets were just committed. */
    void onPartitionsRevoked(Collection<TopicPartition> partitions);

    /** After the new assignment is known, before records of it are fetched. */
    void onPartitionsAssigned(Collection<TopicPartition> partitions);
}
