package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** Another producer with the same producer id and a newer epoch replaced this one. */
public class ProducerFencedException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public ProducerFencedException(ErrorCode code, String message) {
        super(code, message);
    }

    public ProducerFencedException(String message) {
        super(ErrorCode.INVALID_PRODUCER_EPOCH, message);
    }

    public ProducerFencedException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
