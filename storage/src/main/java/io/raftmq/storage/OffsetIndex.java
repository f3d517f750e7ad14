package io.raftmq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The sparse offset index of one segment: every {@code index.interval.bytes} of log, the base
 * offset of a batch and its position in the segment file. Lookups are a binary search (O(log n))
 * for the last entry at or before an offset; the caller scans batch headers from there.
 *
 * <p>Entries live in memory and are written to the segment's {@code .index} file (pairs of
 * relative offset and position, both int32) when the segment is rolled or the log closes; after a
 * crash the index of every segment that is rescanned is rebuilt.
 *
 * <p>Thread-safety: one writer (the log's write lock) appends and truncates; readers look up
 * without locks through an immutable snapshot that the writer republishes after each change.
 */
final class OffsetIndex {
    private record Entries(long[] offsets, int[] positions, int count) {}

    private final long baseOffset;
    private volatile Entries entries = new Entries(new long[16], new int[16], 0);

    OffsetIndex(long baseOffset) {
        this.baseOffset = baseOffset;
    }

    /** Adds an entry; offsets and positions must increase. */
    void append(long offset, int position) {
        Entries e = entries;
        int n = e.count();
        if (n > 0 && (offset <= e.offsets()[n - 1] || position <= e.positions()[n - 1])) {
            throw new IllegalStateException("offset index of segment " + baseOffset + " must grow: last entry ("
                    + e.offsets()[n - 1] + " at " + e.positions()[n - 1] + "), new (" + offset + " at " + position + ")");
        }
        long[] offsets = e.offsets();
        int[] positions = e.positions();
        if (n == offsets.length) {
            offsets = Arrays.copyOf(offsets, n * 2);
            positions = Arrays.copyOf(positions, n * 2);
        }
        offsets[n] = offset;
        positions[n] = position;
        entries = new Entries(offsets, positions, n + 1);
    }

    /** Position of the last entry whose offset is at or below {@code offset}; 0 when there is none. */
    int floorPosition(long offset) {
        Entries e = entries;
        int lo = 0;
        int hi = e.count() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (e.offsets()[mid] <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : e.positions()[found];
    }

    /** Drops the entries at or past {@code position} (the segment was truncated there). */
    void truncateToPosition(int position) {
        Entries e = entries;
        int n = e.count();
        while (n > 0 && e.positions()[n - 1] >= position) {
            n--;
        }
        entries = new Entries(e.offsets(), e.positions(), n);
    }

    /** Takes over {@code other}'s entries (a loaded index becomes this segment's). */
    void copyFrom(OffsetIndex other) {
        entries = other.entries;
    }

    void clear() {
        entries = new Entries(new long[16], new int[16], 0);
    }

    /** Writes the entries to {@code file}, replacing it. */
    void writeTo(Path file) throws IOException {
        Entries e = entries;
        ByteBuffer buffer = ByteBuffer.allocate(e.count() * 8);
        for (int i = 0; i < e.count(); i++) {
            buffer.putInt((int) (e.offsets()[i] - baseOffset)).putInt(e.positions()[i]);
        }
        Checkpoints.writeAtomically(file, buffer.flip(), false);
    }

    /**
     * Loads the index written by {@link #writeTo}, or returns null when the file is missing or does
     * not fit the segment (then the caller rebuilds it by scanning).
     */
    static OffsetIndex load(Path file, long baseOffset, long segmentNextOffset, int segmentSize) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length % 8 != 0) {
            return null;
        }
        OffsetIndex index = new OffsetIndex(baseOffset);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            long offset = baseOffset + Integer.toUnsignedLong(buffer.getInt());
            int position = buffer.getInt();
            Entries e = index.entries;
            boolean increasing = e.count() == 0
                    || (offset > e.offsets()[e.count() - 1] && position > e.positions()[e.count() - 1]);
            if (!increasing || offset >= segmentNextOffset || position < 0 || position >= segmentSize) {
                return null;
            }
            index.append(offset, position);
        }
        return index;
    }
}
