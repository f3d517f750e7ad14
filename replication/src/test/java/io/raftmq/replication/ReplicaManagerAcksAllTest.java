package io.raftmq.replication;

import static io.raftmq.replication.ReplicaManagerTestContext.TP;
import static io.raftmq.replication.ReplicaManagerTestContext.assertAnswered;
import static io.raftmq.replication.ReplicaManagerTestContext.assertWaiting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.storage.LogSlice;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * acks=all produce on the leader, driven step by step through {@link ReplicaManagerTestContext}:
 * when it is answered, and with what, as followers fetch, the ISR changes, time passes and
 * leadership moves. No step waits for a thread: the clock and every scheduled task are the test's.
 */
class ReplicaManagerAcksAllTest {
    @TempDir
    Path dir;

    @Test
    void answeredOnlyOnceEveryIsrMemberHasTheRecordsOnDisk() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withMinInsyncReplicas(2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);
            assertWaiting(answer);

            ctx.catchUp(2, 0); // gets the records
            ctx.catchUp(2, 3); // has them on disk
            assertWaiting(answer); // broker 3, in the ISR, has not fetched: min.insync.replicas is not enough
            assertEquals(0, ctx.highWatermark());

            // Broker 3 has the records in its log but not yet on disk: that does not count.
            ctx.assertFetched(ctx.followerFetch(TP, 3, 3, 0, 0));
            assertWaiting(answer);
            ctx.assertHighWatermarkAtMost(Map.of(2, 3L, 3, 0L));

            ctx.assertFetched(ctx.followerFetch(TP, 3, 3, 3, 0));
            assertAnswered(ErrorCode.NONE, answer);
            assertEquals(0, answer.join().baseOffset());
            assertEquals(3, ctx.highWatermark());
        }
    }

    @Test
    void theLeadersOwnFsyncIsAwaitedToo() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1).build()) {
            var answer = ctx.replicaManager.appendRecords(-1, 30_000,
                    Map.of(TP, ReplicaManagerTestContext.records(3)));
            assertWaiting(answer); // the fsync is queued on the log's flusher, which has not run
            assertEquals(0, ctx.highWatermark());

            ctx.poll();
            assertEquals(ErrorCode.NONE, answer.join().get(TP).error().code());
            assertEquals(3, ctx.highWatermark());
        }
    }

    @Test
    void refusedNotEnoughReplicasBeforeWritingWhenTheIsrIsBelowMinInsyncReplicas() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withIsr(1).withMinInsyncReplicas(2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);

            assertAnswered(ErrorCode.NOT_ENOUGH_REPLICAS, answer);
            String message = answer.join().error().message();
            assertTrue(message.contains("min.insync.replicas is 2") && message.contains("[1]"), message);
            assertEquals(0, ctx.logEnd(TP), "nothing is written");
        }
    }

    @Test
    void acksOneIsNotHeldToMinInsyncReplicas() {
        // min.insync.replicas applies to acks=all only (as Kafka): acks=1 answers once the leader
        // has the records, whatever the ISR.
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withIsr(1).withMinInsyncReplicas(2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(1);

            assertAnswered(ErrorCode.NONE, answer);
            assertEquals(0, answer.join().baseOffset());
            assertEquals(3, ctx.logEnd(TP));
        }
    }

    @Test
    void acksOneWaitingForTheLeadersFsyncIsNotFailedByAnIsrShrink() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).withMinInsyncReplicas(2)
                .withLagTimeMaxMs(1_000).build()) {
            ctx.advanceMs(1_500); // follower 2 never fetched: proposed out of the ISR
            var answer = ctx.replicaManager.appendRecords(1, 30_000,
                    Map.of(TP, ReplicaManagerTestContext.records(3)));
            ctx.controller.accept(); // committed while the append waits for its fsync
            assertEquals(List.of(1), ctx.partition(TP).isr());

            ctx.poll();
            assertEquals(ErrorCode.NONE, answer.join().get(TP).error().code(), answer.join().toString());
        }
    }

    @Test
    void anIsrShrinkBelowMinInsyncReplicasThatMovesTheHighWatermarkPastTheRecordsIsNotASuccess() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withMinInsyncReplicas(3).withLagTimeMaxMs(1_000)
                .build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);
            ctx.catchUp(2, 0);
            ctx.catchUp(2, 3);
            assertWaiting(answer); // broker 3 is silent and holds the high watermark at 0

            // Broker 3 falls out after the lag time; broker 2 keeps fetching.
            ctx.advanceMs(600);
            ctx.catchUp(2, 3);
            ctx.advanceMs(600);
            assertEquals(List.of(1, 2), ctx.controller.pending().isr());
            assertWaiting(answer); // while the shrink is pending, broker 3 still counts
            assertEquals(0, ctx.highWatermark());

            ctx.controller.accept();
            // The shrink itself moved the high watermark past the records, but two copies are not
            // what min.insync.replicas=3 promises.
            assertEquals(3, ctx.highWatermark());
            assertAnswered(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, answer);
            assertTrue(answer.join().error().message().contains("min.insync.replicas is 3"),
                    answer.join().error().message());
        }
    }

    @Test
    void anIsrShrinkThatKeepsMinInsyncReplicasAnswersSuccess() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withMinInsyncReplicas(2).withLagTimeMaxMs(1_000)
                .build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);
            ctx.catchUp(2, 0);
            ctx.catchUp(2, 3);
            ctx.advanceMs(600);
            ctx.catchUp(2, 3);
            ctx.advanceMs(600);
            ctx.controller.accept();

            assertAnswered(ErrorCode.NONE, answer);
            assertEquals(List.of(1, 2), ctx.partition(TP).isr());
        }
    }

    @Test
    void timesOutRequestTimedOutAtItsTimeoutAndTheRecordsAreKept() throws Exception {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(TP, -1, 1_000);
            ctx.advanceMs(999);
            assertWaiting(answer);

            ctx.advanceMs(1);
            assertAnswered(ErrorCode.REQUEST_TIMED_OUT, answer);
            assertTrue(answer.join().error().message().contains("within 1000 ms"), answer.join().error().message());

            // Nothing was lost: once the follower has them, consumers read all three records.
            assertEquals(3, ctx.logEnd(TP));
            ctx.catchUp(2, 0);
            ctx.catchUp(2, 3);
            assertEquals(3, ctx.highWatermark());
            LogSlice read = ctx.consumerFetch(0, 0, 0).join().records();
            assertEquals(0, read.firstOffset());
            assertEquals(3, read.nextOffset());
        }
    }

    @Test
    void answeredNotLeaderOrFollowerWhenLeadershipMovesWhileItWaits() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);
            assertWaiting(answer);

            ctx.moveLeadershipTo(TP, 2, 1); // metadata applied: answered then, not at the timeout
            assertAnswered(ErrorCode.NOT_LEADER_OR_FOLLOWER, answer);
            assertEquals(1, answer.join().currentLeaderEpoch());
        }
    }

    @Test
    void answeredNotLeaderOrFollowerWhenThisBrokerLeadsAgainInANewerEpoch() {
        try (var ctx = new ReplicaManagerTestContext.Builder(dir).withReplicas(1, 2).build()) {
            CompletableFuture<ProduceResult> answer = ctx.produce(-1);

            // Re-elected: the records were written in epoch 0 and the new epoch may truncate them.
            ctx.becomeLeader(TP, 1, 1, List.of(1, 2));
            assertAnswered(ErrorCode.NOT_LEADER_OR_FOLLOWER, answer);
        }
    }
}
