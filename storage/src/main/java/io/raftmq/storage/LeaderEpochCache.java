package io.raftmq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Leader epoch -> the first offset written in that epoch, for this log. Persisted in {@code
 * leader-epoch-checkpoint} (Kafka's text format: version, count, then "epoch startOffset" lines)
 * after every change, atomically. Answers "where does epoch E end" for the divergence check of
 * replication ({@link #endOffsetFor}).
 *
 * <p>Epochs only grow along the log. Thread-safety: changed under the log's write lock, read by
 * fetch handlers; every method synchronizes on this object (short, no I/O but the checkpoint
 * write on a change).
 */
final class LeaderEpochCache {
    static final String FILE_NAME = "leader-epoch-checkpoint";
    private static final int VERSION = 0;

    private final Path file;
    // Guarded by this.
    private final TreeMap<Integer, Long> epochs = new TreeMap<>();

    private LeaderEpochCache(Path file) {
        this.file = file;
    }

    /** Loads the checkpoint in {@code dir} (an empty cache when there is none). */
    static LeaderEpochCache load(Path dir) throws IOException {
        LeaderEpochCache cache = new LeaderEpochCache(dir.resolve(FILE_NAME));
        if (!Files.isRegularFile(cache.file)) {
            return cache;
        }
        List<String> lines = Files.readAllLines(cache.file, StandardCharsets.UTF_8);
        if (lines.size() < 2 || !lines.get(0).trim().equals(String.valueOf(VERSION))) {
            throw new IOException("leader epoch checkpoint " + cache.file + " has an unknown format");
        }
        int count = Integer.parseInt(lines.get(1).trim());
        if (lines.size() < 2 + count) {
            throw new IOException("leader epoch checkpoint " + cache.file + " lists " + count + " entries but has "
                    + (lines.size() - 2));
        }
        for (int i = 0; i < count; i++) {
            String[] parts = lines.get(2 + i).trim().split("\\s+");
            cache.epochs.put(Integer.parseInt(parts[0]), Long.parseLong(parts[1]));
        }
        return cache;
    }

    /**
     * Records that {@code epoch} starts at {@code startOffset}, if it is newer than the latest epoch
     * known; the same epoch again is ignored.
     *
     * @throws IllegalStateException when the epoch or offset goes back (a bug)
     */
    synchronized void assign(int epoch, long startOffset) throws IOException {
        if (epoch < 0) {
            return;
        }
        Map.Entry<Integer, Long> latest = epochs.lastEntry();
        if (latest != null) {
            if (epoch == latest.getKey()) {
                return;
            }
            if (epoch < latest.getKey() || startOffset < latest.getValue()) {
                throw new IllegalStateException("leader epoch moved back: epoch " + latest.getKey() + " started at "
                        + latest.getValue() + ", then epoch " + epoch + " at " + startOffset);
            }
        }
        epochs.put(epoch, startOffset);
        flush();
    }

    /**
     * Like {@link #assign}, for batches read back during recovery: epochs at or below the latest
     * known are already recorded and are skipped.
     */
    synchronized void assignIfNewer(int epoch, long startOffset) throws IOException {
        if (epoch > latestEpoch()) {
            assign(epoch, startOffset);
        }
    }

    /** The latest epoch, or -1. */
    public synchronized int latestEpoch() {
        return epochs.isEmpty() ? EpochEndOffset.UNDEFINED_EPOCH : epochs.lastKey();
    }

    /**
     * Where {@code requestedEpoch} ends in this log, as Kafka's OffsetsForLeaderEpoch answers: for
     * the latest epoch, the log end; for an older one, the start of the next epoch this log has,
     * paired with the largest epoch at or below the requested one; undefined when the requested
     * epoch is newer than any this log knows.
     */
    public synchronized EpochEndOffset endOffsetFor(int requestedEpoch, long logEndOffset) {
        if (requestedEpoch < 0 || epochs.isEmpty()) {
            return EpochEndOffset.UNDEFINED;
        }
        if (requestedEpoch == epochs.lastKey()) {
            return new EpochEndOffset(requestedEpoch, logEndOffset);
        }
        Map.Entry<Integer, Long> higher = epochs.higherEntry(requestedEpoch);
        if (higher == null) {
            return EpochEndOffset.UNDEFINED;
        }
        Map.Entry<Integer, Long> floor = epochs.floorEntry(requestedEpoch);
        return floor == null ? new EpochEndOffset(requestedEpoch, higher.getValue())
                : new EpochEndOffset(floor.getKey(), higher.getValue());
    }

    /** The epoch whose range holds {@code offset}: the latest epoch starting at or before it; -1 if none. */
    public synchronized int epochForOffset(long offset) {
        int epoch = EpochEndOffset.UNDEFINED_EPOCH;
        for (Map.Entry<Integer, Long> e : epochs.entrySet()) { // start offsets grow with epochs
            if (e.getValue() > offset) {
                break;
            }
            epoch = e.getKey();
        }
        return epoch;
    }

    /** Forgets epochs that start at or past {@code endOffset} (the log was truncated there). */
    synchronized void truncateFromEnd(long endOffset) throws IOException {
        boolean changed = false;
        while (!epochs.isEmpty() && epochs.lastEntry().getValue() >= endOffset) {
            epochs.pollLastEntry();
            changed = true;
        }
        if (changed) {
            flush();
        }
    }

    /**
     * The log now starts at {@code startOffset}: epochs that ended before it are dropped, and the
     * epoch that covers it now starts there.
     */
    synchronized void truncateFromStart(long startOffset) throws IOException {
        Map.Entry<Integer, Long> covering = null;
        boolean changed = false;
        while (!epochs.isEmpty() && epochs.firstEntry().getValue() < startOffset) {
            covering = epochs.pollFirstEntry();
            changed = true;
        }
        if (covering != null && (epochs.isEmpty() || epochs.firstEntry().getValue() > startOffset)) {
            epochs.put(covering.getKey(), startOffset);
        }
        if (changed) {
            flush();
        }
    }

    synchronized void clear() throws IOException {
        epochs.clear();
        flush();
    }

    /** (epoch, startOffset) pairs, oldest first. */
    public synchronized List<long[]> entries() {
        List<long[]> out = new ArrayList<>();
        epochs.forEach((epoch, offset) -> out.add(new long[] {epoch, offset}));
        return out;
    }

    private void flush() throws IOException {
        StringBuilder text = new StringBuilder().append(VERSION).append('\n').append(epochs.size()).append('\n');
        epochs.forEach((epoch, offset) -> text.append(epoch).append(' ').append(offset).append('\n'));
        Checkpoints.writeAtomically(file, ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)), true);
    }
}
