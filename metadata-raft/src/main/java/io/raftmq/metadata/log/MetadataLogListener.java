package io.raftmq.metadata.log;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;

/**
 * Receives the metadata log. Every method is called on the log's apply thread, one call at a
 * time, in log order. An exception thrown from {@link #handleSnapshot} or {@link #handleCommit}
 * stops the log's delivery for good: committed records are never skipped.
 */
public interface MetadataLogListener {

    /** Replace all state with this snapshot, which covers every batch up to {@code offset}. */
    void handleSnapshot(long offset, List<MetadataRecord> records);

    /** One committed batch, after every batch before it. */
    void handleCommit(long offset, List<MetadataRecord> records);

    /**
     * The quorum has a new leader (or lost it: {@code leaderId} -1). When the leader is this node,
     * every batch committed before its term has already been delivered, and every batch delivered
     * after this call within the epoch was appended by this node.
     */
    void handleLeaderChange(LeaderAndEpoch leader);

    /**
     * The state to save in a snapshot: called on the apply thread; the returned source is turned
     * into records on another thread, so it must not refer to mutable state.
     */
    SnapshotSource snapshotSource();
}
