package io.raftmq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The sparse time index of one segment: entries of (largest timestamp so far, offset of the batch
 * where it was reached), added with the offset index and only when the timestamp grows. Finds
 * where to start scanning for the first record at or after a timestamp (ListOffsets by time).
 *
 * <p>Written to the segment's {@code .timeindex} file (int64 timestamp, int32 relative offset) at
 * roll and close, like {@link OffsetIndex}, with the same thread rules: one writer under the log's
 * write lock, lock-free readers through an immutable snapshot.
 */
final class TimeIndex {
    private record Entries(long[] timestamps, long[] offsets, int count) {}

    private final long baseOffset;
    private volatile Entries entries = new Entries(new long[16], new long[16], 0);

    TimeIndex(long baseOffset) {
        this.baseOffset = baseOffset;
    }

    int entryCount() {
        return entries.count();
    }

    /** Adds (timestamp, offset) if the timestamp is larger than the last entry's. */
    void maybeAppend(long timestamp, long offset) {
        Entries e = entries;
        int n = e.count();
        if (n > 0 && (timestamp <= e.timestamps()[n - 1] || offset <= e.offsets()[n - 1])) {
            return;
        }
        long[] timestamps = e.timestamps();
        long[] offsets = e.offsets();
        if (n == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, n * 2);
            offsets = Arrays.copyOf(offsets, n * 2);
        }
        timestamps[n] = timestamp;
        offsets[n] = offset;
        entries = new Entries(timestamps, offsets, n + 1);
    }

    /**
     * The offset to start scanning from for the first record with a timestamp at or after {@code
     * timestamp}: the offset of the last entry whose timestamp is below it, or the segment's base.
     */
    long startOffsetFor(long timestamp) {
        Entries e = entries;
        int lo = 0;
        int hi = e.count() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (e.timestamps()[mid] < timestamp) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? baseOffset : e.offsets()[found];
    }

    /** The largest timestamp recorded, or -1. */
    long lastTimestamp() {
        Entries e = entries;
        return e.count() == 0 ? -1 : e.timestamps()[e.count() - 1];
    }

    /** Drops the entries at or past {@code offset}. */
    void truncateToOffset(long offset) {
        Entries e = entries;
        int n = e.count();
        while (n > 0 && e.offsets()[n - 1] >= offset) {
            n--;
        }
        entries = new Entries(e.timestamps(), e.offsets(), n);
    }

    /** Takes over {@code other}'s entries (a loaded index becomes this segment's). */
    void copyFrom(TimeIndex other) {
        entries = other.entries;
    }

    void clear() {
        entries = new Entries(new long[16], new long[16], 0);
    }

    void writeTo(Path file) throws IOException {
        Entries e = entries;
        ByteBuffer buffer = ByteBuffer.allocate(e.count() * 12);
        for (int i = 0; i < e.count(); i++) {
            buffer.putLong(e.timestamps()[i]).putInt((int) (e.offsets()[i] - baseOffset));
        }
        Checkpoints.writeAtomically(file, buffer.flip(), false);
    }

    /** Loads the index, or null when missing or inconsistent with the segment. */
    static TimeIndex load(Path file, long baseOffset, long segmentNextOffset) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length % 12 != 0) {
            return null;
        }
        TimeIndex index = new TimeIndex(baseOffset);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            long timestamp = buffer.getLong();
            long offset = baseOffset + Integer.toUnsignedLong(buffer.getInt());
            int before = index.entryCount();
            index.maybeAppend(timestamp, offset);
            // The last entry may sit at the segment's next offset: it records the largest timestamp.
            if (index.entryCount() == before || offset > segmentNextOffset) {
                return null;
            }
        }
        return index;
    }
}
