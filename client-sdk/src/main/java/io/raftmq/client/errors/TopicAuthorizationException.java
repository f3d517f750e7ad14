package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The caller's principal may not do the operation on the topic (an ACL is missing or denies it).
 * Not retriable: it fails until the ACLs change.
 */
public class TopicAuthorizationException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public TopicAuthorizationException(ErrorCode code, String message) {
        super(code, message);
    }

    public TopicAuthorizationException(String message) {
        super(ErrorCode.TOPIC_AUTHORIZATION_FAILED, message);
    }
}
