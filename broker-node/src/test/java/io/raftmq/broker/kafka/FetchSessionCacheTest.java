package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.raftmq.broker.kafka.FetchSessionCache.FetchKey;
import io.raftmq.broker.kafka.FetchSessionCache.Outcome;
import io.raftmq.broker.kafka.FetchSessionCache.PartitionAnswer;
import io.raftmq.broker.kafka.FetchSessionCache.PartitionFetch;
import io.raftmq.common.MockTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;

/**
 * The session protocol alone, on a mock clock: contexts for each (session id, epoch), what an
 * incremental answer lists, the order partitions are read in, a full cache and eviction, and a
 * second fetch accepted while the first was being read.
 */
class FetchSessionCacheTest {
    private static final FetchKey A = FetchKey.byName("t", 0);
    private static final FetchKey B = FetchKey.byName("t", 1);
    private static final FetchKey C = FetchKey.byName("t", 2);

    private final MockTime time = new MockTime();
    private final FetchSessionCache cache = new FetchSessionCache(1, 2, 1_000, time, new SplittableRandom(7));

    private static PartitionFetch fetch(FetchKey key, long offset) {
        return new PartitionFetch(key, offset, 1 << 20, -1, -1);
    }

    /** An answer with a high watermark, and records or an error when asked. */
    private static PartitionAnswer answer(FetchKey key, long highWatermark, boolean records, Errors error) {
        PartitionData data = new PartitionData().setPartitionIndex(key.partition()).setErrorCode(error.code())
                .setHighWatermark(highWatermark).setLastStableOffset(highWatermark).setLogStartOffset(0)
                .setRecords(records ? KafkaRecords.batch("r") : MemoryRecords.EMPTY);
        return new PartitionAnswer(key, data, false);
    }

    private static PartitionAnswer quiet(FetchKey key, long highWatermark) {
        return answer(key, highWatermark, false, Errors.NONE);
    }

    private static List<FetchKey> keys(List<?> items) {
        List<FetchKey> out = new ArrayList<>();
        for (Object o : items) {
            out.add(o instanceof PartitionFetch f ? f.key() : ((PartitionAnswer) o).key());
        }
        return out;
    }

    /** Opens a session with A and B answered at high watermark 5; its id. */
    private int newSession() {
        FetchSessionCache.Context ctx = cache.open(false, 0, 0, List.of(fetch(A, 0), fetch(B, 0)), List.of());
        assertInstanceOf(FetchSessionCache.NewSession.class, ctx);
        Outcome out = ctx.answer(List.of(quiet(A, 5), quiet(B, 5)));
        assertEquals(2, out.partitions().size(), "a full answer lists everything");
        return out.sessionId();
    }

    @Test
    void contextsFollowTheSessionIdAndEpoch() {
        assertInstanceOf(FetchSessionCache.Sessionless.class, cache.open(false, 0, -1, List.of(), List.of()));
        int id = newSession();
        assertNotEquals(0, id);
        assertEquals(1, cache.size());
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND, ((FetchSessionCache.Refused) cache.open(false, id + 1, 1,
                List.of(), List.of())).error());
        assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH, ((FetchSessionCache.Refused) cache.open(false, id, 2,
                List.of(), List.of())).error());
        assertEquals(Errors.FETCH_SESSION_TOPIC_ID_ERROR, ((FetchSessionCache.Refused) cache.open(true, id, 1,
                List.of(), List.of())).error());
        FetchSessionCache.Context next = cache.open(false, id, 1, List.of(), List.of());
        assertEquals(List.of(A, B), keys(next.partitions()), "every partition of the session is read");
        // Epoch 0 with the id: closed, and a new session asked for.
        assertInstanceOf(FetchSessionCache.NewSession.class, cache.open(false, id, 0, List.of(), List.of()));
        assertEquals(0, cache.size());
        int again = newSession();
        assertInstanceOf(FetchSessionCache.Sessionless.class, cache.open(false, again, -1, List.of(), List.of()));
        assertEquals(0, cache.size(), "epoch -1 closes it");
    }

    @Test
    void anIncrementalAnswerListsOnlyWhatChangedAndReadsBusyPartitionsLast() {
        int id = newSession();
        FetchSessionCache.Context one = cache.open(false, id, 1, List.of(fetch(C, 3)), List.of(A));
        assertEquals(List.of(B, C), keys(one.partitions()), "A forgotten, C added at the end");
        Outcome out = one.answer(List.of(quiet(B, 5), quiet(C, 3)));
        assertEquals(List.of(C), keys(out.partitions()), "B unchanged; C new to the client");

        FetchSessionCache.Context two = cache.open(false, id, 2, List.of(), List.of());
        out = two.answer(List.of(answer(B, 6, true, Errors.NONE), quiet(C, 3)));
        assertEquals(List.of(B), keys(out.partitions()));
        FetchSessionCache.Context three = cache.open(false, id, 3, List.of(), List.of());
        assertEquals(List.of(C, B), keys(three.partitions()), "B returned records: read last");

        out = three.answer(List.of(answer(C, -1, false, Errors.NOT_LEADER_OR_FOLLOWER), quiet(B, 6)));
        assertEquals(List.of(C), keys(out.partitions()), "an error is always told");
        out = cache.open(false, id, 4, List.of(), List.of()).answer(List.of(quiet(C, 3), quiet(B, 6)));
        assertEquals(List.of(C), keys(out.partitions()), "after an error the high watermark is told again");
        PartitionAnswer diverged = new PartitionAnswer(B, quiet(B, 6).data(), true);
        out = cache.open(false, id, 5, List.of(), List.of()).answer(List.of(quiet(C, 3), diverged));
        assertEquals(List.of(B), keys(out.partitions()), "a divergence is always told");
    }

    @Test
    void aFetchAcceptedWhileAnotherWasReadMakesTheFirstAnswerAnEpochError() {
        int id = newSession();
        FetchSessionCache.Context first = cache.open(false, id, 1, List.of(), List.of());
        FetchSessionCache.Context retry = cache.open(false, id, 2, List.of(), List.of());
        Outcome late = first.answer(List.of(quiet(A, 5), quiet(B, 5)));
        assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH, late.error());
        assertEquals(Errors.NONE, retry.answer(List.of(quiet(A, 5), quiet(B, 5))).error());
    }

    @Test
    void aFullCacheGivesNoSessionUntilTheLeastRecentlyUsedIsIdleLongEnough() {
        int first = newSession();
        time.advanceMs(600);
        int second = newSession();
        assertEquals(0, newSession(), "full, and nothing idle for 1000 ms");
        time.advanceMs(500);
        cache.open(false, second, 1, List.of(), List.of()).answer(List.of(quiet(A, 5), quiet(B, 5)));
        int third = newSession(); // first idle 1100 ms: evicted; second was just used
        assertNotEquals(0, third);
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND, ((FetchSessionCache.Refused) cache.open(false, first, 1,
                List.of(), List.of())).error());
        assertInstanceOf(FetchSessionCache.Incremental.class, cache.open(false, second, 2, List.of(), List.of()));
        assertEquals(2, cache.size());
    }

    @Test
    void sessionsOffMeansEveryFetchIsSessionless() {
        FetchSessionCache off = new FetchSessionCache(1, 0);
        assertInstanceOf(FetchSessionCache.Sessionless.class, off.open(false, 0, 0, List.of(fetch(A, 0)),
                List.of()));
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND, ((FetchSessionCache.Refused) off.open(false, 5, 1,
                List.of(), List.of())).error());
    }

    @Test
    void keysByIdAndByNameAreDifferentPartitions() {
        Uuid id = Uuid.randomUuid();
        assertNotEquals(FetchKey.byId(id, 0), FetchKey.byName("t", 0));
        assertEquals(FetchKey.byId(id, 0), FetchKey.byId(id, 0));
    }
}
