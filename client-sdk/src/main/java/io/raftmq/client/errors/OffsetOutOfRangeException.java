package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A fetch position is outside the partition's log and auto.offset.reset is none (or a seek went out of range). */
public class OffsetOutOfRangeException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public OffsetOutOfRangeException(ErrorCode code, String message) {
        super(code, message);
    }

    public OffsetOutOfRangeException(String message) {
        super(ErrorCode.OFFSET_OUT_OF_RANGE, message);
    }

    public OffsetOutOfRangeException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
