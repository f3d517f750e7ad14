package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A topic config the broker refused: an unknown key or a bad value; the message names the key. */
public class InvalidConfigException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigException(ErrorCode code, String message) {
        super(code, message);
    }

    public InvalidConfigException(String message) {
        super(ErrorCode.INVALID_CONFIG, message);
    }

    public InvalidConfigException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
