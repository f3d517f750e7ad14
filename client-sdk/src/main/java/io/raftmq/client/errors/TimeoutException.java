package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** An operation did not complete in time: a request timed out, send() waited max.block.ms for buffer memory or metadata, or a record was not delivered within delivery.timeout.ms. */
public class TimeoutException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(ErrorCode code, String message) {
        super(code, message);
    }

    public TimeoutException(String message) {
        super(ErrorCode.REQUEST_TIMED_OUT, message);
    }

    public TimeoutException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
