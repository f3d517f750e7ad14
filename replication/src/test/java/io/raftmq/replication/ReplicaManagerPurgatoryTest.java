package io.raftmq.replication;

import static io.raftmq.replication.ReplicaManagerTestContext.TP;
import static io.raftmq.replication.ReplicaManagerTestContext.TP1;
import static io.raftmq.replication.ReplicaManagerTestContext.assertAnswered;
import static io.raftmq.replication.ReplicaManagerTestContext.assertWaiting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.raftmq.protocol.common.ErrorCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link ReplicaManager}'s waiting requests: each is woken by the event that satisfies it (a
 * follower's fetch for a produce, an append for a follower's fetch), not by a timer, and is
 * answered once; a request nothing satisfies expires at its time; waiters are keyed per partition.
 */
class ReplicaManagerPurgatoryTest {
    @TempDir
    Path dir;

    @Test
    void aWaitingProduceIsCompletedByTheFollowerFetchThatCoversItAndAnsweredOnce() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            AtomicInteger answers = new AtomicInteger();
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);
            answer.whenComplete((r, e) -> answers.incrementAndGet());
            ctx.catchUp(2, 0);
            assertWaiting(answer);

            ctx.catchUp(2, 3); // the clock has not moved: this fetch completed it
            assertAnswered(ErrorCode.NONE, answer);
            ctx.catchUp(2, 3);
            ctx.advanceMs(60_000); // past its timeout
            assertEquals(1, answers.get());
            assertAnswered(ErrorCode.NONE, answer);
        }
    }

    @Test
    void aWaitingFollowerFetchIsCompletedByTheAppendItWaitsFor() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var fetch = ctx.followerFetch(2, 0, 500);
            assertWaiting(fetch);

            ctx.produce(1);
            var result = ctx.assertFetched(fetch);
            assertEquals(3, ReplicaManagerTestContext.nextOffsetOf(result.records(), 0));
        }
    }

    @Test
    void aWaitingFollowerFetchNothingSatisfiesIsAnsweredEmptyAtItsMaxWait() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var fetch = ctx.followerFetch(2, 0, 500);
            ctx.advanceMs(499);
            assertWaiting(fetch);

            ctx.advanceMs(1);
            var result = ctx.assertFetched(fetch);
            assertFalse(result.records().hasRemaining());
        }
    }

    @Test
    void aFollowerFetchWaitingOnTheLeaderIsAnsweredWhenLeadershipMoves() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            var fetch = ctx.followerFetch(2, 0, 500);
            ctx.moveLeadershipTo(TP, 2, 1);
            assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, fetch.join().error().code());
        }
    }

    @Test
    void manyWaitingProducesAreWokenOnlyByTheirOwnPartition() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            ctx.becomeLeader(TP1, 0, 0, List.of(1, 2));
            List<CompletableFuture<ProduceResult>> onTp = new ArrayList<>();
            List<CompletableFuture<ProduceResult>> onTp1 = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                onTp.add(ctx.produce(TP, -1, 30_000));
                onTp1.add(ctx.produce(TP1, -1, 30_000));
            }

            // Follower 2 has the first three batches of TP: their produces, and only those, are answered.
            ctx.assertFetched(ctx.followerFetch(TP, 2, 9, 9, 0));
            for (int i = 0; i < 5; i++) {
                if (i < 3) {
                    assertAnswered(ErrorCode.NONE, onTp.get(i));
                    assertEquals(3L * i, onTp.get(i).join().baseOffset());
                } else {
                    assertWaiting(onTp.get(i));
                }
                assertWaiting(onTp1.get(i));
            }

            ctx.assertFetched(ctx.followerFetch(TP1, 2, 15, 15, 0));
            onTp1.forEach(a -> assertAnswered(ErrorCode.NONE, a));
            assertWaiting(onTp.get(3));
            ctx.assertFetched(ctx.followerFetch(TP, 2, 15, 15, 0));
            onTp.forEach(a -> assertAnswered(ErrorCode.NONE, a));
        }
    }
}
