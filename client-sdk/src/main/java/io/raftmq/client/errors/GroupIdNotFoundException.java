package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The coordinator knows no group of that id. */
public class GroupIdNotFoundException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public GroupIdNotFoundException(ErrorCode code, String message) {
        super(code, message);
    }

    public GroupIdNotFoundException(String message) {
        super(ErrorCode.GROUP_ID_NOT_FOUND, message);
    }

    public GroupIdNotFoundException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
