package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A client setting is missing, unknown or has a bad value; the message names the key. */
public class ConfigException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public ConfigException(ErrorCode code, String message) {
        super(code, message);
    }

    public ConfigException(String message) {
        super(ErrorCode.INVALID_CONFIG, message);
    }

    public ConfigException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
