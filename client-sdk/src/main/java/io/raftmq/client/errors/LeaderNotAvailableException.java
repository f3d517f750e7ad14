package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The partition has no leader right now (election in progress, or no live in-sync replica); also a
 * leader election that found no replica to elect (PREFERRED_LEADER_NOT_AVAILABLE,
 * ELIGIBLE_LEADERS_NOT_AVAILABLE).
 */
public class LeaderNotAvailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public LeaderNotAvailableException(ErrorCode code, String message) {
        super(code, message);
    }

    public LeaderNotAvailableException(String message) {
        super(ErrorCode.LEADER_NOT_AVAILABLE, message);
    }

    public LeaderNotAvailableException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
