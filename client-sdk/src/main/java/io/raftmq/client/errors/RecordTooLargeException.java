package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A record (or batch) is larger than the client's max.request.size, its buffer.memory, or the topic's max.message.bytes. */
public class RecordTooLargeException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public RecordTooLargeException(ErrorCode code, String message) {
        super(code, message);
    }

    public RecordTooLargeException(String message) {
        super(ErrorCode.RECORD_TOO_LARGE, message);
    }

    public RecordTooLargeException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
