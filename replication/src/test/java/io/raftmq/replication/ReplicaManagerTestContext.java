package io.raftmq.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.common.MockTime;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link ReplicaManager} on broker {@value #LOCAL_ID} set up for one test, in the style of
 * Kafka's {@code RaftClientTestContext}: built by a {@link Builder}, with a {@link MockTime} and a
 * {@link MockScheduler} that nothing runs but the test (purgatory timeouts, ISR checks, and the
 * logs' fsyncs all wait for {@link #poll()} or {@link #advanceMs}), real partition logs in a
 * temporary directory, and fakes for what lies outside the broker: {@link FakeController} answers
 * ISR proposals when the test says so, and the committed metadata is whatever the test applies
 * ({@link #becomeLeader}, {@link #moveLeadershipTo}). Followers are the test too: {@link
 * #followerFetch} sends a fetch as broker N would.
 *
 * <p>Single-threaded: everything, completions included, runs on the test's thread, so a future
 * is done right after the call that completes it, and no test needs to wait or sleep.
 */
final class ReplicaManagerTestContext implements AutoCloseable {
    static final int LOCAL_ID = 1;
    static final UUID TOPIC_ID = new UUID(20, 20);
    static final TopicPartition TP = new TopicPartition("t", 0);
    static final TopicPartition TP1 = new TopicPartition("t", 1);
    /** The wall-clock time a new {@link MockTime} starts at. */
    private static final long RECORD_TIMESTAMP_MS = new MockTime().milliseconds();
    /** Records per {@link #produce} batch. */
    static final int BATCH_RECORDS = 3;

    final MockTime time;
    final MockScheduler scheduler;
    final FakeController controller;
    final LogManager logs;
    final ReplicaManager replicaManager;
    final long lagTimeMaxMs;
    /** Each broker's current registration epoch as metadata has it (missing: -1, not checked). */
    final Map<Integer, Long> brokerEpochs = new HashMap<>();
    /** What committed metadata says of each partition, as last applied. */
    private final Map<TopicPartition, PartitionAssignment> metadata = new LinkedHashMap<>();
    private final List<Integer> replicas;
    private final int minInsyncReplicas;
    private long metadataOffset;

    static final class Builder {
        private final Path dir;
        private List<Integer> replicas = List.of(1, 2, 3);
        private List<Integer> isr;
        private int minInsyncReplicas = 1;
        private long lagTimeMaxMs = 10_000;
        private int leaderEpoch = 0;

        Builder(Path dir) {
            this.dir = dir;
        }

        /** The partitions' replicas (broker {@value #LOCAL_ID} among them); the ISR is all of them unless set. */
        Builder withReplicas(Integer... ids) {
            replicas = List.of(ids);
            return this;
        }

        Builder withIsr(Integer... ids) {
            isr = List.of(ids);
            return this;
        }

        Builder withMinInsyncReplicas(int min) {
            minInsyncReplicas = min;
            return this;
        }

        Builder withLagTimeMaxMs(long ms) {
            lagTimeMaxMs = ms;
            return this;
        }

        Builder withLeaderEpoch(int epoch) {
            leaderEpoch = epoch;
            return this;
        }

        /** Broker {@value #LOCAL_ID} leads {@link #TP} at the builder's leader epoch. */
        ReplicaManagerTestContext build() {
            ReplicaManagerTestContext ctx = new ReplicaManagerTestContext(dir, replicas, minInsyncReplicas,
                    lagTimeMaxMs);
            ctx.becomeLeader(TP, leaderEpoch, 0, isr == null ? replicas : isr);
            return ctx;
        }
    }

    private ReplicaManagerTestContext(Path dir, List<Integer> replicas, int minInsyncReplicas, long lagTimeMaxMs) {
        this.time = new MockTime();
        this.scheduler = new MockScheduler(time);
        this.controller = new FakeController();
        this.replicas = replicas;
        this.minInsyncReplicas = minInsyncReplicas;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.logs = new LogManager(dir, new LogEnvironment(time, scheduler, (d, e) -> { }));
        this.replicaManager = new ReplicaManager(LOCAL_ID, () -> 1L,
                id -> brokerEpochs.getOrDefault(id, -1L), id -> true, logs,
                ReplicationConfig.of(Map.of("replica.lag.time.max.ms", Long.toString(lagTimeMaxMs))),
                controller, time, scheduler);
        replicaManager.startup();
    }

    // ---- metadata ----

    /** Applies committed metadata: broker {@value #LOCAL_ID} leads {@code tp} at {@code leaderEpoch}. */
    void becomeLeader(TopicPartition tp, int leaderEpoch, int partitionEpoch, List<Integer> isr) {
        apply(new PartitionAssignment(tp, TOPIC_ID, replicas, isr, LOCAL_ID, leaderEpoch, partitionEpoch, null,
                minInsyncReplicas, LogConfig.defaults()));
    }

    /** Applies committed metadata: {@code leader} leads {@code tp} at {@code leaderEpoch} (no endpoint: nothing fetches). */
    void moveLeadershipTo(TopicPartition tp, int leader, int leaderEpoch) {
        PartitionAssignment now = metadata.get(tp);
        apply(new PartitionAssignment(tp, TOPIC_ID, replicas, now.isr(), leader, leaderEpoch,
                now.partitionEpoch() + 1, null, minInsyncReplicas, LogConfig.defaults()));
    }

    private void apply(PartitionAssignment a) {
        metadata.put(a.tp(), a);
        replicaManager.applyMetadata(++metadataOffset, List.of(a), List.of());
        poll();
    }

    Partition partition(TopicPartition tp) {
        return replicaManager.partition(tp);
    }

    long highWatermark() {
        return replicaManager.highWatermark(TP);
    }

    // ---- driving the clock ----

    /** Runs what is due now: fsyncs, their completions, expired waits, ISR checks. */
    void poll() {
        scheduler.runDue();
    }

    /** Moves the clock and runs what became due. */
    void advanceMs(long ms) {
        time.advanceMs(ms);
        poll();
    }

    // ---- produce ----

    /**
     * A batch of {@code count} records stamped at the mock clock's start (records from 1970 would
     * be past retention.ms at once, and a DeleteRecords would take the whole log with them).
     */
    static ByteBuffer records(int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE, 64);
        for (int i = 0; i < count; i++) {
            b.append(RECORD_TIMESTAMP_MS + i, null, ("v" + i).getBytes());
        }
        return b.build();
    }

    /** A produce of one batch of {@value #BATCH_RECORDS} records to {@code tp}; its local fsync runs before this returns. */
    CompletableFuture<ProduceResult> produce(TopicPartition tp, int acks, long timeoutMs) {
        CompletableFuture<Map<TopicPartition, ProduceResult>> answer = replicaManager.appendRecords(acks, timeoutMs,
                Map.of(tp, records(BATCH_RECORDS)));
        poll();
        return answer.thenApply(m -> m.get(tp));
    }

    CompletableFuture<ProduceResult> produce(int acks) {
        return produce(TP, acks, 30_000);
    }

    /** The log end of {@code tp} on this broker. */
    long logEnd(TopicPartition tp) {
        return partition(tp).log().logEndOffset();
    }

    // ---- followers ----

    /**
     * Broker {@code replicaId} fetches {@link #TP} at the current leader epoch from {@code
     * fetchOffset}, with everything below it on disk, having last fetched the current epoch.
     */
    CompletableFuture<ReplicaManager.ReplicaFetchResult> followerFetch(int replicaId, long fetchOffset,
            long maxWaitMs) {
        return followerFetch(TP, replicaId, fetchOffset, fetchOffset, maxWaitMs);
    }

    /**
     * Broker {@code replicaId} fetches {@code tp} at the current leader epoch from {@code
     * fetchOffset} with {@code durableOffset} on disk, having last fetched the current epoch.
     */
    CompletableFuture<ReplicaManager.ReplicaFetchResult> followerFetch(TopicPartition tp, int replicaId,
            long fetchOffset, long durableOffset, long maxWaitMs) {
        int epoch = partition(tp).leaderEpoch();
        return followerFetch(replicaId, new ReplicaManager.ReplicaFetchSpec(TOPIC_ID, tp.partition(), fetchOffset,
                durableOffset, epoch, fetchOffset == 0 ? -1 : epoch, 1 << 20), maxWaitMs);
    }

    CompletableFuture<ReplicaManager.ReplicaFetchResult> followerFetch(int replicaId,
            ReplicaManager.ReplicaFetchSpec spec, long maxWaitMs) {
        CompletableFuture<List<ReplicaManager.ReplicaFetchResult>> answer = replicaManager.fetchForFollower(replicaId,
                brokerEpochs.getOrDefault(replicaId, 1L), maxWaitMs, 0, List.of(spec));
        poll();
        return answer.thenApply(results -> {
            assertEquals(1, results.size(), results.toString());
            return results.get(0);
        });
    }

    /** An answered follower fetch of {@link #TP} that must have succeeded. */
    ReplicaManager.ReplicaFetchResult assertFetched(CompletableFuture<ReplicaManager.ReplicaFetchResult> fetch) {
        assertTrue(fetch.isDone(), "the follower fetch is not answered");
        ReplicaManager.ReplicaFetchResult r = fetch.join();
        assertTrue(r.error().isSuccess(), r.error().toString());
        return r;
    }

    /** Follower {@code replicaId}, at {@code fetchOffset}, fetches once with no wait and is answered. */
    ReplicaManager.ReplicaFetchResult catchUp(int replicaId, long fetchOffset) {
        return assertFetched(followerFetch(replicaId, fetchOffset, 0));
    }

    /** The offset after the last record of a follower fetch's batches ({@code fetchOffset} when there are none). */
    static long nextOffsetOf(ByteBuffer batches, long fetchOffset) {
        ByteBuffer b = batches.duplicate().order(ByteOrder.BIG_ENDIAN);
        long next = fetchOffset;
        while (b.remaining() >= RecordBatch.RECORD_BATCH_OVERHEAD) {
            int start = b.position();
            long base = b.getLong(start + RecordBatch.BASE_OFFSET_OFFSET);
            int length = b.getInt(start + RecordBatch.LENGTH_OFFSET);
            next = base + b.getInt(start + RecordBatch.LAST_OFFSET_DELTA_OFFSET) + 1;
            b.position(start + RecordBatch.LOG_OVERHEAD + length);
        }
        return next;
    }

    // ---- consumers ----

    CompletableFuture<FetchResult> consumerFetch(long fetchOffset, long maxWaitMs, int minBytes) {
        CompletableFuture<Map<TopicPartition, FetchResult>> answer = replicaManager.fetchMessages(maxWaitMs,
                minBytes, 1 << 20, Map.of(TP, new FetchSpec(fetchOffset, 1 << 20, -1)));
        poll();
        return answer.thenApply(m -> m.get(TP));
    }

    // ---- assertions ----

    static void assertAnswered(ErrorCode expected, CompletableFuture<ProduceResult> answer) {
        assertTrue(answer.isDone(), "the produce is not answered; expected " + expected);
        ProduceResult r = answer.join();
        assertEquals(expected, r.error().code(), r.error().toString());
    }

    static void assertWaiting(CompletableFuture<?> answer) {
        assertFalse(answer.isDone(), () -> "answered too early: " + answer.join());
    }

    /**
     * The invariant every step keeps: the high watermark is at most the leader's durable offset and
     * {@code followerDurable}: the durable position each member of the ISR (pending members
     * included) last reported.
     */
    void assertHighWatermarkAtMost(Map<Integer, Long> followerDurable) {
        long hw = highWatermark();
        assertTrue(hw <= partition(TP).log().durableOffset(), "high watermark " + hw + " above the leader's durable "
                + partition(TP).log().durableOffset());
        followerDurable.forEach((id, durable) -> assertTrue(hw <= durable, "high watermark " + hw
                + " above follower " + id + "'s durable position " + durable));
    }

    @Override
    public void close() {
        replicaManager.close();
        poll();
        logs.close();
        scheduler.shutdownNow();
    }

    /**
     * The controller's side of AlterPartition: proposals wait until the test answers them, in
     * order. Owned by the test's thread.
     */
    final class FakeController implements AlterPartitionClient {
        private record Proposal(Partition.IsrProposal proposal, CompletableFuture<Outcome> answer) {}

        private final Deque<Proposal> waiting = new ArrayDeque<>();
        final List<Partition.IsrProposal> received = new ArrayList<>();

        @Override
        public CompletableFuture<Outcome> alter(Partition.IsrProposal proposal) {
            CompletableFuture<Outcome> answer = new CompletableFuture<>();
            waiting.add(new Proposal(proposal, answer));
            received.add(proposal);
            return answer;
        }

        /** The oldest unanswered proposal, which must exist. */
        Partition.IsrProposal pending() {
            assertFalse(waiting.isEmpty(), "no ISR proposal is waiting");
            return waiting.peek().proposal();
        }

        boolean hasPending() {
            return !waiting.isEmpty();
        }

        /**
         * Commits the oldest proposal as proposed, at the next partition epoch (the metadata the
         * test applies next carries it).
         */
        Partition.IsrProposal accept() {
            Proposal p = waiting.remove();
            Partition.IsrProposal proposal = p.proposal();
            TopicPartition tp = new TopicPartition(TP.topic(), proposal.partition());
            PartitionAssignment a = metadata.get(tp);
            metadata.put(tp, new PartitionAssignment(tp, a.topicId(), a.replicas(), proposal.isr(), a.leader(),
                    a.leaderEpoch(), proposal.partitionEpoch() + 1, a.leaderEndpoint(), a.minInsyncReplicas(),
                    a.logConfig()));
            p.answer().complete(new Outcome(ApiError.NONE, proposal.leaderEpoch(), proposal.partitionEpoch() + 1,
                    proposal.isr()));
            poll();
            return proposal;
        }

        /** Refuses the oldest proposal with {@code code}. */
        void refuse(ErrorCode code) {
            Proposal p = waiting.remove();
            p.answer().complete(new Outcome(ApiError.of(code, "refused by the test"), -1, -1, List.of()));
            poll();
        }
    }
}
