package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The topic or partition does not exist (or the broker has not learned of it yet, right after a create). */
public class UnknownTopicException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public UnknownTopicException(ErrorCode code, String message) {
        super(code, message);
    }

    public UnknownTopicException(String message) {
        super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message);
    }

    public UnknownTopicException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
