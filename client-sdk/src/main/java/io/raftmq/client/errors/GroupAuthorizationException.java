package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The caller's principal may not do the operation on the consumer group (an ACL is missing or
 * denies it). Not retriable: it fails until the ACLs change.
 */
public class GroupAuthorizationException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public GroupAuthorizationException(ErrorCode code, String message) {
        super(code, message);
    }

    public GroupAuthorizationException(String message) {
        super(ErrorCode.GROUP_AUTHORIZATION_FAILED, message);
    }
}
