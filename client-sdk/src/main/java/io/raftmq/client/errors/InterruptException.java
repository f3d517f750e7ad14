package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The calling thread was interrupted while it waited; its interrupt flag is set again. */
public class InterruptException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InterruptException(ErrorCode code, String message) {
        super(code, message);
    }

    public InterruptException(String message) {
        super(ErrorCode.NONE, message);
    }

    public InterruptException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
