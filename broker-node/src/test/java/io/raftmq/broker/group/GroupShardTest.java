package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The group state machine with a clock the test moves and a log the test commits: join (initial
 * delay, rebalance), sync, heartbeat expiry, leave, stale generations, commits, and rebuilding the
 * state by replaying the log or a checkpoint.
 */
class GroupShardTest {
    static final GroupCoordinatorConfig CONFIG = new GroupCoordinatorConfig(12, 3, 1 << 20, 5000, 10, 100,
            60_000, 300, 100, 60_000, 1_000);

    /** The partition's log in memory: appended records (as stored bytes) and commit callbacks held until {@link #commitAll}. */
    static final class MemoryLog implements GroupShard.Writer {
        final List<ByteBuffer> batches = new ArrayList<>();
        final List<Consumer<ApiError>> uncommitted = new ArrayList<>();
        boolean autoCommit = true;

        @Override
        public ApiError append(List<CoordinatorRecord> records, Consumer<ApiError> onCommitted) {
            // Never from inside append (the Writer contract): held until the test settles or commits.
            batches.add(OffsetsPartitionLog.encode(records, 0));
            uncommitted.add(onCommitted);
            return ApiError.NONE;
        }

        void commitAll() {
            while (!uncommitted.isEmpty()) {
                List<Consumer<ApiError>> now = new ArrayList<>(uncommitted);
                uncommitted.clear();
                now.forEach(c -> c.accept(ApiError.NONE));
            }
        }

        /** What the owner's loop would do next: with auto-commit, the high watermark covers everything. */
        void settle() {
            if (autoCommit) {
                commitAll();
            }
        }

        List<CoordinatorRecord> records() {
            List<CoordinatorRecord> out = new ArrayList<>();
            for (ByteBuffer b : batches) {
                for (RecordBatch batch : RecordBatch.readAll(b.duplicate())) {
                    for (Record r : batch.records()) {
                        out.add(CoordinatorRecord.decode(r));
                    }
                }
            }
            return out;
        }
    }

    private final MockTime time = new MockTime();
    private final MemoryLog log = new MemoryLog();
    private final Map<String, Integer> topics = Map.of("t", 4);
    private final AtomicInteger ids = new AtomicInteger();
    private final GroupShard shard = newShard(log);

    private GroupShard newShard(GroupShard.Writer writer) {
        GroupShard s = new GroupShard(0, 1, CONFIG, time, writer, t -> topics.getOrDefault(t, 0),
                () -> "id" + ids.incrementAndGet());
        return s;
    }

    {
        shard.finishLoad(); // an empty partition
    }

    private AtomicReference<JoinGroupResponse> join(String memberId, String clientId, int sessionMs) {
        AtomicReference<JoinGroupResponse> out = new AtomicReference<>();
        shard.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("g").setMemberId(memberId)
                .setClientId(clientId).setSessionTimeoutMs(sessionMs).setRebalanceTimeoutMs(5_000)
                .setProtocolType("consumer").addTopics("t").addAssignors("range").build(), "10.0.0.1"),
                r -> out.set(SdkGroupMembers.joinResponse(r)));
        log.settle();
        return out;
    }

    private AtomicReference<SyncGroupResponse> sync(String memberId, int generation) {
        AtomicReference<SyncGroupResponse> out = new AtomicReference<>();
        shard.sync(SdkGroupMembers.syncRequest(SyncGroupRequest.newBuilder().setGroupId("g").setMemberId(memberId)
                .setGenerationId(generation).build()), r -> out.set(SdkGroupMembers.syncResponse(r)));
        log.settle();
        return out;
    }

    private ErrorCode heartbeat(String memberId, int generation) {
        return shard.heartbeat(new ClassicGroupApi.HeartbeatRequest("g", memberId, null, generation)).code();
    }

    private ErrorCode commit(String memberId, int generation, int partition, long offset) {
        AtomicReference<OffsetCommitResponse> out = new AtomicReference<>();
        shard.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId("g").setMemberId(memberId)
                .setGenerationId(generation).addTopics(OffsetCommitTopic.newBuilder().setName("t")
                        .addPartitions(OffsetCommitPartition.newBuilder().setPartition(partition)
                                .setCommittedOffset(offset).setCommittedLeaderEpoch(-1))).build(), out::set);
        log.settle();
        return out.get() == null ? null : out.get().getTopics(0).getPartitions(0).getError().getCode();
    }

    private List<Integer> partitionsOf(SyncGroupResponse sync) {
        assertEquals(ErrorCode.NONE, sync.getError().getCode(), sync.getError().getMessage());
        return sync.getAssignmentCount() == 0 ? List.of() : sync.getAssignment(0).getPartitionsList();
    }

    private void advance(long ms) {
        time.advanceMs(ms);
        shard.poll();
        log.settle();
    }

    @Test
    void joinWaitsForTheInitialDelayThenSyncHeartbeatAndLeave() {
        var a = join("", "a", 1_000);
        var b = join("", "b", 1_000);
        assertNull(a.get(), "held during the initial delay");
        advance(299);
        assertNull(a.get());
        advance(1);
        assertEquals(1, a.get().getGenerationId());
        assertEquals(a.get().getMemberId(), a.get().getLeaderId());
        String ma = a.get().getMemberId();
        String mb = b.get().getMemberId();
        assertEquals("a-id1", ma);
        assertEquals(List.of(0, 1), partitionsOf(sync(ma, 1).get()));
        assertEquals(List.of(2, 3), partitionsOf(sync(mb, 1).get()));
        assertEquals(ErrorCode.NONE, heartbeat(ma, 1));
        assertEquals(ErrorCode.ILLEGAL_GENERATION, heartbeat(ma, 0));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, heartbeat("nobody", 1));

        // B leaves: A must rejoin; no initial delay this time, it completes as soon as A is back.
        shard.leave("g", List.of(new ClassicGroupApi.LeavingMember(mb, null, null)));
        log.settle();
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, heartbeat(ma, 1));
        assertEquals(ErrorCode.NONE, commit(ma, 1, 0, 7), "commits of the current generation while rebalancing");
        var a2 = join(ma, "a", 1_000);
        assertEquals(2, a2.get().getGenerationId());
        assertEquals(List.of(0, 1, 2, 3), partitionsOf(sync(ma, 2).get()));
        assertEquals(ErrorCode.ILLEGAL_GENERATION, commit(ma, 1, 0, 8));
        assertEquals(ErrorCode.ILLEGAL_GENERATION, sync(ma, 1).get().getError().getCode());
    }

    @Test
    void sessionExpiryRemovesTheMemberAndTheRestRebalance() {
        var a = join("", "a", 1_000);
        var b = join("", "b", 3_000);
        advance(300);
        String ma = a.get().getMemberId();
        String mb = b.get().getMemberId();
        sync(ma, 1);
        sync(mb, 1);
        advance(500);
        assertEquals(ErrorCode.NONE, heartbeat(mb, 1)); // only B heartbeats
        advance(499);
        assertEquals(ErrorCode.NONE, heartbeat(mb, 1));
        advance(1);
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, heartbeat(ma, 1), "A's 1000 ms session expired");
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, heartbeat(mb, 1));
        var b2 = join(mb, "b", 3_000);
        assertEquals(2, b2.get().getGenerationId());
        assertEquals(List.of(0, 1, 2, 3), partitionsOf(sync(mb, 2).get()));
    }

    @Test
    void aMemberThatDoesNotRejoinWithinTheRebalanceTimeoutIsRemoved() {
        var a = join("", "a", 30_000);
        var b = join("", "b", 30_000);
        advance(300);
        String ma = a.get().getMemberId();
        sync(ma, 1);
        sync(b.get().getMemberId(), 1);
        var c = join("", "c", 30_000); // rebalance: A rejoins, B does not
        var a2 = join(ma, "a", 30_000);
        assertNull(a2.get());
        advance(4_999);
        assertNull(a2.get());
        advance(1);
        assertEquals(2, a2.get().getGenerationId());
        assertEquals(2, c.get().getGenerationId());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, heartbeat(b.get().getMemberId(), 1));
    }

    @Test
    void aJoinPastGroupMaxSizeIsRefused() {
        GroupShard small = new GroupShard(0, 1, new GroupCoordinatorConfig(12, 3, 1 << 20, 5000, 10, 100, 60_000,
                300, 2, 60_000, 1_000), time, log, t -> topics.getOrDefault(t, 0), () -> "id" + ids.incrementAndGet());
        small.finishLoad();
        List<JoinGroupResponse> answers = new ArrayList<>();
        for (String client : List.of("a", "b", "c")) {
            small.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("g").setClientId(client)
                    .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(5_000).setProtocolType("consumer")
                    .addTopics("t").addAssignors("range").build(), "10.0.0.1"),
                    r -> answers.add(SdkGroupMembers.joinResponse(r)));
        }
        assertEquals(1, answers.size(), "a and b wait for the rebalance; c is answered at once");
        assertEquals(ErrorCode.GROUP_MAX_SIZE_REACHED, answers.get(0).getError().getCode());
        assertTrue(answers.get(0).getError().getMessage().contains("group.max.size"),
                answers.get(0).getError().getMessage());
        assertEquals(2, small.groups.get("g").members.size());
    }

    /**
     * offsets.retention.minutes, as Kafka: a group without members whose newest commit, and the time
     * it was first seen empty, are both the retention old loses its offsets and is deleted (tombstones),
     * so groups that clients create and abandon do not pile up.
     */
    @Test
    void theOffsetsOfAGroupEmptyForTheRetentionExpireAndTheGroupIsDeleted() {
        assertEquals(ErrorCode.NONE, commit("", -1, 0, 5)); // a standalone commit: no members, ever
        var a = join("", "a", 1_000);
        advance(300);
        sync(a.get().getMemberId(), 1);
        for (int i = 0; i < 70; i++) {
            assertEquals(ErrorCode.NONE, heartbeat(a.get().getMemberId(), 1));
            advance(999);
        }
        assertTrue(shard.groups.containsKey("g"), "a group with members keeps its offsets");

        shard.leave("g", List.of(new ClassicGroupApi.LeavingMember(a.get().getMemberId(), null, null)));
        log.settle();
        advance(1_000); // first pass that sees it empty
        advance(58_000);
        assertTrue(shard.groups.containsKey("g"), "empty for less than the retention");
        advance(2_000);
        assertFalse(shard.groups.containsKey("g"), "expired and deleted");
        List<CoordinatorRecord> records = log.records();
        assertTrue(records.stream().anyMatch(r -> r instanceof CoordinatorRecord.OffsetCommit oc
                && oc.groupId().equals("g") && oc.value() == null), "an offset tombstone");
        assertTrue(records.stream().anyMatch(r -> r instanceof CoordinatorRecord.GroupMetadata gm
                && gm.groupId().equals("g") && gm.value() == null), "a group tombstone");
        AtomicReference<OffsetFetchResponse> fetched = new AtomicReference<>();
        shard.offsets.fetch(OffsetFetchRequest.newBuilder().setGroupId("g").build(), fetched::set);
        assertEquals(0, fetched.get().getTopicsCount());
    }

    @Test
    void syncIsAnsweredOnlyOnceTheGenerationIsStored() {
        log.autoCommit = false;
        var a = join("", "a", 1_000);
        advance(300);
        var s = sync(a.get().getMemberId(), 1);
        assertNull(s.get());
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS, commit(a.get().getMemberId(), 1, 0, 1),
                "no commits before the assignment is stored");
        log.commitAll();
        assertEquals(List.of(0, 1, 2, 3), partitionsOf(s.get()));
    }

    @Test
    void standaloneCommitsOnlyWhileTheGroupHasNoMembers() {
        assertEquals(ErrorCode.NONE, commit("", -1, 0, 5));
        var a = join("", "a", 1_000);
        advance(300);
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, commit("", -1, 0, 6));
        AtomicReference<OffsetFetchResponse> fetched = new AtomicReference<>();
        shard.offsets.fetch(OffsetFetchRequest.newBuilder().setGroupId("g").build(), fetched::set);
        assertEquals(5, fetched.get().getTopics(0).getPartitions(0).getCommittedOffset());
        assertEquals(ErrorCode.ILLEGAL_GENERATION, commit(a.get().getMemberId(), 7, 0, 6));
    }

    @Test
    void offsetFetchWaitsForEarlierCommitsToBeReplicated() {
        log.autoCommit = false;
        AtomicReference<OffsetCommitResponse> committed = new AtomicReference<>();
        shard.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId("g").setGenerationId(-1)
                .addTopics(OffsetCommitTopic.newBuilder().setName("t").addPartitions(OffsetCommitPartition
                        .newBuilder().setPartition(1).setCommittedOffset(9))).build(), committed::set);
        AtomicReference<OffsetFetchResponse> fetched = new AtomicReference<>();
        shard.offsets.fetch(OffsetFetchRequest.newBuilder().setGroupId("g").build(), fetched::set);
        assertNull(committed.get());
        assertNull(fetched.get());
        log.commitAll();
        assertEquals(ErrorCode.NONE, committed.get().getTopics(0).getPartitions(0).getError().getCode());
        assertEquals(9, fetched.get().getTopics(0).getPartitions(0).getCommittedOffset());
    }

    @Test
    void replayOfTheLogAndOfACheckpointRebuildsGroupsAndOffsets() {
        var a = join("", "a", 10_000);
        advance(300);
        String ma = a.get().getMemberId();
        sync(ma, 1);
        for (int i = 0; i < 50; i++) {
            assertEquals(ErrorCode.NONE, commit(ma, 1, i % 4, 100 + i));
        }
        // A second group that gets deleted: its tombstones must win on replay.
        AtomicReference<OffsetCommitResponse> other = new AtomicReference<>();
        shard.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId("gone").setGenerationId(-1)
                .addTopics(OffsetCommitTopic.newBuilder().setName("t").addPartitions(OffsetCommitPartition
                        .newBuilder().setPartition(0).setCommittedOffset(3))).build(), other::set);
        log.settle();
        AtomicReference<DeletedGroup> deleted = new AtomicReference<>();
        shard.delete("gone", deleted::set);
        log.settle();
        assertEquals(ErrorCode.NONE, deleted.get().getError().getCode());

        GroupShard fromLog = newShard(new MemoryLog());
        log.records().forEach(fromLog::replay);
        fromLog.finishLoad();
        assertSameDurableState(shard, fromLog);
        assertEquals("Stable", fromLog.describe("g").state());
        assertEquals(ErrorCode.NONE, fromLog.heartbeat(new ClassicGroupApi.HeartbeatRequest("g", ma, null, 1)).code(),
                "members survive a reload");

        List<CoordinatorRecord> checkpoint = shard.checkpointRecords();
        assertEquals(shard.liveKeys(), checkpoint.size());
        assertEquals(1 + 4, checkpoint.size(), "one group value and four offsets");
        assertTrue(log.records().size() > 50);
        GroupShard fromCheckpoint = newShard(new MemoryLog());
        checkpoint.forEach(fromCheckpoint::replay);
        fromCheckpoint.finishLoad();
        assertSameDurableState(shard, fromCheckpoint);
    }

    private static void assertSameDurableState(GroupShard expected, GroupShard actual) {
        assertEquals(expected.groups.keySet(), actual.groups.keySet());
        for (String id : expected.groups.keySet()) {
            ConsumerGroup e = expected.groups.get(id);
            ConsumerGroup a = actual.groups.get(id);
            Map<TopicPartition, Long> eo = new java.util.TreeMap<>(OffsetsAndAdmin::compare);
            Map<TopicPartition, Long> ao = new java.util.TreeMap<>(OffsetsAndAdmin::compare);
            e.offsets.forEach((tp, v) -> eo.put(tp, v.getCommittedOffset()));
            a.offsets.forEach((tp, v) -> ao.put(tp, v.getCommittedOffset()));
            assertEquals(eo, ao, "offsets of " + id);
            assertEquals(e.generationId, a.generationId, "generation of " + id);
            assertEquals(e.members.keySet(), a.members.keySet(), "members of " + id);
            assertEquals(e.persisted, a.persisted);
        }
    }
}
