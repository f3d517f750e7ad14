package io.raftmq.replication;

import io.raftmq.common.ApiError;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Sends a leader's ISR proposals to the active controller (the broker implements it). */
public interface AlterPartitionClient {

    /**
     * The controller's answer for one partition: the committed state, or the error that refused
     * the change (stale epochs, ineligible replica, not the leader).
     */
    record Outcome(ApiError error, int leaderEpoch, int partitionEpoch, List<Integer> isr) {}

    /** Proposes {@code proposal}; the future completes with the controller's answer. */
    CompletableFuture<Outcome> alter(Partition.IsrProposal proposal);
}
