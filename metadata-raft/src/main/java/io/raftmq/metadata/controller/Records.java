package io.raftmq.metadata.controller;

import io.raftmq.common.Uuids;
import io.raftmq.protocol.metadata.BrokerControlledShutdownRecord;
import io.raftmq.protocol.metadata.FenceBrokerRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionChangeRecord;
import io.raftmq.protocol.metadata.ReplicaList;
import io.raftmq.protocol.metadata.UnfenceBrokerRecord;
import java.util.List;
import java.util.UUID;

/** Builders for the metadata records the controller writes. */
final class Records {
    private Records() {}

    static MetadataRecord fenceBroker(int brokerId, long epoch) {
        return MetadataRecord.newBuilder()
                .setFenceBroker(FenceBrokerRecord.newBuilder().setBrokerId(brokerId).setBrokerEpoch(epoch))
                .build();
    }

    static MetadataRecord unfenceBroker(int brokerId, long epoch) {
        return MetadataRecord.newBuilder()
                .setUnfenceBroker(UnfenceBrokerRecord.newBuilder().setBrokerId(brokerId).setBrokerEpoch(epoch))
                .build();
    }

    static MetadataRecord controlledShutdown(int brokerId, long epoch) {
        return MetadataRecord.newBuilder()
                .setBrokerControlledShutdown(
                        BrokerControlledShutdownRecord.newBuilder().setBrokerId(brokerId).setBrokerEpoch(epoch))
                .build();
    }

    /**
     * A PartitionChangeRecord.
     *
     * @param leader the new leader, or null to leave it unchanged
     * @param isr the new ISR, or null to leave it unchanged
     */
    static MetadataRecord partitionChange(UUID topicId, int partitionId, Integer leader, List<Integer> isr) {
        PartitionChangeRecord.Builder change = PartitionChangeRecord.newBuilder()
                .setTopicId(Uuids.toProto(topicId))
                .setPartitionId(partitionId);
        if (leader != null) {
            change.setLeader(leader);
        }
        if (isr != null) {
            change.setIsr(ReplicaList.newBuilder().addAllBrokerIds(isr));
        }
        return MetadataRecord.newBuilder().setPartitionChange(change).build();
    }
}
