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
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.group.OffsetCommitValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OffsetCommit, OffsetFetch and DeleteGroups of one {@link GroupShard}, on its state and its
 * thread. Kafka's rules: a commit with generation -1 and no member id is allowed only while the
 * group has no members (consumers that assign partitions themselves); otherwise it must come from
 * a member of the current generation, and not while the group waits for that generation's
 * assignment to be stored (REBALANCE_IN_PROGRESS). A commit counts as a heartbeat. Groups without
 * members expire with their offsets after offsets.retention.minutes ({@link #expireOffsets}).
 */
final class OffsetsAndAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetsAndAdmin.class);
    /** Kafka's offset.metadata.max.bytes default. */
    static final int MAX_METADATA_BYTES = 4096;

    private final GroupShard shard;

    OffsetsAndAdmin(GroupShard shard) {
        this.shard = shard;
    }

    void commit(OffsetCommitRequest req, Consumer<OffsetCommitResponse> respond) {
        commit(req, null, respond);
    }

    /** @param groupInstanceId the committer's group.instance.id, null when it gave none */
    void commit(OffsetCommitRequest req, String groupInstanceId, Consumer<OffsetCommitResponse> respond) {
        String groupId = req.getGroupId();
        ApiError check = GroupCoordinator.validateGroupId(groupId);
        if (check.isSuccess()) {
            check = checkCommitter(req, groupInstanceId);
        }
        if (check.isFailure()) {
            respond.accept(answer(req, check, Map.of(), check));
            return;
        }
        long nowMs = shard.time.milliseconds();
        List<CoordinatorRecord> records = new ArrayList<>();
        Map<TopicPartition, ApiError> invalid = new TreeMap<>(OffsetsAndAdmin::compare);
        for (OffsetCommitTopic t : req.getTopicsList()) {
            for (OffsetCommitPartition p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                if (p.getCommittedOffset() < 0) {
                    invalid.put(tp, ApiError.of(ErrorCode.INVALID_REQUEST, "committed offset %d of %s is negative",
                            p.getCommittedOffset(), tp));
                } else if (p.getMetadata().getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_BYTES) {
                    invalid.put(tp, ApiError.of(ErrorCode.INVALID_COMMIT_OFFSET_SIZE, "metadata of the commit of %s"
                            + " is over %d bytes", tp, MAX_METADATA_BYTES));
                } else if (t.getName().isEmpty() || p.getPartition() < 0) {
                    invalid.put(tp, ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "no such partition: %s", tp));
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

    /** Committed offsets as of every write before this call (answered once those committed). */
    void fetch(OffsetFetchRequest req, Consumer<OffsetFetchResponse> respond) {
        if (req.getGroupId().isEmpty()) {
            respond.accept(OffsetFetchResponse.newBuilder().setError(ApiError.of(ErrorCode.INVALID_GROUP_ID,
                    "the group id is empty").toProto()).build());
            return;
        }
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
            if (!group.members.isEmpty()) {
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

    private static List<CoordinatorRecord> deletionRecords(ConsumerGroup group) {
        List<CoordinatorRecord> records = new ArrayList<>();
        records.add(new CoordinatorRecord.GroupMetadata(group.groupId, null));
        group.offsets.keySet().stream().sorted(OffsetsAndAdmin::compare)
                .forEach(tp -> records.add(new CoordinatorRecord.OffsetCommit(group.groupId, tp, null)));
        return records;
    }

    /** Deletes an empty group and its offsets (tombstones), answered once they are committed. */
    void delete(String groupId, Consumer<DeletedGroup> respond) {
        ConsumerGroup group = shard.groups.get(groupId);
        DeletedGroup.Builder out = DeletedGroup.newBuilder().setGroupId(groupId);
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

    static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }
}
