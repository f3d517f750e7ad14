package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** DeleteGroups on a group that still has members. */
public class GroupNotEmptyException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public GroupNotEmptyException(ErrorCode code, String message) {
        super(code, message);
    }

    public GroupNotEmptyException(String message) {
        super(ErrorCode.NON_EMPTY_GROUP, message);
    }

    public GroupNotEmptyException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
