package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * A leader election was asked for a partition that already has the leader it would give it (its
 * preferred replica leads, or, for an unclean election, it has a leader). Nothing changed.
 */
public class ElectionNotNeededException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public ElectionNotNeededException(ErrorCode code, String message) {
        super(code, message);
    }

    public ElectionNotNeededException(String message) {
        super(ErrorCode.ELECTION_NOT_NEEDED, message);
    }

    public ElectionNotNeededException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
