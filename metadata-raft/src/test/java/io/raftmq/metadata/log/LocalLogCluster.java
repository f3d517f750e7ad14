package io.raftmq.metadata.log;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-memory stand-in for the metadata quorum: one shared log of batches and leader changes,
 * read by a {@link LocalMetadataLog} per voter. The test decides who leads ({@link #electLeader}),
 * every append by the leader of the current epoch commits at once, and each voter's log delivers
 * the shared entries in order on its own thread, as SOFAJRaft does.
 *
 * <p>Positions: entry i (1-based) is at offset i; leader changes take positions too, as Raft
 * configuration entries do, so committed batch offsets have gaps.
 *
 * <p>Thread-safe: all state is guarded by {@link #lock}.
 */
public final class LocalLogCluster {
    sealed interface Entry permits BatchEntry, LeaderEntry {
        long offset();
    }

    record BatchEntry(long offset, long epoch, int appendedBy, List<MetadataRecord> records) implements Entry {}

    record LeaderEntry(long offset, LeaderAndEpoch leader) implements Entry {}

    /** Saved state covering every entry up to {@code upToOffset}; {@code imageOffset} is the listener's. */
    record Snapshot(long upToOffset, long imageOffset, List<MetadataRecord> records) {}

    private final List<Voter> voters;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private final List<Entry> entries = new ArrayList<>();
    // Guarded by lock.
    private long epoch;
    // Guarded by lock.
    private int leaderId = LeaderAndEpoch.NO_LEADER;
    // Guarded by lock.
    private Snapshot snapshot;

    public LocalLogCluster(int voterCount) {
        List<Voter> list = new ArrayList<>();
        for (int id = 1; id <= voterCount; id++) {
            list.add(new Voter(id, "localhost", 19000 + id));
        }
        this.voters = List.copyOf(list);
    }

    public List<Voter> voters() {
        return voters;
    }

    /** A new log handle for voter {@code nodeId} (a restart gets a new one). */
    public LocalMetadataLog newLog(int nodeId) {
        return new LocalMetadataLog(this, nodeId);
    }

    /** Starts a new epoch led by {@code nodeId}. */
    public LeaderAndEpoch electLeader(int nodeId) {
        lock.lock();
        try {
            epoch++;
            leaderId = nodeId;
            LeaderAndEpoch leader = new LeaderAndEpoch(nodeId, epoch);
            entries.add(new LeaderEntry(entries.size() + 1, leader));
            changed.signalAll();
            return leader;
        } finally {
            lock.unlock();
        }
    }

    /** The leader is gone; a new epoch without a leader starts (as after an election timeout). */
    public void loseLeader() {
        lock.lock();
        try {
            epoch++;
            leaderId = LeaderAndEpoch.NO_LEADER;
            entries.add(new LeaderEntry(entries.size() + 1, new LeaderAndEpoch(LeaderAndEpoch.NO_LEADER, epoch)));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code leader} is the cluster's current leadership (not a historical one). */
    boolean isCurrent(LeaderAndEpoch leader) {
        lock.lock();
        try {
            return leader.epoch() == epoch;
        } finally {
            lock.unlock();
        }
    }

    public LeaderAndEpoch leader() {
        lock.lock();
        try {
            return new LeaderAndEpoch(leaderId, epoch);
        } finally {
            lock.unlock();
        }
    }

    /** Appends and commits a batch; the caller must lead {@code appendEpoch}. Returns its offset. */
    long append(int nodeId, long appendEpoch, List<MetadataRecord> records) {
        lock.lock();
        try {
            if (nodeId != leaderId || appendEpoch != epoch) {
                throw new NotLeaderException("node " + nodeId + " cannot append at epoch " + appendEpoch
                        + ": node " + leaderId + " leads epoch " + epoch);
            }
            long offset = entries.size() + 1;
            entries.add(new BatchEntry(offset, appendEpoch, nodeId, List.copyOf(records)));
            changed.signalAll();
            return offset;
        } finally {
            lock.unlock();
        }
    }

    /** The entry at {@code offset}, waiting up to {@code timeoutMs} for it; null if it did not come. */
    Entry awaitEntry(long offset, long timeoutMs) throws InterruptedException {
        lock.lock();
        try {
            long remainingNs = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (entries.size() < offset) {
                if (remainingNs <= 0) {
                    return null;
                }
                remainingNs = changed.awaitNanos(remainingNs);
            }
            return entries.get((int) offset - 1);
        } finally {
            lock.unlock();
        }
    }

    void saveSnapshot(Snapshot newSnapshot) {
        lock.lock();
        try {
            if (snapshot == null || newSnapshot.upToOffset() > snapshot.upToOffset()) {
                snapshot = newSnapshot;
            }
        } finally {
            lock.unlock();
        }
    }

    Snapshot snapshot() {
        lock.lock();
        try {
            return snapshot;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every voter waiting for an entry (so closing logs notice). */
    void wakeAll() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Number of positions in the log. */
    public long endOffset() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }
}
