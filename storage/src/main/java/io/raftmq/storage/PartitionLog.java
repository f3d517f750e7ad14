package io.raftmq.storage;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of one partition replica, in one directory: an append-only sequence of record batches
 * (Kafka's RecordBatch v2 bytes, stored as received) split into segments.
 *
 * <p>Writing: {@link #appendAsLeader} validates producer batches, gives them offsets and the leader
 * epoch in place, and writes them; {@link #appendAsFollower} writes a leader's batches as they are.
 * A rejected append changes nothing. {@link #truncateTo} removes a tail (a follower of a new
 * leader), {@link #deleteOldSegments} applies retention.
 *
 * <p>Reading: {@link #read} hands out whole batches as a region of a segment file, never past an
 * upper bound (the high watermark); offsets outside the log are a typed result, not an exception.
 *
 * <p>Durability: see {@link FlushMode}. A recovery point (everything below it is fsynced) is kept
 * in a checkpoint; after an unclean stop, {@link #open} rescans from it, re-validates every batch
 * and truncates a torn or corrupt tail. A clean-shutdown marker skips the scan.
 *
 * <p>Failure: an I/O error while writing or reading takes the log offline: it is logged at ERROR,
 * reported to {@link LogEnvironment#offlineListener()}, and every later append or read is refused
 * with STORAGE_ERROR. Nothing is retried silently.
 *
 * <p>Truncation and flushes: a flush that was running when the log was truncated advances neither
 * the recovery point nor the durable offset (it may have forced bytes that were then cut off and
 * replaced), and a truncation below the recovery point on disk rewrites the checkpoint at once, so
 * that recovery re-checks everything written after it. The recovery point and the durable offset
 * never exceed the log end.
 *
 * <p>Threads: one writer at a time — every mutation holds {@code writeLock}; fsyncs run on the
 * environment's scheduler without the lock. A roll writes the finished segment's indexes and the
 * producer snapshot on the scheduler, not on the appending thread (a produce's event loop).
 * Futures the log completes (durability of appends) complete on the scheduler or the flushing
 * thread, never under {@code writeLock}. Readers take no lock: they read the published segment
 * list and offsets (volatile) and positional file reads below each segment's published size.
 */
public final class PartitionLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);
    static final String CLEAN_SHUTDOWN_FILE = ".clean-shutdown";
    static final String CHECKPOINT_FILE = "log-checkpoint";
    /** How often, at most, the recovery point checkpoint is rewritten after a flush. */
    private static final long CHECKPOINT_INTERVAL_MS = 10_000;
    /**
     * A read that finds its segment deleted under it (retention, truncation) looks again at most this
     * many times; then the log is taken offline.
     */
    private static final int MAX_READ_RETRIES = 3;

    private final Path dir;
    private final String name;
    private final LogEnvironment env;
    private final LeaderEpochCache epochs;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final GroupCommit groupCommit;
    private final Object checkpointLock = new Object();
    // Guarded by writeLock.
    private final ProducerStateManager producers;

    private volatile LogConfig config;
    // Written under writeLock; read by anyone.
    private volatile LogSegment[] segments;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile String offlineReason;
    // Written by flushes (one at a time, and close) through advanceRecoveryPoint.
    private volatile long recoveryPoint;
    // Guarded by checkpointLock.
    private long lastCheckpointMs;
    /** The recovery point in the checkpoint file. Guarded by checkpointLock. */
    private long checkpointedRecoveryPoint;
    /** Bumped by every truncation; changed under writeLock and checkpointLock, read under either. */
    private long truncations;
    // Guarded by writeLock.
    private ScheduledFuture<?> intervalFlush;
    private final ArrayDeque<PendingRoll> pendingRolls = new ArrayDeque<>();
    private boolean closed;

    /** A roll's deferred file writes: the finished segment's indexes and the producer snapshot. */
    private record PendingRoll(LogSegment segment, ProducerStateManager.Snapshot producerSnapshot,
            long truncationsAtRoll) {}

    private PartitionLog(Path dir, LogConfig config, LogEnvironment env, LeaderEpochCache epochs,
            ProducerStateManager producers, LogSegment[] segments, long logStartOffset, long recoveryPoint) {
        this.dir = dir;
        this.name = dir.getFileName().toString();
        this.config = config;
        this.env = env;
        this.epochs = epochs;
        this.producers = producers;
        this.segments = segments;
        this.logStartOffset = logStartOffset;
        this.logEndOffset = segments[segments.length - 1].nextOffset();
        this.recoveryPoint = recoveryPoint;
        this.groupCommit = new GroupCommit(env.scheduler(), this::flushNow, recoveryPoint);
    }

    /**
     * Opens (creating if need be) the log in {@code dir}, recovering it after an unclean stop.
     *
     * @throws IOException when the directory cannot be read or written
     */
    public static PartitionLog open(Path dir, LogConfig config, LogEnvironment env) throws IOException {
        return LogLoader.load(dir, config, env);
    }

    /**
     * @param checkpointedRecoveryPoint the recovery point the checkpoint file holds; when recovery
     *     found less, the file is rewritten at once (else a crash before the next checkpoint would
     *     skip the CRC check of what is appended from the recovered end on)
     */
    static PartitionLog create(Path dir, LogConfig config, LogEnvironment env, LeaderEpochCache epochs,
            ProducerStateManager producers, LogSegment[] segments, long logStartOffset, long recoveryPoint,
            long checkpointedRecoveryPoint) throws IOException {
        PartitionLog log = new PartitionLog(dir, config, env, epochs, producers, segments, logStartOffset,
                recoveryPoint);
        log.checkpointedRecoveryPoint = checkpointedRecoveryPoint;
        if (checkpointedRecoveryPoint > recoveryPoint) {
            log.writeCheckpoint();
        }
        log.scheduleIntervalFlush();
        return log;
    }

    // ---- appends ----

    /**
     * Appends producer batches as the leader of {@code leaderEpoch}: validates them all, then gives
     * them consecutive offsets from the log end and the epoch, in place in {@code batches} (and,
     * with LogAppendTime, the leader's clock), and writes them.
     *
     * <p>Batches of idempotent producers (producer id set) are also checked against the producer
     * state, atomically with the write: an epoch older than the producer's is refused
     * (INVALID_PRODUCER_EPOCH); a batch equal to one of the producer's last five (same first and
     * last sequence) is a duplicate, not written again, and answered as {@link
     * AppendResult.Appended} with the original offsets and {@code duplicate} set; a batch whose first
     * sequence does not follow the producer's last, or a new epoch not starting at 0, is refused
     * (OUT_OF_ORDER_SEQUENCE_NUMBER); an unknown producer must start at sequence 0
     * (UNKNOWN_PRODUCER_ID). A refused append writes nothing.
     */
    public AppendResult appendAsLeader(ByteBuffer batches, int leaderEpoch) {
        LogConfig current = config;
        BatchValidator.Outcome outcome = BatchValidator.forLeader(batches, current, env.time().milliseconds());
        if (outcome.error().isFailure()) {
            return rejected(outcome.error());
        }
        writeLock.lock();
        try {
            if (offlineReason != null || closed) {
                return storageError();
            }
            ProducerStateManager.Check check = producers.checkLeaderAppend(outcome.batches());
            if (check instanceof ProducerStateManager.Check.Refuse refuse) {
                return rejected(refuse.error());
            }
            if (check instanceof ProducerStateManager.Check.Duplicate duplicate) {
                return duplicateOf(duplicate.original(), current);
            }
            long nowMs = env.time().milliseconds();
            long appendTime = current.logAppendTime() ? nowMs : -1;
            long offset = logEndOffset;
            List<LogSegment.BatchMeta> metas = new ArrayList<>(outcome.batches().size());
            int position = 0;
            for (RecordBatch batch : outcome.batches()) {
                batch.setBaseOffset(offset);
                batch.setPartitionLeaderEpoch(leaderEpoch);
                if (appendTime >= 0) {
                    batch.setLogAppendTime(appendTime);
                }
                metas.add(new LogSegment.BatchMeta(position, batch.sizeInBytes(), offset, batch.lastOffset(),
                        batch.maxTimestamp(), leaderEpoch));
                position += batch.sizeInBytes();
                offset = batch.nextOffset();
            }
            return write(batches, outcome.batches(), metas, nowMs, appendTime);
        } finally {
            writeLock.unlock();
        }
    }

    /** Under writeLock: the answer to a retried batch, from the original's metadata. */
    private AppendResult duplicateOf(ProducerStateManager.BatchMetadata original, LogConfig current) {
        long appendTime = current.logAppendTime() ? original.timestamp() : -1;
        CompletableFuture<Void> durable = current.flushMode() == FlushMode.GROUP
                ? groupCommit.awaitDurable(Math.min(original.lastOffset() + 1, logEndOffset))
                : CompletableFuture.completedFuture(null);
        return new AppendResult.Appended(original.firstOffset(), original.lastOffset(), appendTime, 0, durable, true);
    }

    /** Appends batches copied from the leader as they are; they must continue this log's offsets. */
    public AppendResult appendAsFollower(ByteBuffer batches) {
        writeLock.lock();
        try {
            if (offlineReason != null || closed) {
                return storageError();
            }
            BatchValidator.Outcome outcome = BatchValidator.forFollower(batches, logEndOffset);
            if (outcome.error().isFailure()) {
                return rejected(outcome.error());
            }
            List<LogSegment.BatchMeta> metas = new ArrayList<>(outcome.batches().size());
            int position = 0;
            for (RecordBatch batch : outcome.batches()) {
                metas.add(new LogSegment.BatchMeta(position, batch.sizeInBytes(), batch.baseOffset(),
                        batch.lastOffset(), batch.maxTimestamp(), batch.partitionLeaderEpoch()));
                position += batch.sizeInBytes();
            }
            return write(batches, outcome.batches(), metas, env.time().milliseconds(), -1);
        } finally {
            writeLock.unlock();
        }
    }

    /** Under writeLock: roll if need be, write, update the producer state, publish the new end. */
    private AppendResult write(ByteBuffer batches, List<RecordBatch> parsed, List<LogSegment.BatchMeta> metas,
            long nowMs, long appendTime) {
        LogConfig current = config;
        int bytes = batches.remaining();
        try {
            LogSegment active = activeSegment();
            if (active.size() > 0 && ((long) active.size() + bytes > current.segmentBytes()
                    || nowMs - active.rollReferenceMs() > current.segmentMs())) {
                active = roll(nowMs);
            }
            for (LogSegment.BatchMeta meta : metas) {
                epochs.assign(meta.partitionLeaderEpoch(), meta.baseOffset());
            }
            active.append(batches, metas, current.indexIntervalBytes(), nowMs);
            for (RecordBatch batch : parsed) {
                producers.onBatchAppended(batch);
            }
        } catch (IOException | RuntimeException e) {
            goOffline("appending " + bytes + " bytes at offset " + logEndOffset, e);
            return storageError();
        }
        long first = metas.get(0).baseOffset();
        long last = metas.get(metas.size() - 1).lastOffset();
        logEndOffset = last + 1;
        CompletableFuture<Void> durable = current.flushMode() == FlushMode.GROUP
                ? groupCommit.awaitDurable(last + 1) : CompletableFuture.completedFuture(null);
        return new AppendResult.Appended(first, last, appendTime, bytes, durable);
    }

    /** Under writeLock: closes the active segment's indexes and starts a new segment at the log end. */
    private LogSegment roll(long nowMs) throws IOException {
        LogSegment old = activeSegment();
        // The producer state at the new segment's base: a restart rebuilds from here, not the log start.
        ProducerStateManager.Snapshot producerSnapshot = producers.snapshot();
        LogSegment fresh = LogSegment.create(dir, logEndOffset, env.files(), nowMs);
        LogSegment[] next = Arrays.copyOf(segments, segments.length + 1);
        next[next.length - 1] = fresh;
        segments = next;
        LOG.info("[log {}] rolled a new segment at offset {} ({} bytes in the previous one)", name,
                fresh.baseOffset, old.size());
        pendingRolls.add(new PendingRoll(old, producerSnapshot, truncations));
        try {
            env.scheduler().execute(this::finishRolls);
        } catch (RejectedExecutionException shuttingDown) {
            finishRollsLocked(); // close finishes them too
        }
        return fresh;
    }

    /**
     * On the scheduler: writes rolled segments' indexes and the producer snapshots taken at their
     * rolls (page-cache writes, which the appending thread does not wait for), then, with {@code
     * flush.mode=os} where nothing else fsyncs, syncs the finished segments once.
     */
    private void finishRolls() {
        writeLock.lock();
        try {
            finishRollsLocked();
        } catch (IOException e) {
            return; // offline, and said so
        } finally {
            writeLock.unlock();
        }
        if (config.flushMode() == FlushMode.OS) {
            flushQuietly();
        }
    }

    /**
     * Under writeLock: the work of every roll not yet finished. Retention and close call it first,
     * so that a snapshot retention relies on (the one at the first segment kept) is on disk before
     * segments go. A roll that a truncation came after is skipped: its segment may be active again
     * (the next roll or close writes its indexes) and its snapshot may describe records that are
     * gone. A missing index or snapshot (a crash before this ran) costs a rebuild at the next open.
     */
    private void finishRollsLocked() throws IOException {
        PendingRoll roll;
        while ((roll = pendingRolls.poll()) != null) {
            if (offlineReason != null || roll.truncationsAtRoll() != truncations
                    || roll.segment().isDeleted()) {
                continue;
            }
            try {
                roll.segment().writeIndexes();
                producers.writeSnapshot(roll.producerSnapshot(), false);
            } catch (IOException | RuntimeException e) {
                goOffline("writing the indexes of segment " + roll.segment().baseOffset, e);
                throw asIoException(e);
            }
        }
    }

    // ---- truncation and retention ----

    /**
     * Removes every record at or past {@code offset} (a batch containing it goes whole); below the
     * log start, the log is emptied and restarts at {@code offset}. At or past the log end no record
     * goes, but a leader epoch that starts at the log end does: a replica that led an epoch without
     * appending to it recorded the epoch's start, which the next leader's log never has, and as long
     * as it stays this log's latest epoch every fetch from that leader diverges again (as Kafka's
     * {@code UnifiedLog.truncateTo} does).
     */
    public void truncateTo(long offset) throws IOException {
        writeLock.lock();
        try {
            ensureWritable();
            if (offset >= logEndOffset) {
                epochs.truncateFromEnd(logEndOffset);
                return;
            }
            if (offset < logStartOffset) {
                truncateFullyAndStartAtLocked(offset);
                return;
            }
            long removed = 0;
            LogSegment[] current = segments;
            List<LogSegment> kept = new ArrayList<>();
            for (LogSegment segment : current) {
                if (segment.baseOffset >= offset && segment != current[0]) {
                    removed += segment.size();
                    deleteSegment(segment);
                } else {
                    kept.add(segment);
                }
            }
            LogSegment last = kept.get(kept.size() - 1);
            removed += last.truncateTo(offset);
            last.flush();
            segments = kept.toArray(new LogSegment[0]);
            long before = logEndOffset;
            logEndOffset = last.nextOffset();
            epochs.truncateFromEnd(logEndOffset);
            producers.rebuild(segments, logEndOffset);
            if (lowerRecoveryPointForTruncation(logEndOffset)) {
                writeCheckpoint(); // a crash must re-check whatever is written from the new end on
            }
            groupCommit.truncatedTo(logEndOffset);
            LOG.info("[log {}] truncated to offset {} (was {}; {} bytes removed)", name, logEndOffset, before, removed);
        } catch (IOException | RuntimeException e) {
            goOffline("truncating to offset " + offset, e);
            throw asIoException(e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * A new leader records that its epoch starts at the log end, before it appends anything (as
     * Kafka's leaders do), so that a follower asking where an older epoch ends is answered with the
     * start of this one. A no-op if the log already knows this epoch or a newer one.
     */
    public void assignLeaderEpoch(int leaderEpoch) throws IOException {
        writeLock.lock();
        try {
            ensureWritable();
            if (leaderEpoch > epochs.latestEpoch()) {
                epochs.assign(leaderEpoch, logEndOffset);
            }
        } catch (IOException | RuntimeException e) {
            goOffline("recording leader epoch " + leaderEpoch + " at offset " + logEndOffset, e);
            throw asIoException(e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Deletes everything and restarts the log at {@code offset} (a follower far behind its leader's start). */
    public void truncateFullyAndStartAt(long offset) throws IOException {
        writeLock.lock();
        try {
            ensureWritable();
            truncateFullyAndStartAtLocked(offset);
        } catch (IOException | RuntimeException e) {
            goOffline("restarting the log at offset " + offset, e);
            throw asIoException(e);
        } finally {
            writeLock.unlock();
        }
    }

    private void truncateFullyAndStartAtLocked(long offset) throws IOException {
        for (LogSegment segment : segments) {
            deleteSegment(segment);
        }
        segments = new LogSegment[] {LogSegment.create(dir, offset, env.files(), env.time().milliseconds())};
        logStartOffset = offset;
        logEndOffset = offset;
        epochs.clear();
        producers.clear(offset);
        lowerRecoveryPointForTruncation(offset);
        synchronized (checkpointLock) {
            recoveryPoint = offset; // the log is empty: nothing below its start needs recovery
        }
        groupCommit.truncatedTo(offset);
        writeCheckpoint();
        LOG.info("[log {}] emptied and restarted at offset {}", name, offset);
    }

    /**
     * Forgets the producers whose last batch is {@code producerIdExpirationMs} old by the log's clock
     * (Kafka's producer.id.expiration.ms); a forgotten producer may start again at sequence 0 only.
     * Changes only the in-memory state (the next snapshot leaves them out). Any thread.
     *
     * @return how many producers were forgotten
     */
    public int removeExpiredProducers(long producerIdExpirationMs) {
        writeLock.lock();
        try {
            return producers.removeExpired(env.time().milliseconds(), producerIdExpirationMs);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Applies retention: deletes the oldest non-active segments while the log is larger than
     * retention.bytes, while their newest record is older than retention.ms, or while they lie
     * wholly below the log start. Never deletes past {@code highWatermark} (unreplicated data).
     *
     * @return how many segments were deleted
     */
    public int deleteOldSegments(long highWatermark) throws IOException {
        writeLock.lock();
        try {
            ensureWritable();
            LogConfig current = config;
            long nowMs = env.time().milliseconds();
            LogSegment active = activeSegment();
            if (active.size() > 0 && active.nextOffset() <= highWatermark && expired(active, current, nowMs)) {
                roll(nowMs); // an idle, expired active segment becomes deletable
            }
            finishRollsLocked();
            LogSegment[] current0 = segments;
            long total = sizeInBytes();
            int deleted = 0;
            for (int i = 0; i < current0.length - 1; i++) {
                LogSegment segment = current0[i];
                if (segment.nextOffset() > highWatermark) {
                    break;
                }
                boolean overSize = current.retentionBytes() >= 0 && total - segment.size() >= current.retentionBytes();
                boolean belowStart = segment.nextOffset() <= logStartOffset;
                if (!(overSize || belowStart || expired(segment, current, nowMs))) {
                    break;
                }
                total -= segment.size();
                deleted++;
            }
            if (deleted == 0) {
                return 0;
            }
            // The log start moves and the segments leave the list before their files go, so that a
            // concurrent reader or flusher never finds a closed segment in service.
            segments = Arrays.copyOfRange(current0, deleted, current0.length);
            logStartOffset = Math.max(logStartOffset, segments[0].baseOffset);
            epochs.truncateFromStart(logStartOffset);
            writeCheckpoint();
            producers.deleteSnapshotsBefore(segments[0].baseOffset);
            for (int i = 0; i < deleted; i++) {
                LOG.info("[log {}] retention deletes segment {}..{} ({} bytes)", name, current0[i].baseOffset,
                        current0[i].nextOffset() - 1, current0[i].size());
                deleteSegment(current0[i]);
            }
            return deleted;
        } catch (IOException | RuntimeException e) {
            goOffline("applying retention", e);
            throw asIoException(e);
        } finally {
            writeLock.unlock();
        }
    }

    private static boolean expired(LogSegment segment, LogConfig config, long nowMs) {
        if (config.retentionMs() < 0) {
            return false;
        }
        long newest = segment.maxTimestamp() >= 0 ? segment.maxTimestamp() : segment.rollReferenceMs();
        return nowMs - newest > config.retentionMs();
    }

    /**
     * Moves the log start to {@code offset} (DeleteRecords): offsets below it are no longer read,
     * and segments wholly below it are deleted. {@code offset} may not pass the log end.
     */
    public void deleteRecordsBefore(long offset, long highWatermark) throws IOException {
        writeLock.lock();
        try {
            ensureWritable();
            if (offset > logEndOffset || offset > highWatermark) {
                throw new IllegalArgumentException("cannot move the log start to " + offset + ": the log ends at "
                        + logEndOffset + ", the high watermark is " + highWatermark);
            }
            if (offset <= logStartOffset) {
                return;
            }
            logStartOffset = offset;
            epochs.truncateFromStart(offset);
            writeCheckpoint();
            LOG.info("[log {}] log start moved to offset {}", name, offset);
        } finally {
            writeLock.unlock();
        }
        deleteOldSegments(highWatermark);
    }

    /** Under writeLock: takes a segment out of service; its files go after file.delete.delay.ms. */
    private void deleteSegment(LogSegment segment) throws IOException {
        segment.markDeleted(env.files());
        long delayMs = config.fileDeleteDelayMs();
        Runnable delete = () -> {
            try {
                segment.deleteFiles();
            } catch (IOException e) {
                LOG.warn("[log {}] could not delete the files of segment {}: {}", name, segment.baseOffset,
                        e.toString());
            }
        };
        if (delayMs == 0) {
            delete.run();
        } else {
            env.scheduler().schedule(delete, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    // ---- flushing ----

    /** Forces everything appended so far to disk; completes when done (any flush mode). */
    public CompletableFuture<Void> flush() {
        return groupCommit.awaitDurable(logEndOffset);
    }

    /** Forces every segment that may hold unflushed bytes; returns the offset now durable. */
    private long flushNow() throws IOException {
        if (offlineReason != null) {
            throw new IOException("log " + name + " is offline: " + offlineReason);
        }
        long startedIn;
        synchronized (checkpointLock) {
            startedIn = truncations;
        }
        // Whatever is appended while this fsync runs is left for the next one, which starts as soon
        // as this one ends: appenders and fsyncs overlap (two cohorts), and the disk never idles.
        long target = logEndOffset;
        LogSegment[] current = segments;
        try {
            for (LogSegment segment : current) {
                if (segment.nextOffset() > recoveryPoint || segment == current[current.length - 1]) {
                    try {
                        segment.flush();
                    } catch (ClosedChannelException e) {
                        if (!segment.isDeleted()) {
                            throw e; // deleted segments may close under us; live ones may not
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            goOffline("flushing to disk", e);
            throw asIoException(e);
        }
        long durable;
        synchronized (checkpointLock) {
            if (truncations == startedIn) {
                // The log cannot have shrunk below target without a truncation; min() is a guard.
                recoveryPoint = Math.max(recoveryPoint, Math.min(target, logEndOffset));
            }
            durable = recoveryPoint;
        }
        maybeWriteCheckpoint();
        return durable;
    }

    private void flushQuietly() {
        try {
            groupCommit.markDurable(flushNow());
        } catch (IOException e) {
            // goOffline has reported it.
        }
    }

    private void scheduleIntervalFlush() {
        if (config.flushMode() == FlushMode.INTERVAL) {
            long interval = config.flushIntervalMs();
            intervalFlush = env.scheduler().scheduleWithFixedDelay(() -> {
                if (recoveryPoint < logEndOffset) {
                    flushQuietly();
                }
            }, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Under writeLock: the log now ends at {@code endOffset}. Lowers the recovery point to it and
     * starts a new truncation generation; returns whether the checkpoint on disk now claims more
     * than the log holds.
     */
    private boolean lowerRecoveryPointForTruncation(long endOffset) {
        synchronized (checkpointLock) {
            truncations++;
            recoveryPoint = Math.min(recoveryPoint, endOffset);
            return checkpointedRecoveryPoint > recoveryPoint;
        }
    }

    private void maybeWriteCheckpoint() throws IOException {
        synchronized (checkpointLock) {
            long nowMs = env.time().milliseconds();
            if (nowMs - lastCheckpointMs >= CHECKPOINT_INTERVAL_MS) {
                writeCheckpoint();
            }
        }
    }

    /** Writes "recoveryPoint logStartOffset" atomically. */
    private void writeCheckpoint() throws IOException {
        synchronized (checkpointLock) {
            long point = recoveryPoint;
            String text = point + " " + logStartOffset + "\n";
            Checkpoints.writeAtomically(dir.resolve(CHECKPOINT_FILE),
                    ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), true);
            checkpointedRecoveryPoint = point;
            lastCheckpointMs = env.time().milliseconds();
        }
    }

    // ---- reads ----

    /**
     * Whole batches from the one containing {@code startOffset}, at most {@code maxBytes} of them
     * (but at least one when {@code minOneBatch}, so a consumer always progresses), all below
     * {@code maxOffsetExclusive} (the high watermark, or the log end for a follower's fetch). The
     * slice comes from one segment; a caller that wants more reads again from its next offset.
     */
    public ReadResult read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        for (int attempt = 0; ; attempt++) {
            String offline = offlineReason;
            if (offline != null) {
                return new ReadResult.Offline(offline);
            }
            long end = logEndOffset;
            LogSegment[] current = segments;
            long start = logStartOffset;
            if (startOffset < start || startOffset > end) {
                return new ReadResult.OffsetOutOfRange(startOffset, start, end);
            }
            long limit = Math.min(maxOffsetExclusive, end);
            if (startOffset >= limit) {
                return new ReadResult.Slice(LogSlice.empty(startOffset));
            }
            try {
                for (int i = floorIndex(current, startOffset); i < current.length; i++) {
                    LogSlice slice = current[i].read(startOffset, maxBytes, limit, minOneBatch);
                    if (!slice.isEmpty() || current[i].nextOffset() > startOffset) {
                        return new ReadResult.Slice(slice);
                    }
                }
                return new ReadResult.Slice(LogSlice.empty(startOffset));
            } catch (ClosedChannelException e) {
                if (attempt < MAX_READ_RETRIES) {
                    continue; // a segment was deleted under us; look again
                }
                goOffline("reading offset " + startOffset, e);
                return new ReadResult.Offline(offlineReason);
            } catch (IOException | RuntimeException e) {
                goOffline("reading offset " + startOffset, e);
                return new ReadResult.Offline(offlineReason);
            }
        }
    }

    /**
     * The first record whose timestamp is at or after {@code timestamp} among offsets below {@code
     * maxOffsetExclusive}, or null when there is none (ListOffsets by time).
     */
    public TimestampOffset offsetForTimestamp(long timestamp, long maxOffsetExclusive) throws IOException {
        LogSegment[] current = segments;
        long start = logStartOffset;
        for (LogSegment segment : current) {
            if (segment.baseOffset >= maxOffsetExclusive) {
                break;
            }
            if (segment.nextOffset() <= start) {
                continue; // wholly below the log start
            }
            TimestampOffset found = segment.findOffsetForTimestamp(timestamp, start, maxOffsetExclusive);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /**
     * The first record with the largest timestamp among offsets below {@code maxOffsetExclusive},
     * or null when there is none (ListOffsets MAX_TIMESTAMP). Segments are searched in the order
     * of their largest timestamps, so usually one segment is scanned (its batch headers, then the
     * records of one batch).
     */
    public TimestampOffset offsetOfMaxTimestamp(long maxOffsetExclusive) throws IOException {
        LogSegment[] current = segments.clone();
        long start = logStartOffset;
        Arrays.sort(current, Comparator.comparingLong(LogSegment::maxTimestamp).reversed()
                .thenComparingLong(segment -> segment.baseOffset));
        TimestampOffset best = null;
        for (LogSegment segment : current) {
            if (best != null && segment.maxTimestamp() < best.timestamp()) {
                break; // no later segment in this order can hold a larger timestamp
            }
            if (segment.baseOffset >= maxOffsetExclusive) {
                continue;
            }
            if (segment.nextOffset() <= start) {
                continue; // wholly below the log start
            }
            TimestampOffset found = segment.findMaxTimestamp(start, maxOffsetExclusive);
            if (found != null && (best == null || found.timestamp() > best.timestamp()
                    || found.timestamp() == best.timestamp() && found.offset() < best.offset())) {
                best = found;
            }
        }
        return best;
    }

    /** The leader epoch of the batch holding {@code offset}, per the epoch cache; -1 when unknown. */
    public int epochForOffset(long offset) {
        return epochs.epochForOffset(offset);
    }

    /** Where {@code epoch} ends in this log (for a follower's divergence check). */
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return epochs.endOffsetFor(epoch, logEndOffset);
    }

    /** The latest leader epoch this log holds batches of, or -1. */
    public int latestEpoch() {
        return epochs.latestEpoch();
    }

    /** (epoch, start offset) pairs of the leader epoch cache, oldest first. */
    public List<long[]> epochEntries() {
        return epochs.entries();
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    /** The offset the next appended record gets. */
    public long logEndOffset() {
        return logEndOffset;
    }

    /** Every offset below it is fsynced. */
    public long recoveryPoint() {
        return recoveryPoint;
    }

    /**
     * Every offset below it is durable per the flush mode: fsynced with {@code flush.mode=group};
     * the log end with {@code interval} and {@code os}, which count appends as durable once written
     * (docs/STORAGE.md). A replica reports this, not its log end, as what it holds.
     */
    public long durableOffset() {
        long end = logEndOffset;
        if (config.flushMode() != FlushMode.GROUP) {
            return end;
        }
        // Offsets below the log start hold nothing, so there is nothing there to lose.
        return Math.max(logStartOffset, Math.min(groupCommit.durableOffset(), end));
    }

    public long sizeInBytes() {
        long total = 0;
        for (LogSegment segment : segments) {
            total += segment.size();
        }
        return total;
    }

    public int segmentCount() {
        return segments.length;
    }

    /** Base offsets of the segments, oldest first. */
    public List<Long> segmentBaseOffsets() {
        List<Long> out = new ArrayList<>();
        for (LogSegment segment : segments) {
            out.add(segment.baseOffset);
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    public LogConfig config() {
        return config;
    }

    /** Applies changed topic configs (retention, segment size, ...) from now on. */
    public void updateConfig(LogConfig newConfig) {
        writeLock.lock();
        try {
            boolean intervalChanged = newConfig.flushMode() != config.flushMode()
                    || newConfig.flushIntervalMs() != config.flushIntervalMs();
            config = newConfig;
            if (intervalChanged) {
                if (intervalFlush != null) {
                    intervalFlush.cancel(false);
                    intervalFlush = null;
                }
                scheduleIntervalFlush();
            }
        } finally {
            writeLock.unlock();
        }
    }

    public boolean isOffline() {
        return offlineReason != null;
    }

    // ---- close ----

    /**
     * A clean stop: writes the active segment's indexes, fsyncs everything, writes the checkpoints
     * and the clean-shutdown marker (so the next open skips recovery), closes the files.
     */
    @Override
    public void close() throws IOException {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (intervalFlush != null) {
                intervalFlush.cancel(false);
            }
            if (offlineReason != null) {
                closeFiles();
                return;
            }
            try {
                finishRollsLocked();
                activeSegment().writeIndexes();
                producers.takeSnapshot(true);
                long durable = flushNow();
                groupCommit.markDurable(durable);
                writeCheckpoint();
                Files.write(dir.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
                Checkpoints.syncDirectory(dir);
            } catch (IOException | RuntimeException e) {
                goOffline("closing", e);
                closeFiles();
                throw asIoException(e);
            }
            groupCommit.fail(new IllegalStateException("log " + name + " is closed"));
            closeFiles();
        } finally {
            writeLock.unlock();
        }
    }

    private void closeFiles() {
        for (LogSegment segment : segments) {
            try {
                segment.close();
            } catch (IOException e) {
                LOG.warn("[log {}] closing segment {}: {}", name, segment.baseOffset, e.toString());
            }
        }
    }

    // ---- helpers ----

    private LogSegment activeSegment() {
        LogSegment[] current = segments;
        return current[current.length - 1];
    }

    /** Index of the last segment whose base offset is at or below {@code offset} (0 if none). */
    private static int floorIndex(LogSegment[] current, long offset) {
        int lo = 0;
        int hi = current.length - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (current[mid].baseOffset <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    private void ensureWritable() throws IOException {
        if (offlineReason != null) {
            throw new IOException("log " + name + " is offline: " + offlineReason);
        }
        if (closed) {
            throw new IOException("log " + name + " is closed");
        }
    }

    private AppendResult storageError() {
        return new AppendResult.Rejected(ErrorCode.STORAGE_ERROR, closed && offlineReason == null
                ? "the log of " + name + " is closed" : "the log of " + name + " is offline: " + offlineReason);
    }

    private static AppendResult rejected(ApiError error) {
        return new AppendResult.Rejected(error.code(), error.message());
    }

    /** Takes the log offline for good: logged, reported, and every later operation refused. */
    private void goOffline(String what, Throwable cause) {
        synchronized (checkpointLock) {
            if (offlineReason != null) {
                return;
            }
            offlineReason = "I/O error while " + what + ": " + cause;
        }
        LOG.error("[log {}] is offline: I/O error while {}", name, what, cause);
        IOException io = cause instanceof IOException e ? e : new IOException(cause);
        try {
            env.offlineListener().onOffline(dir, io);
        } catch (RuntimeException listenerFailed) {
            LOG.error("[log {}] the offline listener failed", name, listenerFailed);
        }
        // After the listener: whoever waits on a failed append learns of it once the owner knows.
        groupCommit.fail(cause);
    }

    private static IOException asIoException(Throwable e) {
        return e instanceof IOException io ? io : new IOException(e);
    }

    /** Files the loader clears from a log directory: leftovers of deletes and interrupted writes. */
    static boolean isLeftover(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(LogSegment.DELETED_SUFFIX) || n.endsWith(".tmp");
    }

    static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(out::add);
        }
        return out;
    }

    @Override
    public String toString() {
        return "PartitionLog(" + name + ", offsets " + logStartOffset + ".." + logEndOffset + ", " + segments.length
                + " segments)";
    }
}
