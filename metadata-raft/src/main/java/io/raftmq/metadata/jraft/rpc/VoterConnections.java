package io.raftmq.metadata.jraft.rpc;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The Raft connections other voters hold open to this voter's server, by voter: how many are open,
 * and when the last one closed. A voter whose connections have all closed has, most likely, lost
 * its process (a killed process's sockets close at once; a paused or cut-off one's stay open), which
 * a controller taking over uses to fence that node's broker without waiting out its session.
 *
 * <p>Thread-safe: every method holds this object's monitor (transport threads open and close,
 * the controller reads).
 */
public final class VoterConnections {
    private final LongSupplier clockMs;
    // Guarded by this.
    private final Map<Integer, Integer> open = new HashMap<>();
    private final Map<Integer, Long> lastClosedAtMs = new HashMap<>();

    /** @param clockMs monotonic milliseconds */
    VoterConnections(LongSupplier clockMs) {
        this.clockMs = clockMs;
    }

    synchronized void opened(int voterId) {
        open.merge(voterId, 1, Integer::sum);
    }

    synchronized void closed(int voterId) {
        open.computeIfPresent(voterId, (id, n) -> n > 1 ? n - 1 : null);
        lastClosedAtMs.put(voterId, clockMs.getAsLong());
    }

    /** When the last of the voter's connections closed, if none is open now; -1 otherwise. */
    public synchronized long lostAtMs(int voterId) {
        if (open.containsKey(voterId)) {
            return -1;
        }
        Long closedAt = lastClosedAtMs.get(voterId);
        return closedAt == null ? -1 : closedAt;
    }
}
