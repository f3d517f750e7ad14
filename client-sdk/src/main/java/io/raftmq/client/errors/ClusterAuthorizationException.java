package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The caller's principal may not do the operation on the cluster (an ACL is missing or denies
 * it). Not retriable: it fails until the ACLs change.
 */
public class ClusterAuthorizationException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public ClusterAuthorizationException(ErrorCode code, String message) {
        super(code, message);
    }

    public ClusterAuthorizationException(String message) {
        super(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message);
    }
}
