package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** Thrown by a blocking Consumer call after another thread called Consumer.wakeup(). */
public class WakeupException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public WakeupException(ErrorCode code, String message) {
        super(code, message);
    }

    public WakeupException(String message) {
        super(ErrorCode.NONE, message);
    }

    public WakeupException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
