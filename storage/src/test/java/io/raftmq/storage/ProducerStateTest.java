package io.raftmq.storage;

import static io.raftmq.storage.TestLogs.config;
import static io.raftmq.storage.TestLogs.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Idempotent producers on the partition log: duplicates, gaps, epochs, and the state across restarts. */
@Timeout(60)
class ProducerStateTest {
    private static final long PID = 4242;

    @TempDir
    Path root;

    private MockTime time = new MockTime();
    private final List<TestLogs.Env> envs = new ArrayList<>();
    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (PartitionLog log : opened) {
            if (!log.isOffline()) {
                log.close();
            }
        }
        for (TestLogs.Env env : envs) {
            env.close();
        }
    }

    private PartitionLog open(LogConfig config) throws Exception {
        TestLogs.Env env = new TestLogs.Env(time);
        envs.add(env);
        PartitionLog log = PartitionLog.open(root.resolve("topic-0"), config, env.environment);
        opened.add(log);
        return log;
    }

    /** The crash of the last opened log: no close; its background work stops so the files stay as they are. */
    private void crash(PartitionLog log) throws Exception {
        opened.remove(log);
        TestLogs.Env env = envs.get(envs.size() - 1);
        env.scheduler.shutdownNow(); // delayed file deletions never run, as in a crash
        assertTrue(env.scheduler.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** An idempotent batch of {@code records} records starting at {@code sequence}. */
    static ByteBuffer batch(long producerId, int epoch, int sequence, int records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                producerId, (short) epoch, sequence, RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP,
                256);
        for (int i = 0; i < records; i++) {
            builder.append(1000 + i, ("k" + i).getBytes(), ("value-" + sequence + "-" + i).getBytes());
        }
        return builder.build();
    }

    /** A copy, as a client's retry would send the same bytes again. */
    private static ByteBuffer copy(ByteBuffer original) {
        ByteBuffer copy = ByteBuffer.allocate(original.remaining());
        copy.put(original.duplicate()).flip();
        return copy;
    }

    private static AppendResult.Appended appended(AppendResult result) {
        return assertInstanceOf(AppendResult.Appended.class, result, result::toString);
    }

    private static AppendResult.Rejected rejected(AppendResult result, ErrorCode code) {
        AppendResult.Rejected r = assertInstanceOf(AppendResult.Rejected.class, result, result::toString);
        assertEquals(code, r.code(), r.message());
        return r;
    }

    @Test
    void aRetriedBatchIsNotWrittenAgainAndAnswersWithTheOriginalOffsets() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        ByteBuffer first = batch(PID, 0, 0, 3);
        ByteBuffer retry = copy(first);
        AppendResult.Appended a = appended(log.appendAsLeader(first, 1));
        AppendResult.Appended b = appended(log.appendAsLeader(batch(PID, 0, 3, 2), 1));
        assertEquals(0, a.firstOffset());
        assertEquals(3, b.firstOffset());
        long bytes = log.sizeInBytes();

        AppendResult.Appended again = appended(log.appendAsLeader(retry, 1));
        assertTrue(again.duplicate());
        assertEquals(0, again.firstOffset());
        assertEquals(2, again.lastOffset());
        again.durable().get(10, TimeUnit.SECONDS);
        assertEquals(5, log.logEndOffset(), "nothing written");
        assertEquals(bytes, log.sizeInBytes());
        assertEquals(2, readAll(log).size());

        // Any of the last five batches is recognised; the producer then continues.
        assertEquals(3, appended(log.appendAsLeader(batch(PID, 0, 3, 2), 1)).firstOffset());
        assertEquals(5, appended(log.appendAsLeader(batch(PID, 0, 5, 1), 1)).firstOffset());
    }

    /**
     * producer.id.expiration.ms, as Kafka: a producer whose last batch is that old (by its
     * timestamp, against the broker's clock) is forgotten; it may start again at sequence 0 only.
     */
    @Test
    void aProducerSilentForTheExpirationIsForgotten() throws Exception {
        time = new MockTime(1000, 0);
        PartitionLog log = open(LogConfig.defaults());
        appended(log.appendAsLeader(batch(PID, 0, 0, 3), 0)); // last record's timestamp: 1002
        appended(log.appendAsLeader(batch(PID + 1, 0, 0, 1), 0)); // timestamp 1000
        long expirationMs = 86_400_000L;

        time.advanceMs(expirationMs - 1); // now 999 + expiration
        assertEquals(0, log.removeExpiredProducers(expirationMs));
        time.advanceMs(1);
        assertEquals(1, log.removeExpiredProducers(expirationMs), "PID + 1's last batch (1000) expired");
        assertEquals(0, log.removeExpiredProducers(expirationMs));
        time.advanceMs(2);
        assertEquals(1, log.removeExpiredProducers(expirationMs), "PID's last batch (1002) expired");
        assertEquals(4, log.logEndOffset(), "the log is untouched");

        rejected(log.appendAsLeader(batch(PID, 0, 3, 1), 0), ErrorCode.UNKNOWN_PRODUCER_ID);
        assertEquals(4, appended(log.appendAsLeader(batch(PID, 0, 0, 1), 0)).firstOffset());
    }

    @Test
    void onlyTheLastFiveBatchesAreRemembered() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        for (int seq = 0; seq < 6; seq++) {
            appended(log.appendAsLeader(batch(PID, 0, seq, 1), 0));
        }
        AppendResult.Rejected old = rejected(log.appendAsLeader(batch(PID, 0, 0, 1), 0),
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertTrue(old.message().contains("expected sequence 6, received 0"), old.message());
        assertTrue(appended(log.appendAsLeader(batch(PID, 0, 1, 1), 0)).duplicate());
    }

    @Test
    void aGapIsRefusedAndNamesTheExpectedAndReceivedSequence() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        appended(log.appendAsLeader(batch(PID, 0, 0, 3), 0));
        AppendResult.Rejected gap = rejected(log.appendAsLeader(batch(PID, 0, 5, 1), 0),
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertTrue(gap.message().contains("producer " + PID), gap.message());
        assertTrue(gap.message().contains("epoch 0"), gap.message());
        assertTrue(gap.message().contains("expected sequence 3, received 5"), gap.message());
        assertEquals(3, log.logEndOffset(), "nothing written");
        // A producer never seen must start at 0.
        rejected(log.appendAsLeader(batch(PID + 1, 0, 7, 1), 0), ErrorCode.UNKNOWN_PRODUCER_ID);
        // Batches without a producer id are not checked.
        appended(log.appendAsLeader(TestLogs.batch(2, 10, 1000), 0));
        appended(log.appendAsLeader(batch(PID, 0, 3, 1), 0));
    }

    @Test
    void epochsFenceOlderProducersAndANewEpochStartsAtZero() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        appended(log.appendAsLeader(batch(PID, 1, 0, 2), 0));
        AppendResult.Rejected stale = rejected(log.appendAsLeader(batch(PID, 0, 2, 1), 0),
                ErrorCode.INVALID_PRODUCER_EPOCH);
        assertTrue(stale.message().contains("epoch 0") && stale.message().contains("current epoch 1"),
                stale.message());
        rejected(log.appendAsLeader(batch(PID, 2, 2, 1), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertEquals(2, appended(log.appendAsLeader(batch(PID, 2, 0, 1), 0)).firstOffset());
        // Epoch 1 is fenced now, even for a batch it had written.
        rejected(log.appendAsLeader(batch(PID, 1, 0, 2), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
    }

    @Test
    void aRefusedBatchInAnAppendWritesNothingOfIt() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        ByteBuffer two = ByteBuffer.allocate(1024);
        two.put(batch(PID, 0, 0, 2)).put(batch(PID, 0, 5, 1)).flip();
        rejected(log.appendAsLeader(two, 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertEquals(0, log.logEndOffset());
        // Consecutive batches of one producer in one append are checked against each other.
        ByteBuffer ok = ByteBuffer.allocate(1024);
        ok.put(batch(PID, 0, 0, 2)).put(batch(PID, 0, 2, 1)).flip();
        appended(log.appendAsLeader(ok, 0));
        assertEquals(3, log.logEndOffset());
    }

    @Test
    void sequencesWrapAtIntegerMaxValue() throws Exception {
        PartitionLog log = open(LogConfig.defaults());
        // Replicated from a leader, so not checked: a producer near the end of the sequence space.
        ByteBuffer high = batch(PID, 0, Integer.MAX_VALUE - 2, 3);
        RecordBatch.readFrom(high.duplicate()).setBaseOffset(0);
        appended(log.appendAsFollower(high));
        assertEquals(3, appended(log.appendAsLeader(batch(PID, 0, 0, 1), 0)).firstOffset());
    }

    @Test
    void followersTrackProducersSoANewLeaderDeduplicates() throws Exception {
        PartitionLog leader = open(LogConfig.defaults());
        ByteBuffer sent = batch(PID, 0, 0, 4);
        ByteBuffer retry = copy(sent);
        appended(leader.appendAsLeader(sent, 5));
        ByteBuffer replicated = ByteBuffer.allocate((int) leader.sizeInBytes());
        for (RecordBatch b : readAll(leader)) {
            replicated.put(b.buffer().duplicate());
        }
        replicated.flip();
        TestLogs.Env env = new TestLogs.Env(time);
        envs.add(env);
        PartitionLog follower = PartitionLog.open(root.resolve("topic-0-follower"), LogConfig.defaults(),
                env.environment);
        opened.add(follower);
        appended(follower.appendAsFollower(replicated));
        AppendResult.Appended again = appended(follower.appendAsLeader(retry, 6));
        assertTrue(again.duplicate());
        assertEquals(0, again.firstOffset());
        assertEquals(4, follower.logEndOffset());
    }

    private PartitionLog writeHistory(LogConfig config) throws Exception {
        PartitionLog log = open(config);
        int seq = 0;
        for (int i = 0; i < 40; i++) {
            appended(log.appendAsLeader(batch(PID, 0, seq, 3), 0));
            seq += 3;
            appended(log.appendAsLeader(batch(PID + 1, 0, i, 1), 0));
        }
        return log;
    }

    /** The producers' state as the log sees it: the last batch is a duplicate, the next sequence follows. */
    private static void assertContinues(PartitionLog log) {
        long end = log.logEndOffset();
        AppendResult.Appended dup = appended(log.appendAsLeader(batch(PID + 1, 0, 39, 1), 0));
        assertTrue(dup.duplicate(), dup.toString());
        assertEquals(end - 1, dup.firstOffset());
        AppendResult.Appended dup2 = appended(log.appendAsLeader(batch(PID, 0, 117, 3), 0));
        assertTrue(dup2.duplicate(), dup2.toString());
        assertEquals(end - 4, dup2.firstOffset());
        rejected(log.appendAsLeader(batch(PID, 0, 119, 1), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertEquals(end, appended(log.appendAsLeader(batch(PID, 0, 120, 1), 0)).firstOffset());
    }

    @Test
    void stateIsRebuiltAfterACleanShutdown() throws Exception {
        PartitionLog log = writeHistory(config("segment.bytes", "2048"));
        log.close();
        Path dir = root.resolve("topic-0");
        assertTrue(Files.exists(dir.resolve(LogSegment.fileName(log.logEndOffset(),
                ProducerStateManager.SNAPSHOT_SUFFIX))), "a snapshot at the log end");
        assertContinues(open(config("segment.bytes", "2048")));
    }

    @Test
    void stateIsRebuiltAfterACrashFromTheLastSnapshotAndTheHeadersAfterIt() throws Exception {
        PartitionLog log = writeHistory(config("segment.bytes", "2048", "flush.mode", "os"));
        assertTrue(log.segmentCount() > 3, "several segments, hence snapshots at their starts");
        log.flush().get(10, TimeUnit.SECONDS);
        // The crash: no close, so no snapshot at the end and no clean-shutdown marker.
        crash(log);
        assertContinues(open(config("segment.bytes", "2048", "flush.mode", "os")));
    }

    @Test
    void stateIsRebuiltFromTheLogStartWithoutAnySnapshot() throws Exception {
        PartitionLog log = writeHistory(config("segment.bytes", "2048", "flush.mode", "os"));
        log.flush().get(10, TimeUnit.SECONDS);
        crash(log);
        Path dir = root.resolve("topic-0");
        for (Path f : PartitionLog.list(dir)) {
            if (f.toString().endsWith(ProducerStateManager.SNAPSHOT_SUFFIX)) {
                Files.delete(f);
            }
        }
        assertContinues(open(config("segment.bytes", "2048", "flush.mode", "os")));
    }

    @Test
    void aCorruptSnapshotIsSkipped() throws Exception {
        PartitionLog log = writeHistory(config("segment.bytes", "2048"));
        log.close();
        Path snapshot = root.resolve("topic-0").resolve(LogSegment.fileName(log.logEndOffset(),
                ProducerStateManager.SNAPSHOT_SUFFIX));
        byte[] bytes = Files.readAllBytes(snapshot);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(snapshot, bytes);
        PartitionLog reopened = open(config("segment.bytes", "2048"));
        assertFalse(Files.exists(snapshot), "the corrupt snapshot is deleted");
        assertContinues(reopened);
    }

    @Test
    void truncationForgetsTheRemovedBatches() throws Exception {
        PartitionLog log = open(config("segment.bytes", "2048"));
        int seq = 0;
        for (int i = 0; i < 30; i++) {
            appended(log.appendAsLeader(batch(PID, 0, seq, 2), 0));
            seq += 2;
        }
        // Remove the last three batches (offsets 54..59) and part of a segment boundary's worth.
        log.truncateTo(54);
        assertEquals(54, log.logEndOffset());
        ByteBuffer removed = batch(PID, 0, 54, 2);
        AppendResult.Appended again = appended(log.appendAsLeader(removed, 1));
        assertFalse(again.duplicate(), "a batch that truncation removed is new again");
        assertEquals(54, again.firstOffset());
        assertTrue(appended(log.appendAsLeader(batch(PID, 0, 52, 2), 1)).duplicate());
        // Truncate across segments: the state comes from an earlier snapshot plus headers.
        log.truncateTo(10);
        assertTrue(appended(log.appendAsLeader(batch(PID, 0, 8, 2), 1)).duplicate());
        assertEquals(10, appended(log.appendAsLeader(batch(PID, 0, 10, 2), 1)).firstOffset());
        rejected(log.appendAsLeader(batch(PID, 0, 40, 2), 1), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    }

    @Test
    void retentionKeepsTheStateOfProducersSeenOnlyInDeletedSegments() throws Exception {
        LogConfig config = config("segment.bytes", "2048", "retention.bytes", "4096", "flush.mode", "os");
        PartitionLog log = open(config);
        long quiet = PID + 7;
        appended(log.appendAsLeader(batch(quiet, 3, 0, 2), 0));
        int seq = 0;
        for (int i = 0; i < 60; i++) {
            appended(log.appendAsLeader(batch(PID, 0, seq, 2), 0));
            seq += 2;
        }
        assertTrue(log.deleteOldSegments(log.logEndOffset()) > 0);
        assertTrue(log.logStartOffset() > 2, "the quiet producer's batch is gone");
        // In memory, and after a crash (rebuilt from the snapshot kept at the first segment).
        rejected(log.appendAsLeader(batch(quiet, 2, 2, 1), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
        log.flush().get(10, TimeUnit.SECONDS);
        crash(log);
        PartitionLog reopened = open(config);
        rejected(reopened.appendAsLeader(batch(quiet, 2, 2, 1), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
        assertTrue(appended(reopened.appendAsLeader(batch(quiet, 3, 0, 2), 0)).duplicate());
        assertEquals(reopened.logEndOffset(), appended(reopened.appendAsLeader(batch(quiet, 3, 2, 1), 0))
                .firstOffset());
        assertTrue(appended(reopened.appendAsLeader(batch(PID, 0, seq - 2, 2), 0)).duplicate());
    }
}
