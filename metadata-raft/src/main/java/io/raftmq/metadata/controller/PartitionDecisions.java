package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;

/**
 * AlterPartition: a partition leader asks to shrink or expand the ISR of partitions it leads. Only
 * the current leader, at the current leader epoch and partition epoch, may change an ISR; anything
 * else is refused with the error that says why, so a stale leader can never overwrite a newer
 * decision.
 */
final class PartitionDecisions {
    private PartitionDecisions() {}

    static ControllerResult<AlterPartitionResponse> alterPartition(MetadataImage image, AlterPartitionRequest request) {
        ApiError brokerError = BrokerDecisions.validateBrokerEpoch(image, request.getBrokerId(),
                request.getBrokerEpoch());
        if (brokerError.isFailure()) {
            return ControllerResult.withoutRecords(
                    AlterPartitionResponse.newBuilder().setError(brokerError.toProto()).build());
        }
        List<MetadataRecord> records = new ArrayList<>();
        AlterPartitionResponse.Builder reply = AlterPartitionResponse.newBuilder().setError(ApiError.NONE.toProto());
        HashSet<String> seen = new HashSet<>();
        for (PartitionIsrChange change : request.getPartitionsList()) {
            UUID topicId = Uuids.fromProto(change.getTopicId());
            PartitionState.Builder state = PartitionState.newBuilder()
                    .setTopicId(change.getTopicId())
                    .setPartitionId(change.getPartitionId());
            TopicImage topic = image.topic(topicId);
            if (topic == null) {
                reply.addPartitions(state.setError(ApiError.of(ErrorCode.UNKNOWN_TOPIC_ID, "no topic has id %s",
                        topicId).toProto()));
                continue;
            }
            PartitionRegistration current = topic.partition(change.getPartitionId());
            if (current == null) {
                reply.addPartitions(state.setError(ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                        "topic '%s' has no partition %d", topic.name(), change.getPartitionId()).toProto()));
                continue;
            }
            String name = topic.name() + "-" + change.getPartitionId();
            ApiError error = seen.add(topicId + "/" + change.getPartitionId())
                    ? validate(image, request.getBrokerId(), name, current, change)
                    : ApiError.of(ErrorCode.INVALID_REQUEST, "partition %s appears more than once in the request",
                            name);
            if (error.isFailure()) {
                reply.addPartitions(describe(state, current).setError(error.toProto()));
                continue;
            }
            PartitionRegistration after = current;
            if (!current.isr().equals(change.getNewIsrList())) {
                records.add(Records.partitionChange(topicId, change.getPartitionId(), null, change.getNewIsrList()));
                after = new PartitionRegistration(current.replicas(), change.getNewIsrList(), current.leader(),
                        current.leaderEpoch(), current.partitionEpoch() + 1);
            }
            reply.addPartitions(describe(state, after).setError(ApiError.NONE.toProto()));
        }
        return ControllerResult.of(records, reply.build());
    }

    private static ApiError validate(
            MetadataImage image, int brokerId, String name, PartitionRegistration current, PartitionIsrChange change) {
        if (current.leader() != brokerId) {
            return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is not the leader of %s; the leader is %s"
                    + " (leader epoch %d)", brokerId, name,
                    current.hasLeader() ? "broker " + current.leader() : "none", current.leaderEpoch());
        }
        if (change.getLeaderEpoch() != current.leaderEpoch()) {
            return ApiError.of(change.getLeaderEpoch() < current.leaderEpoch()
                            ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
                    "leader epoch %d in the request for %s, but the current leader epoch is %d",
                    change.getLeaderEpoch(), name, current.leaderEpoch());
        }
        if (change.getPartitionEpoch() != current.partitionEpoch()) {
            return ApiError.of(ErrorCode.INVALID_UPDATE_VERSION,
                    "partition epoch %d in the request for %s, but the current partition epoch is %d",
                    change.getPartitionEpoch(), name, current.partitionEpoch());
        }
        List<Integer> isr = change.getNewIsrList();
        if (isr.isEmpty()) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "the new ISR of %s is empty", name);
        }
        if (new HashSet<>(isr).size() != isr.size()) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "the new ISR %s of %s lists a broker twice", isr, name);
        }
        if (!isr.contains(brokerId)) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "the new ISR %s of %s leaves out its leader %d", isr, name,
                    brokerId);
        }
        for (int member : isr) {
            if (!current.isReplica(member)) {
                return ApiError.of(ErrorCode.INELIGIBLE_REPLICA, "the new ISR %s of %s names broker %d, which is not"
                        + " one of its replicas %s", isr, name, member, current.replicas());
            }
            if (!image.isEligible(member)) {
                return ApiError.of(ErrorCode.INELIGIBLE_REPLICA, "the new ISR %s of %s names broker %d, which is %s",
                        isr, name, member, image.broker(member) == null ? "not registered"
                                : image.broker(member).state().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return ApiError.NONE;
    }

    static PartitionState.Builder describe(PartitionState.Builder state, PartitionRegistration p) {
        return state.setLeader(p.leader())
                .setLeaderEpoch(p.leaderEpoch())
                .setPartitionEpoch(p.partitionEpoch())
                .addAllReplicas(p.replicas())
                .addAllIsr(p.isr());
    }
}
