package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.replication.AlterPartitionClient;
import io.raftmq.replication.Partition;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Sends a leader's ISR proposals to the active controller with this broker's id and current
 * registration epoch (a proposal from a previous process of this broker is refused). Stateless.
 */
final class ControllerAlterPartitionClient implements AlterPartitionClient {
    private final int brokerId;
    private final LongSupplier brokerEpoch;
    private final ControllerClient controller;

    ControllerAlterPartitionClient(int brokerId, LongSupplier brokerEpoch, ControllerClient controller) {
        this.brokerId = brokerId;
        this.brokerEpoch = brokerEpoch;
        this.controller = controller;
    }

    @Override
    public CompletableFuture<Outcome> alter(Partition.IsrProposal proposal) {
        AlterPartitionRequest request = AlterPartitionRequest.newBuilder()
                .setBrokerId(brokerId)
                .setBrokerEpoch(brokerEpoch.getAsLong())
                .addPartitions(PartitionIsrChange.newBuilder()
                        .setTopicId(Uuids.toProto(proposal.topicId()))
                        .setPartitionId(proposal.partition())
                        .setLeaderEpoch(proposal.leaderEpoch())
                        .setPartitionEpoch(proposal.partitionEpoch())
                        .addAllNewIsr(proposal.isr()))
                .build();
        return controller.alterPartition(request).thenApply(response -> {
            if (response.getError().getCode() != ErrorCode.NONE) {
                return new Outcome(ApiError.fromProto(response.getError()), -1, -1, List.of());
            }
            for (PartitionState state : response.getPartitionsList()) {
                if (state.getPartitionId() == proposal.partition()
                        && Uuids.fromProto(state.getTopicId()).equals(proposal.topicId())) {
                    return new Outcome(ApiError.fromProto(state.getError()), state.getLeaderEpoch(),
                            state.getPartitionEpoch(), state.getIsrList());
                }
            }
            return new Outcome(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "the controller's answer does not"
                    + " mention partition %d of topic %s", proposal.partition(), proposal.topicId()), -1, -1,
                    List.of());
        });
    }
}
