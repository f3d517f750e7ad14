package io.raftmq.replication;

import static io.raftmq.replication.ReplicaManagerTestContext.assertWaiting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.storage.LogSlice;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumers' fetches through {@link ReplicaManager#fetchMessages}: they read below the high
 * watermark only, and a long poll is woken by the high watermark moving, not by an append alone.
 */
class ReplicaManagerConsumerFetchTest {
    @TempDir
    Path dir;

    @Test
    void aConsumerReadsNothingAtOrAboveTheHighWatermark() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.produce(1);
            ctx.produce(1);
            ctx.catchUp(2, 0);
            ctx.catchUp(2, 3);
            assertEquals(3, ctx.highWatermark());
            assertEquals(6, ctx.logEnd(ReplicaManagerTestContext.TP));

            FetchResult r = ctx.consumerFetch(0, 0, 0).join();
            assertTrue(r.error().isSuccess(), r.error().toString());
            assertEquals(3, r.highWatermark());
            assertEquals(0, r.records().firstOffset());
            assertEquals(3, r.records().nextOffset());
            assertTrue(ctx.consumerFetch(3, 0, 0).join().records().isEmpty());
        }
    }

    @Test
    void aLongPollIsWokenByTheHighWatermarkMovingNotByTheAppend() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var poll = ctx.consumerFetch(0, 5_000, 1);
            assertWaiting(poll);

            ctx.produce(1);
            assertWaiting(poll); // written, not yet replicated
            ctx.catchUp(2, 0);
            assertWaiting(poll);

            ctx.catchUp(2, 3); // the clock has not moved
            LogSlice read = poll.join().records();
            assertEquals(0, read.firstOffset());
            assertEquals(3, read.nextOffset());
            assertEquals(3, poll.join().highWatermark());
        }
    }

    @Test
    void aLongPollNothingSatisfiesIsAnsweredEmptyAtItsMaxWait() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var poll = ctx.consumerFetch(0, 5_000, 1);
            ctx.advanceMs(4_999);
            assertWaiting(poll);
            ctx.advanceMs(1);
            assertTrue(poll.join().error().isSuccess());
            assertTrue(poll.join().records().isEmpty());
        }
    }

    @Test
    void aConsumerAtAStaleLeaderEpochIsFencedAndOneAtANewerIsToldItsMetadataIsAhead() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1).withLeaderEpoch(3).build()) {
            ctx.produce(1);
            var stale = ctx.replicaManager.fetchMessages(0, 0, 1 << 20,
                    Map.of(ReplicaManagerTestContext.TP, new FetchSpec(0, 1 << 20, 2))).join();
            FetchResult r = stale.get(ReplicaManagerTestContext.TP);
            assertEquals(ErrorCode.FENCED_LEADER_EPOCH, r.error().code());
            assertTrue(r.records().isEmpty());
            assertEquals(3, r.currentLeaderEpoch());
            var newer = ctx.replicaManager.fetchMessages(0, 0, 1 << 20,
                    Map.of(ReplicaManagerTestContext.TP, new FetchSpec(0, 1 << 20, 4))).join();
            assertEquals(ErrorCode.UNKNOWN_LEADER_EPOCH, newer.get(ReplicaManagerTestContext.TP).error().code());
        }
    }

    @Test
    void aLongPollIsAnsweredNotLeaderOrFollowerWhenLeadershipMoves() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var poll = ctx.consumerFetch(0, 5_000, 1);
            assertWaiting(poll);

            ctx.moveLeadershipTo(ReplicaManagerTestContext.TP, 2, 1);
            assertTrue(poll.isDone(), "answered when the metadata is applied, not at max wait");
            assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, poll.join().error().code());
            assertEquals(2, poll.join().currentLeader());
        }
    }
}
