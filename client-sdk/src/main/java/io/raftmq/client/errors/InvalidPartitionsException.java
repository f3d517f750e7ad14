package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** A partition count below 1, or fewer partitions than the topic has (partitions can only be added). */
public class InvalidPartitionsException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public InvalidPartitionsException(ErrorCode code, String message) {
        super(code, message);
    }

    public InvalidPartitionsException(String message) {
        super(ErrorCode.INVALID_PARTITIONS, message);
    }

    public InvalidPartitionsException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
