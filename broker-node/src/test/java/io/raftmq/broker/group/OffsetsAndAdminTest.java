package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.common.config.Config;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitPartitionResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetDeletePartitionResponse;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetDeleteTopic;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.replication.ReplicationConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offset commits, OffsetDelete and the group id rule on one shard with a log in memory: the
 * per-partition refusals of a commit (unknown topic, partition out of range, oversized metadata)
 * store nothing of those partitions and the rest is committed; OffsetDelete keeps the offsets of
 * subscribed topics and writes tombstones for the others; every group id the coordinator takes
 * is checked by one rule.
 */
class OffsetsAndAdminTest {
    @TempDir
    Path dir;
    private final MockTime time = new MockTime();
    private final GroupShardTest.MemoryLog log = new GroupShardTest.MemoryLog();
    private final Map<String, Integer> topics = Map.of("t", 4, "u", 2);
    private final AtomicInteger ids = new AtomicInteger();
    private final GroupShard shard = newShard(log);

    {
        shard.finishLoad();
    }

    private GroupShard newShard(GroupShard.Writer writer) {
        return new GroupShard(0, 1, GroupShardTest.CONFIG, time, writer, t -> topics.getOrDefault(t, 0),
                () -> "id" + ids.incrementAndGet());
    }

    private static OffsetCommitPartition.Builder offset(int partition, long offset) {
        return OffsetCommitPartition.newBuilder().setPartition(partition).setCommittedOffset(offset)
                .setCommittedLeaderEpoch(-1);
    }

    private OffsetCommitResponse commit(String groupId, OffsetCommitTopic... committed) {
        AtomicReference<OffsetCommitResponse> out = new AtomicReference<>();
        shard.offsets.commit(OffsetCommitRequest.newBuilder().setGroupId(groupId).setGenerationId(-1)
                .addAllTopics(List.of(committed)).build(), out::set);
        log.settle();
        return out.get();
    }

    private static OffsetCommitTopic topic(String name, OffsetCommitPartition.Builder... partitions) {
        OffsetCommitTopic.Builder t = OffsetCommitTopic.newBuilder().setName(name);
        for (OffsetCommitPartition.Builder p : partitions) {
            t.addPartitions(p);
        }
        return t.build();
    }

    /** Errors by "topic-partition". */
    private static Map<String, ErrorCode> errors(OffsetCommitResponse r) {
        Map<String, ErrorCode> out = new HashMap<>();
        r.getTopicsList().forEach(t -> {
            for (OffsetCommitPartitionResponse p : t.getPartitionsList()) {
                out.put(t.getName() + "-" + p.getPartition(), p.getError().getCode());
            }
        });
        return out;
    }

    private Map<String, Long> committed(String groupId) {
        AtomicReference<OffsetFetchResponse> out = new AtomicReference<>();
        shard.offsets.fetch(OffsetFetchRequest.newBuilder().setGroupId(groupId).build(), out::set);
        Map<String, Long> offsets = new HashMap<>();
        out.get().getTopicsList().forEach(t -> t.getPartitionsList().forEach(p -> offsets.put(t.getName() + "-"
                + p.getPartition(), p.getCommittedOffset())));
        return offsets;
    }

    private OffsetDeleteResponse deleteOffsets(String groupId, String topic, int... partitions) {
        OffsetDeleteTopic.Builder t = OffsetDeleteTopic.newBuilder().setName(topic);
        for (int p : partitions) {
            t.addPartitions(p);
        }
        AtomicReference<OffsetDeleteResponse> out = new AtomicReference<>();
        shard.offsets.deleteOffsets(OffsetDeleteRequest.newBuilder().setGroupId(groupId).addTopics(t).build(),
                out::set);
        log.settle();
        return out.get();
    }

    private static List<ErrorCode> partitionErrors(OffsetDeleteResponse r) {
        List<ErrorCode> out = new ArrayList<>();
        r.getTopicsList().forEach(t -> {
            for (OffsetDeletePartitionResponse p : t.getPartitionsList()) {
                out.add(p.getError().getCode());
            }
        });
        return out;
    }

    @Test
    void aCommitRefusesUnknownTopicsPartitionsOutOfRangeAndOversizedMetadataAndStoresTheRest() {
        int records = log.records().size();
        OffsetCommitResponse r = commit("g",
                topic("t", offset(0, 10), offset(4, 11), offset(-1, 12),
                        offset(1, 13).setMetadata("x".repeat(GroupShardTest.CONFIG.offsetMetadataMaxBytes() + 1)),
                        offset(2, 14).setMetadata("x".repeat(GroupShardTest.CONFIG.offsetMetadataMaxBytes()))),
                topic("missing", offset(0, 15)));
        assertEquals(Map.of("t-0", ErrorCode.NONE, "t-4", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                "t--1", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "t-1", ErrorCode.OFFSET_METADATA_TOO_LARGE,
                "t-2", ErrorCode.NONE, "missing-0", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), errors(r));
        assertEquals(Map.of("t-0", 10L, "t-2", 14L), committed("g"));
        assertEquals(records + 2, log.records().size(), "only the two accepted partitions are written");
        String message = r.getTopics(0).getPartitions(1).getError().getMessage();
        assertTrue(message.contains("partitions 0..3") && message.contains("partition 4"), message);
    }

    @Test
    void aCommitWithNothingValidWritesNothing() {
        OffsetCommitResponse r = commit("g", topic("missing", offset(0, 1)), topic("u", offset(2, 1)));
        assertEquals(Map.of("missing-0", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "u-2",
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), errors(r));
        assertTrue(log.records().isEmpty());
        assertFalse(shard.groups.containsKey("g"), "no group is created by a refused commit");
    }

    @Test
    void offsetDeleteRemovesOffsetsOfUnsubscribedTopicsAndKeepsSubscribedOnes() {
        commit("g", topic("t", offset(0, 5), offset(1, 6)), topic("u", offset(0, 7)));
        AtomicReference<JoinGroupResponse> joined = new AtomicReference<>();
        shard.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("g").setClientId("c").setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(5_000).setProtocolType("consumer").addTopics("t").addAssignors("range")
                .build(), "10.0.0.1"),
                r -> joined.set(SdkGroupMembers.joinResponse(r)));
        log.settle();

        int before = log.records().size();
        assertEquals(List.of(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC),
                partitionErrors(deleteOffsets("g", "t", 0, 1)));
        assertEquals(before, log.records().size(), "nothing written for subscribed partitions");
        OffsetDeleteResponse u = deleteOffsets("g", "u", 0, 1);
        assertEquals(ErrorCode.NONE, u.getError().getCode());
        assertEquals(List.of(ErrorCode.NONE, ErrorCode.NONE), partitionErrors(u),
                "a partition without a commit is NONE too");
        List<CoordinatorRecord> written = log.records().subList(before, log.records().size());
        assertEquals(List.of(new CoordinatorRecord.OffsetCommit("g", new TopicPartition("u", 0), null)), written,
                "one tombstone, for the partition that had a commit");
        assertEquals(Map.of("t-0", 5L, "t-1", 6L), committed("g"));
        assertEquals(List.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), partitionErrors(deleteOffsets("g", "u", 2)));
    }

    @Test
    void offsetDeleteOfAnUnknownGroupIsGroupIdNotFound() {
        OffsetDeleteResponse r = deleteOffsets("nobody", "t", 0);
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, r.getError().getCode());
        assertEquals(0, r.getTopicsCount());
        assertTrue(log.records().isEmpty());
    }

    @Test
    void offsetDeleteOfAGroupWithMembersOfAnotherProtocolTypeIsNonEmptyGroup() {
        AtomicReference<JoinGroupResponse> joined = new AtomicReference<>();
        shard.join(SdkGroupMembers.joinRequest(JoinGroupRequest.newBuilder().setGroupId("c").setClientId("c").setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(5_000).setProtocolType("connect").addAssignors("range").build(), "h"),
                r -> joined.set(SdkGroupMembers.joinResponse(r)));
        log.settle();
        assertEquals(ErrorCode.NON_EMPTY_GROUP, deleteOffsets("c", "u", 0).getError().getCode());
    }

    @Test
    void aGroupThatOnlyHadCommitsIsGoneWithItsLastOffsetAsAfterAReload() {
        commit("simple", topic("u", offset(0, 3), offset(1, 4)));
        assertEquals(List.of(ErrorCode.NONE, ErrorCode.NONE), partitionErrors(deleteOffsets("simple", "u", 0, 1)));
        assertFalse(shard.groups.containsKey("simple"));
        GroupShard reloaded = newShard(new GroupShardTest.MemoryLog());
        log.records().forEach(reloaded::replay);
        reloaded.finishLoad();
        assertFalse(reloaded.groups.containsKey("simple"));
    }

    @Test
    void groupIdsMustBeNonEmptyAndAtMost255Characters() {
        assertEquals(ApiError.NONE, GroupIds.check("g"));
        assertEquals(ApiError.NONE, GroupIds.check("g".repeat(255)));
        assertEquals(ErrorCode.INVALID_GROUP_ID, GroupIds.check("").code());
        ApiError tooLong = GroupIds.check("g".repeat(256));
        assertEquals(ErrorCode.INVALID_GROUP_ID, tooLong.code());
        assertTrue(tooLong.message().contains("256") && tooLong.message().contains("255"), tooLong.message());
    }

    @Test
    void theCoordinatorRefusesAnInvalidGroupIdOnEveryPathBeforeQueueing() throws Exception {
        // No loop started and no metadata: an answer can only come from the check before queueing.
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
        ReplicaManager replicas = new ReplicaManager(1, () -> 1, id -> -1, id -> true,
                new LogManager(dir, new LogEnvironment(time, scheduler, (d, e) -> { })),
                new ReplicationConfig(new Config(Map.of(), ReplicationConfig.KEYS)),
                proposal -> new CompletableFuture<>(), time, scheduler);
        GroupCoordinator coordinator = new GroupCoordinator(1, GroupShardTest.CONFIG, replicas,
                () -> MetadataImage.EMPTY, null, time);
        try {
            String tooLong = "x".repeat(256);
            assertEquals(ErrorCode.INVALID_GROUP_ID, coordinator.commitOffsets(OffsetCommitRequest.newBuilder()
                    .setGroupId(tooLong).setGenerationId(-1).addTopics(topic("t", offset(0, 1))).build())
                    .get().getError().getCode());
            assertEquals(ErrorCode.INVALID_GROUP_ID, coordinator.fetchOffsets(OffsetFetchRequest.newBuilder()
                    .setGroupId("").build()).get().getError().getCode());
            assertEquals(ErrorCode.INVALID_GROUP_ID, coordinator.deleteOffsets(OffsetDeleteRequest.newBuilder()
                    .setGroupId(tooLong).build()).get().getError().getCode());
            assertEquals(ErrorCode.INVALID_GROUP_ID, coordinator.findCoordinator(tooLong, "kafka").get().getError()
                    .getCode());
            assertEquals(ErrorCode.INVALID_GROUP_ID, coordinator.deleteGroups(
                    io.raftmq.protocol.broker.DeleteGroupsRequest.newBuilder().addGroupIds("").build()).get()
                    .getGroups(0).getError().getCode());
        } finally {
            coordinator.close();
            scheduler.shutdownNow();
        }
    }
}
