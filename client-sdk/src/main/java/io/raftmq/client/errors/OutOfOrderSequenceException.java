package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/** The leader saw a gap in an idempotent producer's sequence numbers that retrying cannot close (e.g. the batch before was lost after exhausting retries). The affected batches fail; the producer then takes a new producer id before it writes to the partition again, so later sends work, but the failed records may or may not have been written in between. */
public class OutOfOrderSequenceException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public OutOfOrderSequenceException(ErrorCode code, String message) {
        super(code, message);
    }

    public OutOfOrderSequenceException(String message) {
        super(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message);
    }

    public OutOfOrderSequenceException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
