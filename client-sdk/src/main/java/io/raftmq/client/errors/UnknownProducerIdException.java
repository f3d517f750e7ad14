package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The leader has no state for this producer id (e.g. all its records were removed by retention). */
public class UnknownProducerIdException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public UnknownProducerIdException(ErrorCode code, String message) {
        super(code, message);
    }

    public UnknownProducerIdException(String message) {
        super(ErrorCode.UNKNOWN_PRODUCER_ID, message);
    }

    public UnknownProducerIdException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
