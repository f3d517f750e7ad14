package io.raftmq.common;

import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;

/**
 * An error code with the message that names the problem, as it goes on the wire. {@link #NONE} is
 * success.
 */
public record ApiError(ErrorCode code, String message) {

    public static final ApiError NONE = new ApiError(ErrorCode.NONE, "");

    public ApiError {
        if (code == null) {
            throw new IllegalArgumentException("code is required");
        }
        message = message == null ? "" : message;
    }

    /** An error whose message is {@code String.format(format, args)}. */
    public static ApiError of(ErrorCode code, String format, Object... args) {
        return new ApiError(code, args.length == 0 ? format : String.format(format, args));
    }

    public static ApiError fromProto(Error error) {
        return new ApiError(error.getCode(), error.getMessage());
    }

    public boolean isSuccess() {
        return code == ErrorCode.NONE;
    }

    public boolean isFailure() {
        return !isSuccess();
    }

    public Error toProto() {
        return Error.newBuilder().setCode(code).setMessage(message).build();
    }

    /** This error as an exception, for validation code that throws to end early. */
    public ApiException exception() {
        return new ApiException(this);
    }

    @Override
    public String toString() {
        return isSuccess() ? "NONE" : code + ": " + message;
    }
}
