package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.ProducerIdsRecord;
import java.util.List;

/**
 * AllocateProducerIds: a broker at its current epoch gets the next block of {@link #BLOCK_SIZE}
 * producer ids, recorded by a ProducerIdsRecord. The block is answered only after the record
 * commits, and a new controller continues from the committed image, so no id is handed out twice.
 * Pure functions of their inputs.
 */
final class ProducerIdDecisions {
    /** Ids per block (Kafka's too). */
    static final int BLOCK_SIZE = 1000;

    private ProducerIdDecisions() {}

    static ControllerResult<AllocateProducerIdsResponse> allocateProducerIds(MetadataImage image,
            AllocateProducerIdsRequest request) {
        ApiError brokerError = BrokerDecisions.validateBrokerEpoch(image, request.getBrokerId(),
                request.getBrokerEpoch());
        if (brokerError.isFailure()) {
            return ControllerResult.withoutRecords(
                    AllocateProducerIdsResponse.newBuilder().setError(brokerError.toProto()).build());
        }
        long start = image.nextProducerId();
        if (start > Long.MAX_VALUE - BLOCK_SIZE) {
            return ControllerResult.withoutRecords(AllocateProducerIdsResponse.newBuilder().setError(ApiError.of(
                    ErrorCode.UNKNOWN_SERVER_ERROR, "the cluster has handed out every producer id (next would be"
                            + " %d)", start).toProto()).build());
        }
        MetadataRecord record = MetadataRecord.newBuilder().setProducerIds(ProducerIdsRecord.newBuilder()
                .setBrokerId(request.getBrokerId())
                .setBrokerEpoch(request.getBrokerEpoch())
                .setNextProducerId(start + BLOCK_SIZE)).build();
        return ControllerResult.of(List.of(record), AllocateProducerIdsResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setProducerIdStart(start)
                .setProducerIdLen(BLOCK_SIZE)
                .build());
    }
}
