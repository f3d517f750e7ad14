package io.raftmq.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchPartitionResponse;
import io.raftmq.storage.AppendResult;
import io.raftmq.storage.EpochEndOffset;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One partition's replication rules, with replicas wired to each other in memory (a "fetch" is a
 * direct call): the high watermark, acks=all status, ISR shrink and expansion proposals, leader
 * epoch fencing, and truncation of a diverged follower.
 */
class PartitionTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final UUID TOPIC_ID = new UUID(1, 2);
    private static final long LAG_MS = 10_000;

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private ScheduledExecutorService scheduler;
    private LogEnvironment env;
    private final List<PartitionLog> logs = new ArrayList<>();

    @BeforeEach
    void setUp() {
        scheduler = Executors.newScheduledThreadPool(1);
        env = new LogEnvironment(time, scheduler, (d, e) -> { });
    }

    @AfterEach
    void tearDown() throws Exception {
        for (PartitionLog log : logs) {
            log.close();
        }
        scheduler.shutdownNow();
    }

    private Partition replica(int brokerId) throws Exception {
        PartitionLog log = PartitionLog.open(dir.resolve("broker-" + brokerId).resolve(TP.toString()),
                LogConfig.defaults(), env);
        logs.add(log);
        return new Partition(TP, TOPIC_ID, brokerId, log);
    }

    private static PartitionAssignment assignment(int leader, int leaderEpoch, int partitionEpoch, List<Integer> isr,
            int minIsr) {
        return new PartitionAssignment(TP, TOPIC_ID, List.of(1, 2, 3), isr, leader, leaderEpoch, partitionEpoch, null,
                minIsr, LogConfig.defaults());
    }

    private static ByteBuffer records(int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE, 64);
        for (int i = 0; i < count; i++) {
            b.append(1000 + i, null, ("v" + i).getBytes());
        }
        return b.build();
    }

    private long append(Partition leader, int count) {
        Partition.LeaderAppend a = leader.appendAsLeader(records(count), -1);
        assertTrue(a.error().isSuccess(), a.error().toString());
        try {
            a.appended().durable().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        leader.onLocalDurable(); // as ReplicaManager does when the leader's fsync ends
        return a.appended().lastOffset() + 1;
    }

    /**
     * Broker 1's replica {@code a} leads epoch 0 with broker 2's {@code b} following (both in the
     * ISR), writes {@code count} records, and {@code b} copies them.
     */
    private void leadAndReplicate(Partition a, Partition b, int count) throws Exception {
        a.apply(assignment(1, 0, 0, List.of(1, 2), 1), time.monotonicMs());
        b.apply(assignment(1, 0, 0, List.of(1, 2), 1), time.monotonicMs());
        append(a, count);
        fetch(a, 2, b);
    }

    /**
     * One follower fetch round trip through the code the brokers run: the follower's request and
     * its handling of the answer are FollowerFetcher's, the answer is encoded as ReplicaGrpcService
     * does. Returns what the leader answered.
     */
    private Partition.FollowerRead fetch(Partition leader, int followerId, Partition follower) throws Exception {
        ReplicaFetchPartition ask = FollowerFetcher.fetchPosition(follower, leader.leaderEpoch(), 1 << 20);
        Partition.FollowerRead read = leader.readForFollower(followerId, ask.getFetchOffset(),
                ask.getDurableOffset(), ask.getCurrentLeaderEpoch(), ask.getLastFetchedEpoch(),
                ask.getPartitionMaxBytes(), true, time.monotonicMs());
        if (read.error().isFailure()) {
            return read;
        }
        ByteBuffer records = read.records() instanceof ReadResult.Slice slice && !slice.records().isEmpty()
                ? slice.records().read() : ByteBuffer.allocate(0);
        ReplicaFetchPartitionResponse answer = ReplicaGrpcService.partitionResponse(
                new ReplicaManager.ReplicaFetchResult(TOPIC_ID, TP.partition(), read.error(), read.highWatermark(),
                        read.logStartOffset(), read.divergingEpoch(), records));
        AppendResult.Rejected rejected = FollowerFetcher.applyAnswer(follower, answer);
        assertNull(rejected, () -> "the follower refused the records: " + rejected);
        // As the fetcher does before its next fetch: wait until what it appended is durable.
        follower.log().flush().get(10, java.util.concurrent.TimeUnit.SECONDS);
        return read;
    }

    @Test
    void theHighWatermarkIsTheSmallestPositionOverTheIsrAndWaitsForUnheardMembers() throws Exception {
        Partition leader = replica(1);
        Partition f2 = replica(2);
        Partition f3 = replica(3);
        leader.apply(assignment(1, 0, 0, List.of(1, 2, 3), 2), time.monotonicMs());
        f2.apply(assignment(1, 0, 0, List.of(1, 2, 3), 2), time.monotonicMs());
        f3.apply(assignment(1, 0, 0, List.of(1, 2, 3), 2), time.monotonicMs());

        long end = append(leader, 5);
        assertEquals(0, leader.highWatermark());
        fetch(leader, 2, f2); // gets the records
        fetch(leader, 2, f2); // reports position 5
        assertEquals(0, leader.highWatermark(), "follower 3 has not been heard from");
        assertNull(leader.replicationStatus(0, end), "acks=all must wait");
        fetch(leader, 3, f3);
        assertEquals(0, leader.highWatermark(), "follower 3 is at 0");
        fetch(leader, 3, f3);
        assertEquals(5, leader.highWatermark());
        assertEquals(ApiError.NONE, leader.replicationStatus(0, end));
        fetch(leader, 2, f2);
        assertEquals(5, f2.highWatermark(), "followers learn the high watermark");
    }

    @Test
    void aLeaderWhoseIsrIsItselfExposesItsRecoveredLogAtOnce() throws Exception {
        Partition first = replica(1);
        first.apply(assignment(1, 0, 0, List.of(1), 1), time.monotonicMs());
        long end = append(first, 5);
        assertEquals(end, first.highWatermark());
        first.log().close();
        logs.clear();
        // A restart: the reopened log leads again with an ISR of itself and no append after it.
        Partition restarted = replica(1);
        restarted.apply(assignment(1, 1, 1, List.of(1), 1), time.monotonicMs());
        assertEquals(end, restarted.log().logEndOffset());
        assertEquals(end, restarted.highWatermark(), "a leader alone in its ISR hid its recovered records");
    }

    @Test
    void theHighWatermarkCountsOnlyWhatEachReplicaHasOnDisk() throws Exception {
        FaultyFiles files = new FaultyFiles();
        java.util.concurrent.CountDownLatch disk = new java.util.concurrent.CountDownLatch(1);
        PartitionLog log = PartitionLog.open(dir.resolve("stalled").resolve(TP.toString()), LogConfig.defaults(),
                new LogEnvironment(time, scheduler, (d, e) -> { }, files));
        logs.add(log);
        Partition leader = new Partition(TP, TOPIC_ID, 1, log);
        leader.apply(assignment(1, 0, 0, List.of(1, 2), 1), time.monotonicMs());
        // The disk stalls from here on (opening the log fsynced its directory).
        files.beforeForce = () -> {
            try {
                disk.await();
            } catch (InterruptedException e) {
                throw new java.io.IOException(e);
            }
        };
        Partition.LeaderAppend a = leader.appendAsLeader(records(5), 1);
        assertTrue(a.error().isSuccess());
        try {
            // Follower 2 has the 5 records in its log but not yet on disk: it does not count them.
            leader.readForFollower(2, 5, 0, 0, 0, 1 << 20, true, time.monotonicMs());
            assertEquals(0, leader.highWatermark());
            // On its disk now, but the leader's own fsync stalls: the leader does not count them either.
            leader.readForFollower(2, 5, 5, 0, 0, 1 << 20, true, time.monotonicMs());
            assertEquals(0, leader.highWatermark(), "records only in the leader's page cache were counted");
        } finally {
            disk.countDown();
        }
        a.appended().durable().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(leader.onLocalDurable());
        assertEquals(5, leader.highWatermark());
    }

    @Test
    void acksAllIsRefusedWhenTheIsrIsSmallerThanMinInsyncReplicas() throws Exception {
        Partition leader = replica(1);
        leader.apply(assignment(1, 0, 1, List.of(1), 2), time.monotonicMs());
        Partition.LeaderAppend all = leader.appendAsLeader(records(1), -1);
        assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS, all.error().code());
        assertTrue(all.error().message().contains("min.insync.replicas is 2"), all.error().message());
        assertEquals(0, leader.log().logEndOffset(), "nothing is written");
        // acks=1 does not need the ISR.
        assertTrue(leader.appendAsLeader(records(1), 1).error().isSuccess());
    }

    @Test
    void acksAllWhoseIsrShrankBelowMinInsyncReplicasWhileItWaitedFailsNotEnoughReplicasAfterAppend()
            throws Exception {
        Partition leader = replica(1);
        leader.apply(assignment(1, 0, 0, List.of(1, 2), 2), time.monotonicMs());
        long end = append(leader, 3);
        assertNull(leader.replicationStatus(0, end), "follower 2 has not fetched");
        // Follower 2 leaves the ISR: the leader alone makes the high watermark, which jumps to its end.
        assertTrue(leader.onIsrCommitted(0, 1, List.of(1)));
        assertEquals(end, leader.highWatermark());
        ApiError status = leader.replicationStatus(0, end);
        assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, status.code(), "one copy answered as acks=all");
        assertTrue(status.message().contains("min.insync.replicas is 2"), status.message());
    }

    @Test
    void aFollowerThatHasNotCaughtUpForTheLagTimeIsProposedForRemoval() throws Exception {
        Partition leader = replica(1);
        Partition f2 = replica(2);
        Partition f3 = replica(3);
        for (Partition p : List.of(leader, f2, f3)) {
            p.apply(assignment(1, 0, 0, List.of(1, 2, 3), 1), time.monotonicMs());
        }
        for (int i = 0; i < 20; i++) {
            append(leader, 1);
            fetch(leader, 2, f2);
            fetch(leader, 3, f3);
            time.advanceMs(1000);
            assertNull(leader.maybeProposeShrink(time.monotonicMs(), LAG_MS), "both keep up");
        }
        // Follower 3 stops fetching; follower 2 keeps up.
        // Its last fetch caught it up to the leader's end as of the fetch before, a second earlier:
        // that is when it was last caught up.
        for (int i = 0; i < 8; i++) {
            append(leader, 1);
            fetch(leader, 2, f2);
            fetch(leader, 2, f2);
            time.advanceMs(1000);
            assertNull(leader.maybeProposeShrink(time.monotonicMs(), LAG_MS), "not lagging long enough yet at " + i);
        }
        time.advanceMs(1);
        Partition.IsrProposal shrink = leader.maybeProposeShrink(time.monotonicMs(), LAG_MS);
        assertNotNull(shrink);
        assertEquals(List.of(1, 2), shrink.isr());
        assertEquals(0, shrink.leaderEpoch());
        assertNull(leader.maybeProposeShrink(time.monotonicMs(), LAG_MS), "one proposal at a time");
        // While the proposal is out, the high watermark still waits for the larger ISR.
        long hw = leader.highWatermark();
        append(leader, 1);
        fetch(leader, 2, f2);
        fetch(leader, 2, f2);
        assertEquals(hw, leader.highWatermark());
        // Committed: the high watermark moves with the new ISR.
        assertTrue(leader.onIsrCommitted(0, 1, List.of(1, 2)));
        assertEquals(leader.log().logEndOffset(), leader.highWatermark());
    }

    @Test
    void aFollowerFetchingSteadilyButBehindALeaderUnderLoadStaysInTheIsr() throws Exception {
        Partition leader = replica(1);
        Partition f2 = replica(2);
        leader.apply(new PartitionAssignment(TP, TOPIC_ID, List.of(1, 2), List.of(1, 2), 1, 0, 0, null, 1,
                LogConfig.defaults()), time.monotonicMs());
        f2.apply(new PartitionAssignment(TP, TOPIC_ID, List.of(1, 2), List.of(1, 2), 1, 0, 0, null, 1,
                LogConfig.defaults()), time.monotonicMs());
        // Each fetch reaches the leader's end as of the previous fetch, though the leader has
        // always appended more by then: caught up in Kafka's sense.
        for (int i = 0; i < 30; i++) {
            append(leader, 1);
            fetch(leader, 2, f2);
            time.advanceMs(1000);
            assertNull(leader.maybeProposeShrink(time.monotonicMs(), LAG_MS), "round " + i);
        }
    }

    @Test
    void aFollowerBackAtTheHighWatermarkIsProposedForTheIsrUnlessItIsIneligible() throws Exception {
        Partition leader = replica(1);
        Partition f2 = replica(2);
        Partition f3 = replica(3);
        for (Partition p : List.of(leader, f2, f3)) {
            p.apply(assignment(1, 0, 1, List.of(1, 2), 1), time.monotonicMs());
        }
        append(leader, 3);
        fetch(leader, 2, f2);
        fetch(leader, 2, f2);
        assertEquals(3, leader.highWatermark());
        Partition.FollowerRead first = leader.readForFollower(3, 0, 0, 0, -1, 1 << 20, true, time.monotonicMs());
        assertNull(first.expansion(), "follower 3 is at 0, below the high watermark 3");
        ((AppendResult.Appended) f3.appendAsFollower(((ReadResult.Slice) first.records()).records().read()))
                .durable().get();
        Partition.FollowerRead ineligible = leader.readForFollower(3, 3, 3, 0, 0, 1 << 20, false, time.monotonicMs());
        assertNull(ineligible.expansion(), "fenced or shutting down: not proposed");
        Partition.FollowerRead caughtUp = leader.readForFollower(3, 3, 3, 0, 0, 1 << 20, true, time.monotonicMs());
        assertNotNull(caughtUp.expansion());
        assertEquals(List.of(1, 2, 3), caughtUp.expansion().isr());
        // Refused (say, a stale partition epoch): no new proposal during the backoff.
        leader.onIsrProposalFailed(time.monotonicMs(), 500);
        assertNull(leader.readForFollower(3, 3, 3, 0, 0, 1 << 20, true, time.monotonicMs()).expansion());
        time.advanceMs(501);
        assertNotNull(leader.readForFollower(3, 3, 3, 0, 0, 1 << 20, true, time.monotonicMs()).expansion());
    }

    @Test
    void leaderEpochsFenceStaleAndNewerRequests() throws Exception {
        Partition leader = replica(1);
        leader.apply(assignment(1, 5, 5, List.of(1, 2, 3), 1), time.monotonicMs());
        Partition.FollowerRead stale = leader.readForFollower(2, 0, 0, 4, -1, 1024, true, time.monotonicMs());
        assertEquals(ErrorCode.FENCED_LEADER_EPOCH, stale.error().code());
        Partition.FollowerRead newer = leader.readForFollower(2, 0, 0, 6, -1, 1024, true, time.monotonicMs());
        assertEquals(ErrorCode.UNKNOWN_LEADER_EPOCH, newer.error().code());
        assertEquals(ErrorCode.FENCED_LEADER_EPOCH, leader.checkLeaderForConsumer(3).code());
        assertEquals(ErrorCode.NONE, leader.checkLeaderForConsumer(-1).code());

        // A waiting acks=all produce of epoch 5 ends when leadership moves, even back to this broker.
        long end = append(leader, 1);
        assertNull(leader.replicationStatus(5, end));
        leader.apply(assignment(2, 6, 6, List.of(2, 3), 1), time.monotonicMs());
        ApiError moved = leader.replicationStatus(5, end);
        assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, moved.code());
        assertTrue(leader.appendAsLeader(records(1), -1).error().message().contains("the leader is broker 2"));
        leader.apply(assignment(1, 7, 7, List.of(1, 2, 3), 1), time.monotonicMs());
        assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, leader.replicationStatus(5, end).code());
    }

    @Test
    void aFollowerThatDivergedFromTheNewLeaderTruncatesToWhereTheyAgree() throws Exception {
        Partition a = replica(1);
        Partition b = replica(2);
        leadAndReplicate(a, b, 5);
        assertEquals(5, b.log().logEndOffset());
        // A appends 3 more that B never gets (acks=1), then A dies.
        assertTrue(a.appendAsLeader(records(3), 1).error().isSuccess());
        assertEquals(8, a.log().logEndOffset());

        // B leads epoch 1 and takes 2 records; A comes back as its follower.
        b.apply(assignment(2, 1, 1, List.of(2), 1), time.monotonicMs());
        append(b, 2);
        a.apply(assignment(2, 1, 1, List.of(2), 1), time.monotonicMs());

        Partition.FollowerRead diverged = fetch(b, 1, a);
        assertEquals(new EpochEndOffset(0, 5), diverged.divergingEpoch());
        assertEquals(5, a.log().logEndOffset(), "truncated to where epoch 0 ends on the leader");
        fetch(b, 1, a);
        assertEquals(7, a.log().logEndOffset());
        assertArrayEquals(bytes(b.log()), bytes(a.log()));
        assertEquals(1, a.log().latestEpoch());
    }

    @Test
    void aFollowerWithAnEpochTheLeaderNeverHadTruncatesToTheLeadersEarlierEpoch() throws Exception {
        // A led epochs 0 and 2 alone for a while; B led epoch 1 (which A missed) and now leads 3.
        Partition a = replica(1);
        Partition b = replica(2);
        leadAndReplicate(a, b, 4);
        b.apply(assignment(2, 1, 1, List.of(2), 1), time.monotonicMs());
        append(b, 3); // offsets 4..6 in epoch 1
        a.apply(assignment(1, 2, 2, List.of(1), 1), time.monotonicMs());
        assertTrue(a.appendAsLeader(records(2), 1).error().isSuccess()); // offsets 4..5 in epoch 2
        b.apply(assignment(2, 3, 3, List.of(2), 1), time.monotonicMs());
        a.apply(assignment(2, 3, 3, List.of(2), 1), time.monotonicMs());

        Partition.FollowerRead diverged = fetch(b, 1, a);
        // The leader's largest epoch at or below 2 is 1, ending at 7; A has no epoch 1, so it
        // truncates to the end of its own last epoch below that (epoch 0, ending at 4).
        assertEquals(new EpochEndOffset(1, 7), diverged.divergingEpoch());
        assertEquals(4, a.log().logEndOffset());
        fetch(b, 1, a);
        assertArrayEquals(bytes(b.log()), bytes(a.log()));
    }

    @Test
    void aLeaderThatWroteNothingInItsEpochFollowsTheNextLeaderAgain() throws Exception {
        // A leads epoch 0 and B copies its 5 records; B then leads epoch 1 without a write (a
        // restart moved leadership), and A takes it back at epoch 2 (the preferred leader).
        Partition a = replica(1);
        Partition b = replica(2);
        leadAndReplicate(a, b, 5);
        b.apply(assignment(2, 1, 1, List.of(1, 2), 1), time.monotonicMs());
        a.apply(assignment(2, 1, 1, List.of(1, 2), 1), time.monotonicMs());
        assertEquals(1, b.log().latestEpoch(), "a new leader records its epoch's start at its log end");
        a.apply(assignment(1, 2, 2, List.of(1, 2), 1), time.monotonicMs());
        b.apply(assignment(1, 2, 2, List.of(1, 2), 1), time.monotonicMs());

        // A never had epoch 1: B is told it diverges after epoch 0, at its own log end.
        Partition.FollowerRead diverged = fetch(a, 2, b);
        assertEquals(new EpochEndOffset(0, 5), diverged.divergingEpoch());
        assertEquals(5, b.log().logEndOffset(), "no record is lost");
        assertEquals(0, b.log().latestEpoch(), "the empty epoch 1 is gone");
        // So the next fetch replicates instead of diverging again (it did, forever, before).
        long end = append(a, 3);
        Partition.FollowerRead next = fetch(a, 2, b);
        assertEquals(null, next.divergingEpoch());
        assertEquals(end, b.log().logEndOffset());
        assertArrayEquals(bytes(a.log()), bytes(b.log()));
        assertEquals(2, b.log().latestEpoch());
    }

    @Test
    void aLeaderIgnoresADivergenceAnsweredToAFetchItSentAsFollower() throws Exception {
        Partition a = replica(1);
        a.apply(assignment(1, 3, 3, List.of(1, 2), 1), time.monotonicMs());
        append(a, 5);
        assertEquals(5, a.truncateToDivergence(new EpochEndOffset(0, 2)));
        assertEquals(5, a.log().logEndOffset(), "nothing the leader holds is truncated");
        assertEquals(3, a.log().latestEpoch(), "nor its epoch");
    }

    private static byte[] bytes(PartitionLog log) throws Exception {
        ReadResult r = log.read(0, Integer.MAX_VALUE, log.logEndOffset(), true);
        ByteBuffer b = ((ReadResult.Slice) r).records().read();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
