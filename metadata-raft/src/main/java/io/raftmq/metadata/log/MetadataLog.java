package io.raftmq.metadata.log;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The replicated metadata log, as the metadata code sees it: batches of records appended by the
 * leader, committed by a quorum, and delivered in order to one {@link MetadataLogListener} on
 * every voter. This is our own narrow interface; the consensus library (SOFAJRaft) stays behind
 * it, and an in-memory implementation serves the tests.
 *
 * <p>Offsets: every committed batch has an offset, strictly greater than the offset of the batch
 * before it (gaps are allowed: the consensus layer uses some positions itself).
 *
 * <p>Thread-safety: {@link #append} and {@link #leaderAndEpoch} may be called from any thread.
 * The listener is called from one thread of the log's own (the apply thread), in log order.
 */
public interface MetadataLog extends AutoCloseable {

    /** This voter's node id. */
    int nodeId();

    /** The voters of the quorum, sorted by node id. */
    List<Voter> voters();

    /**
     * Starts the log (opens storage, joins the quorum) and begins delivering to {@code listener}:
     * first the latest snapshot if there is one, then committed batches after it, with leader
     * changes in between, in log order. Called once.
     */
    void start(MetadataLogListener listener) throws Exception;

    /**
     * Proposes {@code records} as one batch, as the leader of {@code epoch}. The batch is committed
     * and replayed atomically or not at all.
     *
     * <p>The caller must be the leader of {@code epoch} (told by {@link
     * MetadataLogListener#handleLeaderChange}). Batches appended by one thread commit in the order
     * they were appended.
     *
     * @return completes with the batch's offset once it is committed and this node's listener has
     *     handled it; completes exceptionally with {@link NotLeaderException} when this node is not
     *     (or no longer) the leader of {@code epoch} and the batch was not appended, or with
     *     another exception when the outcome is unknown (the node is stopping or broken).
     */
    CompletableFuture<Long> append(long epoch, List<MetadataRecord> records);

    /** The leader as this node last learned it. */
    LeaderAndEpoch leaderAndEpoch();

    /**
     * When the process of voter {@code voterId} was last seen to go away: the time (monotonic ms, as
     * {@code Time.monotonicMs()} of the system clock) its last connection to this voter closed, if
     * none is open now; -1 when a connection is open, none ever was, or the log cannot tell. A closed
     * connection is what a killed process leaves; a paused or cut-off one keeps its connections open.
     */
    default long voterConnectionLostAtMs(int voterId) {
        return -1;
    }

    /** Leaves the quorum and stops delivering to the listener. */
    @Override
    void close();
}
