package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The broker is not (or not yet) the group's coordinator: the client finds the coordinator again and retries. */
public class NotCoordinatorException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public NotCoordinatorException(ErrorCode code, String message) {
        super(code, message);
    }

    public NotCoordinatorException(String message) {
        super(ErrorCode.NOT_COORDINATOR, message);
    }

    public NotCoordinatorException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
