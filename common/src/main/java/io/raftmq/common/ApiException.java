package io.raftmq.common;

import io.raftmq.protocol.common.ErrorCode;

/**
 * An {@link ApiError} thrown by server-side validation code to end early; the request handler
 * catches it and puts the error on the wire. Never used for unexpected failures.
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ApiError error;

    public ApiException(ApiError error) {
        super(error.toString(), null, false, false);
        this.error = error;
    }

    public ApiException(ErrorCode code, String format, Object... args) {
        this(ApiError.of(code, format, args));
    }

    public ApiError error() {
        return error;
    }

    public ErrorCode code() {
        return error.code();
    }
}
