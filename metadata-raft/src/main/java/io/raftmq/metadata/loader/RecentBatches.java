package io.raftmq.metadata.loader;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The most recent committed batches, so that a metadata watcher that fell behind (or reconnects)
 * can resume from its offset without a full snapshot. Bounded by batch count and bytes; the oldest
 * batches are dropped first.
 *
 * <p>Thread-safety: the apply thread adds; watch handlers read. All methods are synchronized on
 * this object and hold it only to copy references.
 */
final class RecentBatches {
    record Batch(long offset, List<MetadataRecord> records, int sizeBytes) {}

    private final int maxBatches;
    private final long maxBytes;

    // Guarded by this.
    private final ArrayDeque<Batch> batches = new ArrayDeque<>();
    // Guarded by this. Every batch after this offset is retained; a watcher that has applied up
    // to baseOffset (or later) can resume here.
    private long baseOffset = -1;
    // Guarded by this.
    private long bytes;

    RecentBatches(int maxBatches, long maxBytes) {
        this.maxBatches = maxBatches;
        this.maxBytes = maxBytes;
    }

    /** Forgets everything: the state was replaced by a snapshot at {@code offset}. */
    synchronized void reset(long offset) {
        batches.clear();
        bytes = 0;
        baseOffset = offset;
    }

    synchronized void add(long offset, List<MetadataRecord> records) {
        int size = 0;
        for (MetadataRecord record : records) {
            size += record.getSerializedSize();
        }
        batches.addLast(new Batch(offset, records, size));
        bytes += size;
        while (batches.size() > maxBatches || (bytes > maxBytes && batches.size() > 1)) {
            Batch dropped = batches.removeFirst();
            bytes -= dropped.sizeBytes();
            baseOffset = dropped.offset();
        }
    }

    /**
     * The retained batches after {@code fromOffset}, or null when some of them were already
     * dropped (the caller then needs a snapshot).
     */
    synchronized List<Batch> after(long fromOffset) {
        if (fromOffset < baseOffset) {
            return null;
        }
        List<Batch> out = new ArrayList<>();
        Iterator<Batch> it = batches.descendingIterator();
        while (it.hasNext()) {
            Batch batch = it.next();
            if (batch.offset() <= fromOffset) {
                break;
            }
            out.add(batch);
        }
        java.util.Collections.reverse(out);
        return out;
    }
}
