package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A record batch failed its CRC or format checks. */
public class CorruptRecordException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(ErrorCode code, String message) {
        super(code, message);
    }

    public CorruptRecordException(String message) {
        super(ErrorCode.CORRUPT_MESSAGE, message);
    }

    public CorruptRecordException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
