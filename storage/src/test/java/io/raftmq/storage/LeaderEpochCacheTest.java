package io.raftmq.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kafka's OffsetsForLeaderEpoch semantics, and persistence. */
class LeaderEpochCacheTest {
    @TempDir
    Path dir;

    @Test
    void endOffsetForEpochAnswersAsKafkaDoes() throws Exception {
        LeaderEpochCache cache = LeaderEpochCache.load(dir);
        assertEquals(EpochEndOffset.UNDEFINED, cache.endOffsetFor(0, 100));
        cache.assign(2, 10);
        cache.assign(2, 15); // same epoch: ignored
        cache.assign(4, 20);
        cache.assign(7, 50);
        long logEnd = 80;
        assertEquals(new EpochEndOffset(7, 80), cache.endOffsetFor(7, logEnd), "latest: the log end");
        assertEquals(new EpochEndOffset(4, 50), cache.endOffsetFor(4, logEnd), "ends where the next starts");
        assertEquals(new EpochEndOffset(4, 50), cache.endOffsetFor(5, logEnd), "unknown epoch: the one below");
        assertEquals(new EpochEndOffset(1, 10), cache.endOffsetFor(1, logEnd), "older than all: first start");
        assertEquals(EpochEndOffset.UNDEFINED, cache.endOffsetFor(8, logEnd), "newer than all: undefined");
        assertEquals(EpochEndOffset.UNDEFINED, cache.endOffsetFor(-1, logEnd));
        assertThrows(IllegalStateException.class, () -> cache.assign(3, 60), "epochs only grow");
        assertThrows(IllegalStateException.class, () -> cache.assign(9, 40), "offsets only grow");
    }

    @Test
    void truncationFromEitherEndAndReload() throws Exception {
        LeaderEpochCache cache = LeaderEpochCache.load(dir);
        cache.assign(1, 0);
        cache.assign(2, 100);
        cache.assign(3, 200);
        cache.truncateFromEnd(200);
        assertEquals(2, cache.latestEpoch());
        cache.truncateFromStart(150);
        assertEquals(List.of(2L, 150L), List.of(cache.entries().get(0)[0], cache.entries().get(0)[1]));
        LeaderEpochCache reloaded = LeaderEpochCache.load(dir);
        assertEquals(1, reloaded.entries().size());
        assertEquals(new EpochEndOffset(2, 170), reloaded.endOffsetFor(2, 170));
    }
}
