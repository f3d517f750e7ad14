package io.raftmq.metadata.log;

/**
 * Who leads the metadata quorum in which epoch (the Raft term).
 *
 * @param leaderId the leader's node id, or -1 when none is known
 * @param epoch the epoch; a new leader always has a higher epoch than the one before
 */
public record LeaderAndEpoch(int leaderId, long epoch) {

    public static final int NO_LEADER = -1;
    public static final LeaderAndEpoch UNKNOWN = new LeaderAndEpoch(NO_LEADER, 0);

    public boolean hasLeader() {
        return leaderId != NO_LEADER;
    }

    public boolean isLeader(int nodeId) {
        return leaderId == nodeId;
    }
}
