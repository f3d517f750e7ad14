package io.raftmq.broker.group;

import io.raftmq.broker.group.ConsumerGroup.State;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitPartitionResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetCommitTopicResponse;
import io.raftmq.protocol.broker.OffsetDeletePartitionResponse;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetDeleteTopic;
import io.raftmq.protocol.broker.OffsetDeleteTopicResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.group.OffsetCommitValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OffsetCommit, OffsetFetch, OffsetDelete and DeleteGroups of one {@link GroupShard}, on its state
 * and its thread. Kafka's rules: a commit with generation -1 and no member id is allowed only while
 * the group has no members (consumers that assign partitions themselves); otherwise it must come
 * from a member of the current generation, and not while the group waits for that generation's
 * assignment to be stored (REBALANCE_IN_PROGRESS). A commit counts as a heartbeat. Each partition
 * of a commit must exist in this broker's metadata (UNKNOWN_TOPIC_OR_PARTITION) and carry at most
 * offset.metadata.max.bytes of metadata (OFFSET_METADATA_TOO_LARGE); such a partition is answered
 * with its error and nothing of it is stored, the others are committed. OffsetDelete removes the
 * offsets of topics no member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC for the others). Groups
 * without members expire with their offsets after offsets.retention.minutes ({@link
 * #expireOffsets}). Group ids are checked by the coordinator before a request reaches a shard
 * ({@link GroupIds}).
 */
final class OffsetsAndAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetsAndAdmin.class);
    /** The protocol type of consumers' groups, whose members' subscriptions are known here. */
    private static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    private final GroupShard shard;

    OffsetsAndAdmin(GroupShard shard) {
        this.shard = shard;
    }

    /** A commit whose group.instance.id, if any, is the request's own. */
    void commit(OffsetCommitRequest req, Consumer<OffsetCommitResponse> respond) {
        commit(req, req.getGroupInstanceId().isEmpty() ? null : req.getGroupInstanceId(), respond);
    }

    /** @param groupInstanceId the committer's group.instance.id, null when it gave none */
    void commit(OffsetCommitRequest req, String groupInstanceId, Consumer<OffsetCommitResponse> respond) {
        String groupId = req.getGroupId();
        ApiError check = checkCommitter(req, groupInstanceId);
        if (check.isFailure()) {
            respond.accept(answer(req, check, Map.of(), check));
            return;
        }
        long nowMs = shard.time.milliseconds();
        List<CoordinatorRecord> records = new ArrayList<>();
        Map<TopicPartition, ApiError> invalid = new TreeMap<>(OffsetsAndAdmin::compare);
        int maxMetadataBytes = shard.config.offsetMetadataMaxBytes();
        for (OffsetCommitTopic t : req.getTopicsList()) {
            for (OffsetCommitPartition p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                ApiError exists = checkExists(tp);
                int metadataBytes = p.getMetadata().getBytes(StandardCharsets.UTF_8).length;
                if (exists.isFailure()) {
                    invalid.put(tp, exists);
                } else if (p.getCommittedOffset() < 0) {
                    invalid.put(tp, ApiError.of(ErrorCode.INVALID_REQUEST, "committed offset %d of %s is negative",
                            p.getCommittedOffset(), tp));
                } else if (metadataBytes > maxMetadataBytes) {
                    invalid.put(tp, ApiError.of(ErrorCode.OFFSET_METADATA_TOO_LARGE, "the metadata of the commit of"
                            + " %s is %d bytes, more than offset.metadata.max.bytes=%d", tp, metadataBytes,
                            maxMetadataBytes));
                } else {
                    records.add(new CoordinatorRecord.OffsetCommit(groupId, tp, OffsetCommitValue.newBuilder()
                            .setCommittedOffset(p.getCommittedOffset())
                            .setCommittedLeaderEpoch(p.getCommittedLeaderEpoch())
                            .setMetadata(p.getMetadata())
                            .setCommitTimestampMs(nowMs)
                            .build()));
                }
            }
        }
        if (records.isEmpty()) {
            respond.accept(answer(req, ApiError.NONE, invalid, ApiError.NONE));
            return;
        }
        ApiError error = shard.write(records, committed -> respond.accept(answer(req, committed, invalid,
                ApiError.NONE)));
        if (error.isFailure()) {
            respond.accept(answer(req, error, invalid, ApiError.NONE));
        }
    }

    /**
     * Whether the committer may commit now: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID (a replaced
     * static member), ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, or NONE (the commit counts as a
     * heartbeat).
     *
     * @param groupInstanceId the committer's group.instance.id, null when it gave none
     */
    ApiError checkCommitter(OffsetCommitRequest req, String groupInstanceId) {
        if (shard.consumerProtocol.isConsumerProtocolGroup(req.getGroupId())) {
            return shard.consumerProtocol.validateOffsetCommit(req.getGroupId(), req.getMemberId(),
                    req.getGenerationId());
        }
        ConsumerGroup group = shard.groups.get(req.getGroupId());
        boolean standalone = req.getGenerationId() < 0 && req.getMemberId().isEmpty();
        if (group == null) {
            return standalone ? ApiError.NONE : ApiError.of(ErrorCode.ILLEGAL_GENERATION, "group '%s' has no"
                    + " generation %d (it has no members); join it first, or commit with generation -1 and no"
                    + " member id", req.getGroupId(), req.getGenerationId());
        }
        if (standalone) {
            return group.members.isEmpty() ? ApiError.NONE : ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s'"
                    + " has %d member(s); a commit without membership (generation -1, no member id) is allowed"
                    + " only while it has none", req.getGroupId(), group.members.size());
        }
        ApiError check = shard.checkMember(group, req.getGroupId(), req.getMemberId(), groupInstanceId,
                req.getGenerationId());
        if (check.isFailure()) {
            return check;
        }
        GroupMember member = group.members.get(req.getMemberId());
        member.heardFrom(shard.time.monotonicMs());
        if (group.is(State.COMPLETING_REBALANCE)) {
            return ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '%s' is completing a rebalance: sync and"
                    + " commit again", req.getGroupId());
        }
        return ApiError.NONE;
    }

    /** Every requested partition answered: {@code invalid} ones with their error, the rest with {@code error}. */
    private static OffsetCommitResponse answer(OffsetCommitRequest req, ApiError error,
            Map<TopicPartition, ApiError> invalid, ApiError topLevel) {
        OffsetCommitResponse.Builder out = OffsetCommitResponse.newBuilder().setError(topLevel.toProto());
        for (OffsetCommitTopic t : req.getTopicsList()) {
            OffsetCommitTopicResponse.Builder tr = OffsetCommitTopicResponse.newBuilder().setName(t.getName());
            for (OffsetCommitPartition p : t.getPartitionsList()) {
                ApiError e = invalid.getOrDefault(new TopicPartition(t.getName(), p.getPartition()), error);
                tr.addPartitions(OffsetCommitPartitionResponse.newBuilder().setPartition(p.getPartition())
                        .setError(e.toProto()));
            }
            out.addTopics(tr);
        }
        return out.build();
    }

    /** UNKNOWN_TOPIC_OR_PARTITION unless this broker's metadata has the partition (Kafka's rule). */
    private ApiError checkExists(TopicPartition tp) {
        int partitions = tp.topic().isEmpty() ? 0 : shard.partitionCounts.applyAsInt(tp.topic());
        if (partitions <= 0) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", tp.topic());
        }
        if (tp.partition() < 0 || tp.partition() >= partitions) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' has partitions 0..%d; there is no"
                    + " partition %d", tp.topic(), partitions - 1, tp.partition());
        }
        return ApiError.NONE;
    }

    /** Committed offsets as of every write before this call (answered once those committed). */
    void fetch(OffsetFetchRequest req, Consumer<OffsetFetchResponse> respond) {
        shard.afterPendingWrites(() -> {
            if (shard.isClosed()) {
                respond.accept(OffsetFetchResponse.newBuilder().setError(ApiError.of(ErrorCode.NOT_COORDINATOR,
                        "broker %d no longer coordinates group '%s'", shard.coordinatorId, req.getGroupId())
                        .toProto()).build());
                return;
            }
            respond.accept(fetchNow(req));
        });
    }

    private OffsetFetchResponse fetchNow(OffsetFetchRequest req) {
        ConsumerGroup group = shard.groups.get(req.getGroupId());
        Map<TopicPartition, OffsetCommitValue> committed = group == null ? Map.of() : group.offsets;
        SortedMap<String, List<OffsetFetchPartitionResponse>> byTopic = new TreeMap<>();
        if (req.getTopicsCount() == 0) {
            committed.entrySet().stream().sorted(Map.Entry.comparingByKey(OffsetsAndAdmin::compare)).forEach(e ->
                    byTopic.computeIfAbsent(e.getKey().topic(), t -> new ArrayList<>()).add(
                            entry(e.getKey().partition(), e.getValue())));
        } else {
            for (OffsetFetchTopic t : req.getTopicsList()) {
                for (int p : t.getPartitionsList()) {
                    byTopic.computeIfAbsent(t.getName(), n -> new ArrayList<>()).add(
                            entry(p, committed.get(new TopicPartition(t.getName(), p))));
                }
            }
        }
        OffsetFetchResponse.Builder out = OffsetFetchResponse.newBuilder().setError(ApiError.NONE.toProto());
        byTopic.forEach((topic, partitions) -> out.addTopics(OffsetFetchTopicResponse.newBuilder().setName(topic)
                .addAllPartitions(partitions)));
        return out.build();
    }

    private static OffsetFetchPartitionResponse entry(int partition, OffsetCommitValue v) {
        OffsetFetchPartitionResponse.Builder b = OffsetFetchPartitionResponse.newBuilder().setPartition(partition)
                .setError(ApiError.NONE.toProto());
        if (v == null) {
            return b.setCommittedOffset(-1).setCommittedLeaderEpoch(-1).build();
        }
        return b.setCommittedOffset(v.getCommittedOffset()).setCommittedLeaderEpoch(v.getCommittedLeaderEpoch())
                .setMetadata(v.getMetadata()).build();
    }

    /**
     * offsets.retention.minutes, as Kafka's rule for a group without members: once its newest
     * commit and the moment a pass first found it empty are both the retention old, its offsets and
     * the group are deleted (tombstones, as DeleteGroups writes), so that groups clients create and
     * abandon do not pile up. A group with members keeps everything.
     *
     * @param nowMs the wall clock (commit timestamps are wall-clock times)
     */
    void expireOffsets(long nowMs) {
        long retentionMs = shard.config.offsetsRetentionMs();
        List<String> expired = new ArrayList<>();
        for (ConsumerGroup group : shard.groups.values()) {
            if (!group.members.isEmpty() || shard.consumerProtocol.hasMembers(group.groupId)) {
                group.emptySinceMs = -1;
                continue;
            }
            if (group.emptySinceMs < 0) {
                group.emptySinceMs = nowMs;
            }
            long newest = group.emptySinceMs;
            for (OffsetCommitValue v : group.offsets.values()) {
                newest = Math.max(newest, v.getCommitTimestampMs());
            }
            if (nowMs - newest >= retentionMs) {
                expired.add(group.groupId);
            }
        }
        for (String groupId : expired) {
            ConsumerGroup group = shard.groups.get(groupId);
            LOG.info("{} group '{}' has had no members and no commit for {} ms or more (offsets.retention.minutes):"
                    + " deleting it and its {} committed offset(s)", shard.logPrefix, groupId, retentionMs,
                    group.offsets.size());
            ApiError error = shard.write(deletionRecords(group), committed -> { });
            if (error.isFailure()) {
                LOG.warn("{} deleting expired group '{}' failed: {}", shard.logPrefix, groupId, error);
            }
        }
    }

    private List<CoordinatorRecord> deletionRecords(ConsumerGroup group) {
        List<CoordinatorRecord> records = new ArrayList<>(shard.consumerProtocol.deletionRecords(group.groupId));
        records.add(new CoordinatorRecord.GroupMetadata(group.groupId, null));
        group.offsets.keySet().stream().sorted(OffsetsAndAdmin::compare)
                .forEach(tp -> records.add(new CoordinatorRecord.OffsetCommit(group.groupId, tp, null)));
        return records;
    }

    /** Deletes an empty group and its offsets (tombstones), answered once they are committed. */
    void delete(String groupId, Consumer<DeletedGroup> respond) {
        ConsumerGroup group = shard.groups.get(groupId);
        DeletedGroup.Builder out = DeletedGroup.newBuilder().setGroupId(groupId);
        if (shard.consumerProtocol.hasMembers(groupId)) {
            respond.accept(out.setError(ApiError.of(ErrorCode.NON_EMPTY_GROUP, "consumer group '%s' has members;"
                    + " only a group without members can be deleted", groupId).toProto()).build());
            return;
        }
        if (group == null && shard.consumerProtocol.isConsumerProtocolGroup(groupId)) {
            group = shard.groupOrNew(groupId); // no offsets: the deletion is the consumer-protocol records'
        }
        if (group == null) {
            respond.accept(out.setError(ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does not exist",
                    groupId).toProto()).build());
            return;
        }
        if (!group.members.isEmpty()) {
            respond.accept(out.setError(ApiError.of(ErrorCode.NON_EMPTY_GROUP, "group '%s' has %d member(s) (state"
                    + " %s); only a group without members can be deleted", groupId, group.members.size(),
                    group.state().wireName).toProto()).build());
            return;
        }
        ApiError error = shard.write(deletionRecords(group), committed -> respond.accept(DeletedGroup.newBuilder()
                .setGroupId(groupId).setError(committed.toProto()).build()));
        if (error.isFailure()) {
            respond.accept(out.setError(error.toProto()).build());
        }
    }

    /**
     * OffsetDelete (Kafka's rules): deletes the group's committed offsets of the partitions asked
     * for, unless a member subscribes to the topic (GROUP_SUBSCRIBED_TO_TOPIC; its consumers still
     * use them). A partition without a commit is answered NONE and writes nothing. The whole
     * request is refused with GROUP_ID_NOT_FOUND for an unknown group, and NON_EMPTY_GROUP for a
     * group with members whose protocol type is not "consumer" (what they use is unknown).
     * Answered once the tombstones are committed.
     */
    void deleteOffsets(OffsetDeleteRequest req, Consumer<OffsetDeleteResponse> respond) {
        String groupId = req.getGroupId();
        ConsumerGroup group = shard.groups.get(groupId);
        ApiError refused = ApiError.NONE;
        if (group == null) {
            refused = ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does not exist", groupId);
        } else if (!group.members.isEmpty() && !CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)) {
            refused = ApiError.of(ErrorCode.NON_EMPTY_GROUP, "group '%s' has %d member(s) of protocol type '%s',"
                    + " whose subscriptions are unknown; its offsets can be deleted once it is empty", groupId,
                    group.members.size(), group.protocolType);
        }
        if (refused.isFailure()) {
            respond.accept(OffsetDeleteResponse.newBuilder().setError(refused.toProto()).build());
            return;
        }
        Set<String> subscribed = group.subscribedTopics();
        Map<TopicPartition, ApiError> refusedPartitions = new HashMap<>();
        Set<TopicPartition> deleting = new TreeSet<>(OffsetsAndAdmin::compare);
        for (OffsetDeleteTopic t : req.getTopicsList()) {
            for (int partition : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), partition);
                ApiError exists = checkExists(tp);
                if (exists.isFailure()) {
                    refusedPartitions.put(tp, exists);
                } else if (subscribed.contains(t.getName())) {
                    refusedPartitions.put(tp, ApiError.of(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, "a member of group"
                            + " '%s' subscribes to topic '%s'; its offsets are kept", groupId, t.getName()));
                } else if (group.offsets.containsKey(tp)) {
                    deleting.add(tp);
                }
            }
        }
        if (deleting.isEmpty()) {
            respond.accept(deleteAnswer(req, refusedPartitions, ApiError.NONE));
            return;
        }
        List<CoordinatorRecord> tombstones = new ArrayList<>();
        deleting.forEach(tp -> tombstones.add(new CoordinatorRecord.OffsetCommit(groupId, tp, null)));
        ApiError error = shard.write(tombstones, committed -> respond.accept(deleteAnswer(req, refusedPartitions,
                committed)));
        if (error.isFailure()) {
            respond.accept(deleteAnswer(req, refusedPartitions, error));
        }
    }

    /** Every partition asked for: refused ones with their error, the rest with {@code written}. */
    private static OffsetDeleteResponse deleteAnswer(OffsetDeleteRequest req, Map<TopicPartition, ApiError> refused,
            ApiError written) {
        OffsetDeleteResponse.Builder out = OffsetDeleteResponse.newBuilder().setError(ApiError.NONE.toProto());
        for (OffsetDeleteTopic t : req.getTopicsList()) {
            OffsetDeleteTopicResponse.Builder tr = OffsetDeleteTopicResponse.newBuilder().setName(t.getName());
            for (int partition : t.getPartitionsList()) {
                ApiError e = refused.getOrDefault(new TopicPartition(t.getName(), partition), written);
                tr.addPartitions(OffsetDeletePartitionResponse.newBuilder().setPartition(partition)
                        .setError(e.toProto()));
            }
            out.addTopics(tr);
        }
        return out.build();
    }

    static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }
}
