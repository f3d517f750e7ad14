package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** An error after which the same operation may succeed if tried again (usually after a metadata refresh). The producer and consumer retry these themselves within their timeouts; a caller sees one only when the timeout ran out. */
public class RetriableException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public RetriableException(ErrorCode code, String message) {
        super(code, message);
    }

    public RetriableException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public boolean isRetriable() {
        return true;
    }
}
