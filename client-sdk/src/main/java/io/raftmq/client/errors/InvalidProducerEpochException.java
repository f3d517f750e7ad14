package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The producer epoch in a batch is older than the leader's. */
public class InvalidProducerEpochException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InvalidProducerEpochException(ErrorCode code, String message) {
        super(code, message);
    }

    public InvalidProducerEpochException(String message) {
        super(ErrorCode.INVALID_PRODUCER_EPOCH, message);
    }

    public InvalidProducerEpochException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
