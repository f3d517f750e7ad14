package io.raftmq.storage;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The idempotent producers of one partition log (Kafka's ProducerStateManager idea): for each
 * producer id, its epoch and the metadata of its last {@value #BATCHES_KEPT} batches (first/last
 * sequence, first/last offset, timestamp), as of {@link #mapEndOffset()}.
 *
 * <p>The leader checks every producer batch against it before writing ({@link
 * #checkLeaderAppend}): an older epoch is refused, a batch equal to one of the last five is a
 * duplicate (not written again; answered with the original offsets), a sequence gap or a new epoch
 * that does not start at 0 is refused. Every appended batch, on the leader and on followers alike,
 * updates it ({@link #onBatchAppended}), so a follower that becomes leader knows every producer.
 *
 * <p>Durability: snapshots {@code <offset, 20 digits>.snapshot} hold the whole state at an offset
 * (the state of the batches below it); the log writes one when it rolls a segment and when it
 * closes. After a restart or a truncation the state is rebuilt from the newest snapshot at or
 * below the log end plus a scan of the batch headers after it (no record is decoded); without a
 * usable snapshot, from the first segment. Retention keeps the newest snapshot at or below the
 * first segment, so producers seen only in deleted segments are not forgotten. A producer whose last
 * batch is producer.id.expiration.ms old is forgotten ({@link #removeExpired}).
 *
 * <p>Threads: owned by the log's write lock; nothing here is read without it.
 */
final class ProducerStateManager {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerStateManager.class);
    /** Batches kept per producer: the producer has at most this many in flight per partition. */
    static final int BATCHES_KEPT = 5;
    static final String SNAPSHOT_SUFFIX = ".snapshot";
    private static final int SNAPSHOT_VERSION = 1;
    /** Bytes of a batch header that hold everything producer state needs. */
    static final int HEADER_BYTES = RecordBatch.RECORD_COUNT_OFFSET;

    /** One appended batch of a producer. */
    record BatchMetadata(int firstSeq, int lastSeq, long firstOffset, long lastOffset, long timestamp) {}

    /** A producer's epoch and its last batches (all of that epoch), oldest first. */
    static final class ProducerEntry {
        short epoch;
        final ArrayDeque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_KEPT);

        int lastSeq() {
            return batches.peekLast().lastSeq();
        }

        BatchMetadata find(int firstSeq, int lastSeq) {
            for (BatchMetadata b : batches) {
                if (b.firstSeq() == firstSeq && b.lastSeq() == lastSeq) {
                    return b;
                }
            }
            return null;
        }
    }

    /** What the leader's check decided about an append. */
    sealed interface Check {
        /** Write it. */
        record Accept() implements Check {}

        /** Do not write it: it is a retry of {@code original}, which is already in the log. */
        record Duplicate(BatchMetadata original) implements Check {}

        /** Do not write it. */
        record Refuse(ApiError error) implements Check {}
    }

    private static final Check ACCEPT = new Check.Accept();

    private final Path dir;
    private final String name;
    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    private long mapEndOffset;

    ProducerStateManager(Path dir, long mapEndOffset) {
        this.dir = dir;
        this.name = dir.getFileName().toString();
        this.mapEndOffset = mapEndOffset;
    }

    long mapEndOffset() {
        return mapEndOffset;
    }

    /** The producer's entry, or null (tests). */
    ProducerEntry entry(long producerId) {
        return producers.get(producerId);
    }

    // ---- the leader's check ----

    /**
     * Checks the producer batches of one leader append, in order (a later batch of the same
     * producer continues an earlier one of the same append). Batches without a producer id pass.
     */
    Check checkLeaderAppend(List<RecordBatch> batches) {
        Map<Long, int[]> staged = null; // producer id -> {epoch, last sequence} of earlier batches here
        for (RecordBatch batch : batches) {
            long producerId = batch.producerId();
            if (producerId < 0) {
                continue;
            }
            short epoch = batch.producerEpoch();
            int firstSeq = batch.baseSequence();
            int lastSeq = batch.lastSequence();
            if (epoch < 0 || firstSeq < 0) {
                return refuse(ErrorCode.INVALID_RECORD, "a batch of producer %d has epoch %d and base sequence %d;"
                        + " an idempotent batch needs both", producerId, epoch, firstSeq);
            }
            int[] earlier = staged == null ? null : staged.get(producerId);
            ProducerEntry entry = producers.get(producerId);
            if (earlier == null && entry == null) {
                if (firstSeq != 0) {
                    return refuse(ErrorCode.UNKNOWN_PRODUCER_ID, "producer %d (epoch %d) is unknown to %s (never"
                            + " seen, or its state expired); its first batch must have sequence 0, received %d",
                            producerId, epoch, name, firstSeq);
                }
            } else {
                int knownEpoch = earlier != null ? earlier[0] : entry.epoch;
                int knownLastSeq = earlier != null ? earlier[1] : entry.lastSeq();
                if (epoch < knownEpoch) {
                    return refuse(ErrorCode.INVALID_PRODUCER_EPOCH, "producer %d sent epoch %d to %s, older than"
                            + " its current epoch %d (a newer producer with this id is active)", producerId, epoch,
                            name, knownEpoch);
                }
                if (epoch > knownEpoch) {
                    if (firstSeq != 0) {
                        return refuse(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "producer %d starts epoch %d on %s at"
                                + " sequence %d; a new epoch must start at sequence 0 (expected 0, received %d)",
                                producerId, epoch, name, firstSeq, firstSeq);
                    }
                } else {
                    if (earlier == null) {
                        BatchMetadata duplicate = entry.find(firstSeq, lastSeq);
                        if (duplicate != null) {
                            if (batches.size() > 1) {
                                return refuse(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, "producer %d (epoch %d) resent"
                                        + " sequences %d..%d to %s (already at offsets %d..%d) together with other"
                                        + " batches; a retried batch must be sent alone", producerId, epoch,
                                        firstSeq, lastSeq, name, duplicate.firstOffset(), duplicate.lastOffset());
                            }
                            return new Check.Duplicate(duplicate);
                        }
                    }
                    int expected = RecordBatch.incrementSequence(knownLastSeq, 1);
                    if (firstSeq != expected) {
                        return refuse(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "producer %d (epoch %d) on %s:"
                                + " expected sequence %d, received %d (batch of sequences %d..%d)", producerId, epoch,
                                name, expected, firstSeq, firstSeq, lastSeq);
                    }
                }
            }
            if (batches.size() > 1) { // the common single-batch append allocates nothing here
                if (staged == null) {
                    staged = new HashMap<>();
                }
                staged.put(producerId, new int[] {epoch, lastSeq});
            }
        }
        return ACCEPT;
    }

    private static Check refuse(ErrorCode code, String format, Object... args) {
        return new Check.Refuse(ApiError.of(code, format, args));
    }

    // ---- updates ----

    /** An appended batch (offsets final), as leader, follower or while rebuilding. */
    void onBatchAppended(RecordBatch batch) {
        if (batch.producerId() >= 0) {
            apply(batch.producerId(), batch.producerEpoch(), batch.baseSequence(), batch.lastSequence(),
                    batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp());
        }
        mapEndOffset = batch.nextOffset();
    }

    /** Applies a batch read from a header (see {@link LogSegment#scanHeaders}). */
    void onBatchHeader(ByteBuffer header) {
        long base = header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
        long last = base + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
        long producerId = header.getLong(RecordBatch.PRODUCER_ID_OFFSET);
        if (producerId >= 0) {
            int firstSeq = header.getInt(RecordBatch.BASE_SEQUENCE_OFFSET);
            int lastSeq = firstSeq < 0 ? firstSeq
                    : RecordBatch.incrementSequence(firstSeq, header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET));
            apply(producerId, header.getShort(RecordBatch.PRODUCER_EPOCH_OFFSET), firstSeq, lastSeq, base, last,
                    header.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET));
        }
        mapEndOffset = last + 1;
    }

    private void apply(long producerId, short epoch, int firstSeq, int lastSeq, long firstOffset, long lastOffset,
            long timestamp) {
        if (firstSeq < 0) {
            return; // not idempotent (a leader refuses these; a replicated one carries nothing to track)
        }
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> new ProducerEntry());
        if (entry.batches.isEmpty() || epoch != entry.epoch) {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.batches.addLast(new BatchMetadata(firstSeq, lastSeq, firstOffset, lastOffset, timestamp));
        if (entry.batches.size() > BATCHES_KEPT) {
            entry.batches.removeFirst();
        }
    }

    /**
     * Forgets every producer whose last batch's timestamp is at least {@code expirationMs} before
     * {@code nowMs} (Kafka's rule for producer.id.expiration.ms), so that the state of producers
     * that went away does not grow without bound.
     *
     * @return how many were forgotten
     */
    int removeExpired(long nowMs, long expirationMs) {
        int before = producers.size();
        producers.values().removeIf(entry -> nowMs - entry.batches.peekLast().timestamp() >= expirationMs);
        int removed = before - producers.size();
        if (removed > 0) {
            LOG.info("[log {}] forgot {} producer(s) idle for {} ms or more; {} left", name, removed, expirationMs,
                    producers.size());
        }
        return removed;
    }

    /** Forgets everything; the state now describes an empty log that starts at {@code offset}. */
    void clear(long offset) throws IOException {
        producers.clear();
        mapEndOffset = offset;
        for (long snapshot : snapshotOffsets()) {
            Files.deleteIfExists(snapshotFile(snapshot));
        }
    }

    // ---- rebuilding ----

    /**
     * Rebuilds the state of {@code segments} up to {@code logEndOffset}: deletes snapshots past the
     * end (and unreadable ones), loads the newest remaining snapshot, scans the batch headers after it.
     */
    void rebuild(LogSegment[] segments, long logEndOffset) throws IOException {
        producers.clear();
        long from = -1;
        List<Long> offsets = snapshotOffsets();
        for (int i = offsets.size() - 1; i >= 0; i--) {
            long offset = offsets.get(i);
            if (offset > logEndOffset) {
                Files.deleteIfExists(snapshotFile(offset));
            } else if (from < 0) {
                String problem = readSnapshot(offset);
                if (problem == null) {
                    from = offset;
                } else {
                    LOG.warn("[log {}] deleting producer state snapshot {}: {}", name, offset, problem);
                    producers.clear();
                    Files.deleteIfExists(snapshotFile(offset));
                }
            }
        }
        long scanFrom = Math.max(from, segments[0].baseOffset);
        mapEndOffset = scanFrom;
        int scanned = 0;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        for (LogSegment segment : segments) {
            if (segment.nextOffset() > scanFrom) {
                scanned += segment.scanHeaders(scanFrom, header, this::onBatchHeader);
            }
        }
        mapEndOffset = logEndOffset;
        LOG.info("[log {}] producer state rebuilt: {} producer(s), from {} and {} batch header(s) up to offset {}",
                name, producers.size(), from < 0 ? "no snapshot" : "the snapshot at " + from, scanned, logEndOffset);
    }

    // ---- snapshots ----

    /** The state at one offset, serialized for its snapshot file. */
    record Snapshot(long offset, ByteBuffer bytes) {}

    /** Writes the state as the snapshot at {@link #mapEndOffset()}. */
    void takeSnapshot(boolean sync) throws IOException {
        writeSnapshot(snapshot(), sync);
    }

    /** The state as the snapshot at {@link #mapEndOffset()}, in memory (no I/O). */
    Snapshot snapshot() {
        int size = 16;
        for (ProducerEntry entry : producers.values()) {
            size += 11 + entry.batches.size() * 32;
        }
        ByteBuffer out = ByteBuffer.allocate(size + 4);
        out.putInt(SNAPSHOT_VERSION).putLong(mapEndOffset).putInt(producers.size());
        for (Map.Entry<Long, ProducerEntry> e : producers.entrySet()) {
            ProducerEntry entry = e.getValue();
            out.putLong(e.getKey()).putShort(entry.epoch).put((byte) entry.batches.size());
            for (BatchMetadata b : entry.batches) {
                out.putInt(b.firstSeq()).putInt(b.lastSeq()).putLong(b.firstOffset()).putLong(b.lastOffset())
                        .putLong(b.timestamp());
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        out.flip();
        return new Snapshot(mapEndOffset, out);
    }

    /** Writes a snapshot taken earlier; the caller makes sure it still describes the log. */
    void writeSnapshot(Snapshot snapshot, boolean sync) throws IOException {
        Checkpoints.writeAtomically(snapshotFile(snapshot.offset()), snapshot.bytes(), sync);
    }

    /** Loads the snapshot at {@code offset}; null when it was read, else what is wrong with it. */
    private String readSnapshot(long offset) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(snapshotFile(offset)));
        if (in.remaining() < 20) {
            return "only " + in.remaining() + " bytes";
        }
        CRC32C crc = new CRC32C();
        crc.update(in.array(), 0, in.limit() - 4);
        if ((int) crc.getValue() != in.getInt(in.limit() - 4)) {
            return "checksum mismatch";
        }
        try {
            int version = in.getInt();
            long at = in.getLong();
            if (version != SNAPSHOT_VERSION || at != offset) {
                return "version " + version + " at offset " + at + " (expected version " + SNAPSHOT_VERSION
                        + " at " + offset + ")";
            }
            int count = in.getInt();
            for (int i = 0; i < count; i++) {
                long producerId = in.getLong();
                ProducerEntry entry = new ProducerEntry();
                entry.epoch = in.getShort();
                int batches = in.get();
                for (int j = 0; j < batches; j++) {
                    entry.batches.addLast(new BatchMetadata(in.getInt(), in.getInt(), in.getLong(), in.getLong(),
                            in.getLong()));
                }
                if (!entry.batches.isEmpty()) {
                    producers.put(producerId, entry);
                }
            }
        } catch (BufferUnderflowException e) {
            return "truncated";
        }
        mapEndOffset = offset;
        return null;
    }

    /**
     * Retention moved the first segment to {@code firstSegmentBase}: deletes the snapshots before
     * the newest one at or below it (that one still describes the producers of deleted segments).
     */
    void deleteSnapshotsBefore(long firstSegmentBase) throws IOException {
        List<Long> offsets = snapshotOffsets();
        long keep = -1;
        for (long offset : offsets) {
            if (offset <= firstSegmentBase) {
                keep = offset;
            }
        }
        for (long offset : offsets) {
            if (offset < keep) {
                Files.deleteIfExists(snapshotFile(offset));
            }
        }
    }

    /** Snapshot offsets on disk, ascending. */
    List<Long> snapshotOffsets() throws IOException {
        List<Long> out = new ArrayList<>();
        for (Path file : PartitionLog.list(dir)) {
            String n = file.getFileName().toString();
            if (n.endsWith(SNAPSHOT_SUFFIX)) {
                try {
                    out.add(Long.parseLong(n.substring(0, n.length() - SNAPSHOT_SUFFIX.length())));
                } catch (NumberFormatException e) {
                    // Not one of ours.
                }
            }
        }
        out.sort(null);
        return out;
    }

    private Path snapshotFile(long offset) {
        return dir.resolve(LogSegment.fileName(offset, SNAPSHOT_SUFFIX));
    }
}
