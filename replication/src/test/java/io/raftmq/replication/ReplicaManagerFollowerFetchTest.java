package io.raftmq.replication;

import static io.raftmq.replication.ReplicaManagerTestContext.TOPIC_ID;
import static io.raftmq.replication.ReplicaManagerTestContext.TP;
import static io.raftmq.replication.ReplicaManagerTestContext.assertAnswered;
import static io.raftmq.replication.ReplicaManagerTestContext.assertWaiting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.replication.ReplicaManager.ReplicaFetchResult;
import io.raftmq.replication.ReplicaManager.ReplicaFetchSpec;
import io.raftmq.storage.EpochEndOffset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Followers' fetches on the leader through {@link ReplicaManager#fetchForFollower}: refusals
 * (stale or newer epochs, non-replicas, stale broker registrations, offsets out of range) change
 * nothing; divergence is answered with where the leader's epoch ends; the positions fetches report
 * drive the high watermark and ISR expansion, and silence drives ISR shrink after the lag time.
 */
class ReplicaManagerFollowerFetchTest {
    @TempDir
    Path dir;

    private static ReplicaFetchSpec spec(long fetchOffset, int currentLeaderEpoch, int lastFetchedEpoch) {
        return new ReplicaFetchSpec(TOPIC_ID, TP.partition(), fetchOffset, fetchOffset, currentLeaderEpoch,
                lastFetchedEpoch, 1 << 20);
    }

    private static void assertRefused(ErrorCode expected, CompletableFuture<ReplicaFetchResult> fetch) {
        assertTrue(fetch.isDone(), "a refusal is answered at once");
        ReplicaFetchResult r = fetch.join();
        assertEquals(expected, r.error().code(), r.error().toString());
        assertFalse(r.records().hasRemaining());
    }

    @Test
    void aFetchAtAStaleOrNewerLeaderEpochIsRefusedAndItsPositionNotCounted() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).withLeaderEpoch(5).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);

            var stale = ctx.followerFetch(2, spec(3, 4, 5), 500);
            assertRefused(ErrorCode.FENCED_LEADER_EPOCH, stale);
            assertTrue(stale.join().error().message().contains("leader epoch 4"), stale.join().error().message());
            var newer = ctx.followerFetch(2, spec(3, 6, 5), 500);
            assertRefused(ErrorCode.UNKNOWN_LEADER_EPOCH, newer);

            assertEquals(0, ctx.highWatermark(), "a refused fetch reports no position");
            assertWaiting(answer);
            ctx.assertFetched(ctx.followerFetch(2, spec(3, 5, 5), 0));
            assertAnswered(ErrorCode.NONE, answer);
        }
    }

    @Test
    void aFetchFromABrokerThatIsNotAReplicaIsRefused() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.produce(1);
            assertRefused(ErrorCode.NOT_LEADER_OR_FOLLOWER, ctx.followerFetch(7, spec(0, 0, -1), 0));
            assertRefused(ErrorCode.NOT_LEADER_OR_FOLLOWER, ctx.followerFetch(1, spec(0, 0, -1), 0));
            assertTrue(ctx.followerFetch(7, spec(0, 0, -1), 0).join().error().message().contains("broker 7"));
            assertFalse(ctx.controller.hasPending(), "a non-replica is never proposed for the ISR");
        }
    }

    @Test
    void aFetchForAPartitionThisBrokerDoesNotHoldIsUnknown() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var fetch = ctx.followerFetch(2, new ReplicaFetchSpec(new UUID(9, 9), 0, 0, 0, 0, -1, 1 << 20), 500);
            assertRefused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, fetch);
        }
    }

    @Test
    void aFetchWithAStaleBrokerEpochIsRefusedAsAStaleProcess() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.brokerEpochs.put(2, 8L);
            CompletableFuture<List<ReplicaFetchResult>> fetch = ctx.replicaManager.fetchForFollower(2, 7L, 0, 0,
                    List.of(spec(0, 0, -1)));
            CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                    fetch::join);
            assertInstanceOf(ReplicaManager.StaleBrokerEpochException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("epoch 7") && e.getCause().getMessage().contains("8"),
                    e.getCause().getMessage());
        }
    }

    @Test
    void aFetchPastTheLeadersLogEndIsOutOfRange() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.produce(1);
            // No last fetched epoch, so nothing to diverge from: the offset itself is past the end.
            var fetch = ctx.followerFetch(2, spec(4, 0, -1), 500);
            assertRefused(ErrorCode.OFFSET_OUT_OF_RANGE, fetch);
            assertTrue(fetch.join().error().message().contains("0 to 3"), fetch.join().error().message());
            assertEquals(0, ctx.highWatermark());
        }
    }

    @Test
    void aFetchBelowTheLeadersLogStartIsOutOfRangeAndTellsTheLogStart() throws Exception {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).withIsr(1).build()) {
            ctx.produce(1);
            ctx.produce(1);
            assertEquals(ErrorCode.NONE, ctx.partition(TP).deleteRecordsBeforeAsLeader(0, 3).code());

            var fetch = ctx.followerFetch(2, spec(1, 0, -1), 500);
            assertRefused(ErrorCode.OFFSET_OUT_OF_RANGE, fetch);
            assertEquals(3, fetch.join().logStartOffset());
            assertFalse(ctx.controller.hasPending(), "an out-of-range fetch reports no position");
        }
    }

    @Test
    void aFollowerWhoseLastEpochEndsEarlierInTheLeadersLogIsToldWhereItEnds() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.produce(1); // epoch 0: offsets 0-2
            ctx.becomeLeader(TP, 2, 1, List.of(1, 2));
            ctx.produce(1); // epoch 2: offsets 3-5

            // The follower wrote offsets 3 and 4 in epoch 1 (as a leader this log never heard of).
            var fetch = ctx.followerFetch(2, spec(5, 2, 1), 500);
            assertTrue(fetch.isDone());
            ReplicaFetchResult r = fetch.join();
            assertTrue(r.error().isSuccess(), r.error().toString());
            assertEquals(new EpochEndOffset(0, 3), r.divergingEpoch());
            assertFalse(r.records().hasRemaining());

            // Epoch 0 ended at 3 here, but the follower claims epoch 0 up to 4: diverged too.
            assertEquals(new EpochEndOffset(0, 3), ctx.followerFetch(2, spec(4, 2, 0), 0).join().divergingEpoch());
            // A follower whose epoch 0 ends where the leader's does is not diverged.
            assertNull(ctx.followerFetch(2, spec(3, 2, 0), 0).join().divergingEpoch());
        }
    }

    @Test
    void theHighWatermarkCountsWhatFollowersHaveOnDiskNotWhatTheyFetched() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.produce(1);
            ctx.produce(1);
            ctx.catchUp(2, 0);
            ctx.assertFetched(ctx.followerFetch(TP, 2, 6, 3, 0)); // has six, three on disk
            assertEquals(3, ctx.highWatermark());
            ctx.assertHighWatermarkAtMost(Map.of(2, 3L));

            ctx.assertFetched(ctx.followerFetch(TP, 2, 6, 6, 0));
            assertEquals(6, ctx.highWatermark());
        }
    }

    @Test
    void aFollowerThatCatchesUpIsProposedForTheIsrAndCountsForTheHighWatermarkWhileProposed() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).withIsr(1).build()) {
            ctx.produce(1);
            assertEquals(3, ctx.highWatermark(), "the leader alone in the ISR");

            ctx.catchUp(2, 0); // behind the high watermark: not proposed
            assertFalse(ctx.controller.hasPending());
            ctx.catchUp(2, 3);
            Partition.IsrProposal proposal = ctx.controller.pending();
            assertEquals(List.of(1, 2), proposal.isr());
            assertEquals(0, proposal.leaderEpoch());
            assertEquals(0, proposal.partitionEpoch());

            // While proposed, follower 2 holds the high watermark back, as if it were in the ISR.
            ctx.produce(1);
            assertEquals(3, ctx.highWatermark());
            ctx.assertHighWatermarkAtMost(Map.of(2, 3L));
            ctx.catchUp(2, 3); // no second proposal while one is pending
            assertEquals(1, ctx.controller.received.size());

            ctx.controller.accept();
            assertEquals(List.of(1, 2), ctx.partition(TP).isr());
            ctx.catchUp(2, 6);
            assertEquals(6, ctx.highWatermark());
        }
    }

    @Test
    void aRefusedProposalIsProposedAgainOnlyAfterTheBackoff() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).withIsr(1).build()) {
            ctx.produce(1);
            ctx.catchUp(2, 3);
            ctx.controller.refuse(ErrorCode.INVALID_UPDATE_VERSION);
            assertEquals(List.of(1), ctx.partition(TP).isr());

            ctx.catchUp(2, 3);
            assertFalse(ctx.controller.hasPending(), "backing off");
            ctx.advanceMs(ReplicaManager.ISR_PROPOSAL_BACKOFF_MS);
            ctx.catchUp(2, 3);
            assertEquals(List.of(1, 2), ctx.controller.pending().isr());
        }
    }

    @Test
    void aFollowerThatHasNotCaughtUpForTheLagTimeIsProposedForRemoval() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withLagTimeMaxMs(1_000).build()) {
            ctx.produce(1);
            ctx.catchUp(2, 0);
            ctx.catchUp(3, 0); // broker 3 fetched once, then stops
            ctx.catchUp(2, 3);

            ctx.advanceMs(1_000);
            ctx.catchUp(2, 3);
            assertFalse(ctx.controller.hasPending(), "not past the lag time yet");

            ctx.advanceMs(500); // the next ISR check
            assertEquals(List.of(1, 2), ctx.controller.pending().isr());
            ctx.controller.accept();
            assertEquals(List.of(1, 2), ctx.partition(TP).isr());
            assertEquals(3, ctx.highWatermark(), "broker 3 no longer holds it back");

            // Back and caught up, broker 3 is proposed again.
            ctx.catchUp(3, 3);
            assertEquals(List.of(1, 2, 3), ctx.controller.pending().isr());
        }
    }
}
