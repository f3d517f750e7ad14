package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A broker could not be reached or the connection broke before an answer came. */
public class NetworkException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public NetworkException(ErrorCode code, String message) {
        super(code, message);
    }

    public NetworkException(String message) {
        super(ErrorCode.NETWORK_EXCEPTION, message);
    }

    public NetworkException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
