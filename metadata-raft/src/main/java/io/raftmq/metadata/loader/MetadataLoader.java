package io.raftmq.metadata.loader;

import io.raftmq.common.FaultHandler;
import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.MetadataLogListener;
import io.raftmq.metadata.log.SnapshotSource;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the committed metadata log into the current {@link MetadataImage} of this node, and hands
 * every change to its {@link MetadataSubscriber}s (the active controller, the watch streams).
 *
 * <p>Threads: the metadata log calls the listener methods on its apply thread, which is the only
 * writer of {@link #image()}; any thread may read the image (a volatile reference to an immutable
 * object), subscribe, or wait for an offset.
 *
 * <p>A record that cannot be replayed goes to the {@link FaultHandler} (which stops the node) and
 * the exception propagates to the log, which stops delivering: a record is never skipped.
 */
public final class MetadataLoader implements MetadataLogListener {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataLoader.class);

    private final int nodeId;
    private final FaultHandler faultHandler;
    private final RecentBatches recent;
    private final List<MetadataSubscriber> subscribers = new CopyOnWriteArrayList<>();

    // Written on the apply thread only.
    private volatile MetadataImage image = MetadataImage.EMPTY;
    private volatile LeaderAndEpoch leader = LeaderAndEpoch.UNKNOWN;

    // Guarded by itself: callers waiting for an offset to be applied, earliest offset first.
    private final PriorityQueue<OffsetWaiter> waiters = new PriorityQueue<>();

    private record OffsetWaiter(long offset, CompletableFuture<MetadataImage> future)
            implements Comparable<OffsetWaiter> {
        @Override
        public int compareTo(OffsetWaiter o) {
            return Long.compare(offset, o.offset);
        }
    }

    /**
     * @param recentBatches how many committed batches to keep for watchers that resume
     * @param recentBytes the bound on their total size
     */
    public MetadataLoader(int nodeId, FaultHandler faultHandler, int recentBatches, long recentBytes) {
        this.nodeId = nodeId;
        this.faultHandler = faultHandler;
        this.recent = new RecentBatches(recentBatches, recentBytes);
    }

    public MetadataLoader(int nodeId, FaultHandler faultHandler) {
        this(nodeId, faultHandler, 10_000, 64L << 20);
    }

    /** The committed image this node has applied. */
    public MetadataImage image() {
        return image;
    }

    /** The quorum leader as this node last learned it. */
    public LeaderAndEpoch leader() {
        return leader;
    }

    public int nodeId() {
        return nodeId;
    }

    /** Adds a subscriber; it is told about changes from now on (read {@link #image()} first). */
    public void subscribe(MetadataSubscriber subscriber) {
        subscribers.add(subscriber);
    }

    public void unsubscribe(MetadataSubscriber subscriber) {
        subscribers.remove(subscriber);
    }

    /**
     * Completes with the image once this node has applied {@code offset} (at once if it has). The
     * caller bounds the wait, e.g. with {@link CompletableFuture#orTimeout}.
     */
    public CompletableFuture<MetadataImage> whenApplied(long offset) {
        MetadataImage current = image;
        if (current.offset() >= offset) {
            return CompletableFuture.completedFuture(current);
        }
        CompletableFuture<MetadataImage> future = new CompletableFuture<>();
        OffsetWaiter waiter = new OffsetWaiter(offset, future);
        synchronized (waiters) {
            waiters.add(waiter);
        }
        // A caller that gives up (e.g. orTimeout) must not leave its waiter behind.
        future.whenComplete((img, error) -> {
            if (error != null) {
                synchronized (waiters) {
                    waiters.remove(waiter);
                }
            }
        });
        // The apply thread may have passed the offset between the check and the add.
        completeWaiters(image);
        return future;
    }

    /** A committed batch this node still keeps for watchers that resume. */
    public record RetainedBatch(long offset, List<MetadataRecord> records) {}

    /**
     * The committed batches after {@code fromOffset} that this node still keeps, oldest first, or
     * null when some were already dropped and the caller needs the whole image instead.
     */
    public List<RetainedBatch> retainedBatchesAfter(long fromOffset) {
        List<RecentBatches.Batch> batches = recent.after(fromOffset);
        return batches == null ? null
                : batches.stream().map(b -> new RetainedBatch(b.offset(), b.records())).toList();
    }

    @Override
    public void handleSnapshot(long offset, List<MetadataRecord> records) {
        MetadataImage loaded;
        try {
            loaded = MetadataDelta.loadSnapshot(offset, records);
        } catch (RuntimeException e) {
            throw faultHandler.handleFault("node " + nodeId + " cannot load the metadata snapshot at offset "
                    + offset + ": " + e.getMessage(), e);
        }
        image = loaded;
        recent.reset(offset);
        LOG.info("[node {}] loaded metadata snapshot at offset {}: {} brokers, {} topics",
                nodeId, offset, loaded.brokers().size(), loaded.topicsById().size());
        for (MetadataSubscriber subscriber : subscribers) {
            subscriber.onSnapshot(loaded);
        }
        completeWaiters(loaded);
    }

    @Override
    public void handleCommit(long offset, List<MetadataRecord> records) {
        MetadataImage before = image;
        if (offset <= before.offset()) {
            throw faultHandler.handleFault("node " + nodeId + " got metadata batch at offset " + offset
                    + ", not after the last applied offset " + before.offset());
        }
        MetadataDelta delta = new MetadataDelta(before);
        MetadataImage after;
        try {
            for (MetadataRecord record : records) {
                delta.replay(offset, record);
            }
            after = delta.apply(offset);
        } catch (RuntimeException e) {
            throw faultHandler.handleFault("node " + nodeId + " cannot replay the metadata batch at offset "
                    + offset + ": " + e.getMessage(), e);
        }
        image = after;
        recent.add(offset, records);
        for (MetadataSubscriber subscriber : subscribers) {
            subscriber.onCommit(offset, records, delta, after);
        }
        completeWaiters(after);
    }

    @Override
    public void handleLeaderChange(LeaderAndEpoch newLeader) {
        LeaderAndEpoch old = leader;
        leader = newLeader;
        LOG.info("[node {}] metadata quorum leader {} -> {} (epoch {} -> {})", nodeId,
                old.leaderId(), newLeader.leaderId(), old.epoch(), newLeader.epoch());
        MetadataImage current = image;
        for (MetadataSubscriber subscriber : subscribers) {
            subscriber.onLeaderChange(newLeader, current);
        }
    }

    @Override
    public SnapshotSource snapshotSource() {
        MetadataImage captured = image;
        return new SnapshotSource(captured.offset(), () -> ImageRecords.of(captured));
    }

    private void completeWaiters(MetadataImage current) {
        while (true) {
            OffsetWaiter ready;
            synchronized (waiters) {
                OffsetWaiter head = waiters.peek();
                if (head == null || head.offset() > current.offset()) {
                    return;
                }
                ready = waiters.poll();
            }
            ready.future().complete(current);
        }
    }
}
