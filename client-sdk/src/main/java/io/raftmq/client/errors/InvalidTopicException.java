package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A topic name breaks the naming rules. */
public class InvalidTopicException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InvalidTopicException(ErrorCode code, String message) {
        super(code, message);
    }

    public InvalidTopicException(String message) {
        super(ErrorCode.INVALID_TOPIC, message);
    }

    public InvalidTopicException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
