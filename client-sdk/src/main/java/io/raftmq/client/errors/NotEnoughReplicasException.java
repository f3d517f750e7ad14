package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** Fewer in-sync replicas than the topic's min.insync.replicas: an acks=all write was refused (or not confirmed). */
public class NotEnoughReplicasException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public NotEnoughReplicasException(ErrorCode code, String message) {
        super(code, message);
    }

    public NotEnoughReplicasException(String message) {
        super(ErrorCode.NOT_ENOUGH_REPLICAS, message);
    }

    public NotEnoughReplicasException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
