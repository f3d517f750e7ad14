package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The group is rebalancing: the member must join again before it can commit. */
public class RebalanceInProgressException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public RebalanceInProgressException(ErrorCode code, String message) {
        super(code, message);
    }

    public RebalanceInProgressException(String message) {
        super(ErrorCode.REBALANCE_IN_PROGRESS, message);
    }

    public RebalanceInProgressException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
