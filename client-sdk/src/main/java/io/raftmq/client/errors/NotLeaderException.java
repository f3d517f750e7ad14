package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The broker does not lead the partition (or its leader epoch moved on): the client refreshes metadata and retries on the new leader. */
public class NotLeaderException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public NotLeaderException(ErrorCode code, String message) {
        super(code, message);
    }

    public NotLeaderException(String message) {
        super(ErrorCode.NOT_LEADER_OR_FOLLOWER, message);
    }

    public NotLeaderException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
