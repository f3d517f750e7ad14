package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A topic of that name already exists. */
public class TopicExistsException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public TopicExistsException(ErrorCode code, String message) {
        super(code, message);
    }

    public TopicExistsException(String message) {
        super(ErrorCode.TOPIC_ALREADY_EXISTS, message);
    }

    public TopicExistsException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
