package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** An offset commit cannot succeed: the member was removed from the group or the group rebalanced and these partitions may belong to another member now. */
public class CommitFailedException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public CommitFailedException(ErrorCode code, String message) {
        super(code, message);
    }

    public CommitFailedException(String message) {
        super(ErrorCode.ILLEGAL_GENERATION, message);
    }

    public CommitFailedException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
