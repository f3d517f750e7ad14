package io.raftmq.replication;

import static io.raftmq.replication.ReplicaManagerTestContext.TP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftmq.protocol.common.ErrorCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random runs of one leader (broker 1, min.insync.replicas 2) with followers 2 and 3 that
 * fetch at random, make what they fetched durable at random, and fall silent at random, while the
 * clock moves and the controller accepts or refuses ISR proposals. After every step: the high
 * watermark never moves back, never passes the leader's durable offset or the durable position of
 * any member of the ISR (a pending one included); acks=1 is answered NONE whatever the ISR; an
 * acks=all produce is answered NONE only when covered with min.insync.replicas in the ISR,
 * AFTER_APPEND only when covered with fewer, REQUEST_TIMED_OUT only when not covered. The seed is
 * in every failure.
 */
class ReplicaManagerSimulationTest {
    private static final int SEEDS = 12;
    private static final int STEPS = 300;
    private static final int MIN_ISR = 2;

    @TempDir
    Path dir;

    private record Produce(CompletableFuture<ProduceResult> answer, long requiredOffset) {}

    @Test
    void invariantsHoldOverRandomRuns() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            try {
                run(seed);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private void run(long seed) {
        Random random = new Random(seed);
        try (var ctx = new ReplicaManagerTestContext.Builder(dir.resolve("seed-" + seed))
                .withMinInsyncReplicas(MIN_ISR).withLagTimeMaxMs(1_000).build()) {
            long[] fetched = new long[4]; // per follower: its log end
            long[] durable = new long[4]; // per follower: what it last reported on disk
            List<Produce> open = new ArrayList<>();
            long lastHw = 0;
            int answeredNone = 0;
            for (int step = 0; step < STEPS; step++) {
                int action = random.nextInt(10);
                if (action == 0) {
                    // acks=1 owes nothing to the ISR: answered once the leader's fsync ran.
                    ReplicaManagerTestContext.assertAnswered(ErrorCode.NONE, ctx.produce(TP, 1, 3_000));
                } else if (action < 3) {
                    boolean isrTooSmall = ctx.partition(TP).isr().size() < MIN_ISR;
                    CompletableFuture<ProduceResult> answer = ctx.produce(TP, -1, 3_000);
                    if (isrTooSmall) {
                        ReplicaManagerTestContext.assertAnswered(ErrorCode.NOT_ENOUGH_REPLICAS, answer);
                    } else {
                        open.add(new Produce(answer, ctx.logEnd(TP)));
                    }
                } else if (action < 7) {
                    // Follower 3 fetches less often, so that it drops out of the ISR now and then.
                    int f = random.nextInt(4) == 0 ? 3 : 2;
                    long onDisk = durable[f] + (long) random.nextInt((int) (fetched[f] - durable[f]) + 1);
                    var r = ctx.assertFetched(ctx.followerFetch(TP, f, fetched[f], onDisk, 0));
                    durable[f] = onDisk;
                    fetched[f] = ReplicaManagerTestContext.nextOffsetOf(r.records(), fetched[f]);
                } else if (action < 9) {
                    ctx.advanceMs(random.nextInt(400));
                } else if (ctx.controller.hasPending()) {
                    if (random.nextInt(5) == 0) {
                        ctx.controller.refuse(ErrorCode.INVALID_UPDATE_VERSION);
                    } else {
                        ctx.controller.accept();
                    }
                }

                long hw = ctx.highWatermark();
                assertTrue(hw >= lastHw, "step " + step + ": high watermark moved back: " + lastHw + " -> " + hw);
                lastHw = hw;
                Set<Integer> members = new LinkedHashSet<>(ctx.partition(TP).isr());
                if (ctx.controller.hasPending()) {
                    members.addAll(ctx.controller.pending().isr());
                }
                assertTrue(hw <= ctx.partition(TP).log().durableOffset(), "step " + step);
                for (int m : members) {
                    if (m != ReplicaManagerTestContext.LOCAL_ID) {
                        assertTrue(hw <= durable[m], "step " + step + ": high watermark " + hw + " above member "
                                + m + "'s durable " + durable[m] + " (ISR with pending " + members + ")");
                    }
                }
                int isrSize = ctx.partition(TP).isr().size();
                for (Iterator<Produce> it = open.iterator(); it.hasNext(); ) {
                    Produce p = it.next();
                    if (!p.answer().isDone()) {
                        continue;
                    }
                    it.remove();
                    ProduceResult r = p.answer().join();
                    String at = "step " + step + ": " + r.error() + " for records to " + p.requiredOffset()
                            + " at high watermark " + hw + ", ISR " + ctx.partition(TP).isr();
                    switch (r.error().code()) {
                        case NONE -> {
                            assertTrue(p.requiredOffset() <= hw && isrSize >= MIN_ISR, at);
                            answeredNone++;
                        }
                        case NOT_ENOUGH_REPLICAS_AFTER_APPEND -> assertTrue(p.requiredOffset() <= hw
                                && isrSize < MIN_ISR, at);
                        case REQUEST_TIMED_OUT -> assertTrue(p.requiredOffset() > hw, at);
                        default -> fail(at);
                    }
                }
            }
            assertTrue(answeredNone > 0, "the run acknowledged nothing: it tests nothing");
            assertEquals(lastHw, ctx.highWatermark());
        }
    }
}
