package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * Base of every error the client reports: the broker's {@link ErrorCode} (or the code closest to a
 * client-side failure) and a message naming the problem, as the broker wrote it where there is one.
 * {@link #isRetriable()} tells whether trying the same operation again may succeed; subclasses of
 * {@link RetriableException} are.
 */
public class RaftmqException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ErrorCode code;

    public RaftmqException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public RaftmqException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The wire error code; {@link ErrorCode#NONE} for errors with no broker counterpart. */
    public ErrorCode code() {
        return code;
    }

    public boolean isRetriable() {
        return false;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " [" + code + "]: " + getMessage();
    }
}
