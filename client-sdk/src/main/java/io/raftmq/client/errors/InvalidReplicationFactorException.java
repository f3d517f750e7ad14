package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A replication factor below 1 or above the number of live brokers. */
public class InvalidReplicationFactorException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InvalidReplicationFactorException(ErrorCode code, String message) {
        super(code, message);
    }

    public InvalidReplicationFactorException(String message) {
        super(ErrorCode.INVALID_REPLICATION_FACTOR, message);
    }

    public InvalidReplicationFactorException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
