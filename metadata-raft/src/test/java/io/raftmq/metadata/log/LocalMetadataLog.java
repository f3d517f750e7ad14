package io.raftmq.metadata.log;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One voter's view of a {@link LocalLogCluster}: delivers the shared log to its listener on its
 * own thread, in order, like the JRaft implementation's apply thread. A listener that throws stops
 * delivery for good (committed records are never skipped).
 *
 * <p>Thread-safety: {@link #append} from any thread; pending appends are guarded by {@code this}.
 */
public final class LocalMetadataLog implements MetadataLog {
    private static final Logger LOG = LoggerFactory.getLogger(LocalMetadataLog.class);

    private final LocalLogCluster cluster;
    private final int nodeId;
    private final Thread thread;

    // Guarded by this: offset -> future of this node's own appends, completed after delivery.
    private final Map<Long, CompletableFuture<Long>> pendingAppends = new HashMap<>();
    private volatile LeaderAndEpoch leader = LeaderAndEpoch.UNKNOWN;
    private volatile boolean closed;
    private volatile boolean failed;
    private volatile CompletableFuture<Long> snapshotRequest;
    private volatile long deliveredOffset;
    private MetadataLogListener listener;

    LocalMetadataLog(LocalLogCluster cluster, int nodeId) {
        this.cluster = cluster;
        this.nodeId = nodeId;
        this.thread = new Thread(this::deliver, "local-metadata-log-" + nodeId);
        this.thread.setDaemon(true);
    }

    @Override
    public int nodeId() {
        return nodeId;
    }

    @Override
    public List<Voter> voters() {
        return cluster.voters();
    }

    @Override
    public void start(MetadataLogListener newListener) {
        this.listener = newListener;
        thread.start();
    }

    /** While set, appends wait for it on the caller's thread (a test holds the controller's loop). */
    private volatile java.util.concurrent.CountDownLatch appendGate;

    /** Makes every append wait until {@code gate} opens (null: no wait). */
    public void holdAppends(java.util.concurrent.CountDownLatch gate) {
        this.appendGate = gate;
    }

    @Override
    public CompletableFuture<Long> append(long epoch, List<MetadataRecord> records) {
        java.util.concurrent.CountDownLatch gate = appendGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        CompletableFuture<Long> future = new CompletableFuture<>();
        if (closed) {
            future.completeExceptionally(new IllegalStateException("metadata log of node " + nodeId + " is closed"));
            return future;
        }
        synchronized (this) {
            try {
                long offset = cluster.append(nodeId, epoch, records);
                pendingAppends.put(offset, future);
            } catch (NotLeaderException e) {
                future.completeExceptionally(e);
            }
        }
        return future;
    }

    @Override
    public LeaderAndEpoch leaderAndEpoch() {
        return leader;
    }

    /** voter id -> when its Raft connections to this voter all closed, as a test set it. */
    private final Map<Integer, Long> voterConnectionsLostAtMs = new java.util.concurrent.ConcurrentHashMap<>();

    /** As if every Raft connection of {@code voterId} to this voter closed at {@code atMs}. */
    public void voterConnectionLost(int voterId, long atMs) {
        voterConnectionsLostAtMs.put(voterId, atMs);
    }

    @Override
    public long voterConnectionLostAtMs(int voterId) {
        return voterConnectionsLostAtMs.getOrDefault(voterId, -1L);
    }

    /** Saves a snapshot of the listener's state at the current delivery position. */
    public CompletableFuture<Long> takeSnapshot() {
        CompletableFuture<Long> request = new CompletableFuture<>();
        snapshotRequest = request;
        cluster.wakeAll();
        return request;
    }

    /** The last offset delivered to the listener. */
    public long deliveredOffset() {
        return deliveredOffset;
    }

    /** Whether delivery stopped because the listener threw. */
    public boolean failed() {
        return failed;
    }

    @Override
    public void close() {
        closed = true;
        cluster.wakeAll();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            pendingAppends.values().forEach(f -> f.completeExceptionally(
                    new IllegalStateException("metadata log of node " + nodeId + " closed")));
            pendingAppends.clear();
        }
    }

    private void deliver() {
        long next = 1;
        LocalLogCluster.Snapshot snapshot = cluster.snapshot();
        try {
            if (snapshot != null) {
                listener.handleSnapshot(snapshot.imageOffset(), snapshot.records());
                next = snapshot.upToOffset() + 1;
                deliveredOffset = snapshot.upToOffset();
            }
            while (!closed) {
                serveSnapshotRequest(next - 1);
                LocalLogCluster.Entry entry = cluster.awaitEntry(next, 50);
                if (entry == null) {
                    continue;
                }
                if (entry instanceof LocalLogCluster.BatchEntry batch) {
                    listener.handleCommit(batch.offset(), batch.records());
                    CompletableFuture<Long> own;
                    synchronized (this) {
                        own = pendingAppends.remove(batch.offset());
                    }
                    if (own != null) {
                        own.complete(batch.offset());
                    }
                } else if (entry instanceof LocalLogCluster.LeaderEntry change
                        && (cluster.isCurrent(change.leader()) || change.leader().leaderId() != nodeId)) {
                    // Like JRaft: a voter is never made leader of an epoch that is already over
                    // (replaying old entries, it is not told about its own old leaderships), but it
                    // always learns that an epoch passed to another node before it sees that
                    // epoch's batches — a deposed leader steps down before it applies its
                    // successor's entries. (Skipping those too once let a lagging active controller
                    // see its successor's batch while it still thought it led.)
                    leader = change.leader();
                    listener.handleLeaderChange(change.leader());
                }
                deliveredOffset = entry.offset();
                next++;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failed = true;
            LOG.error("[node {}] metadata listener failed; delivery stopped", nodeId, e);
        }
    }

    private void serveSnapshotRequest(long upToOffset) {
        CompletableFuture<Long> request = snapshotRequest;
        if (request == null) {
            return;
        }
        snapshotRequest = null;
        SnapshotSource source = listener.snapshotSource();
        cluster.saveSnapshot(new LocalLogCluster.Snapshot(upToOffset, source.offset(), source.records().get()));
        request.complete(upToOffset);
    }
}
