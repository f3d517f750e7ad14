package io.raftmq.metadata.controller;

/** The active controller has as many batches waiting to commit as it allows; retry later. */
public final class ControllerBusyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ControllerBusyException(String message) {
        super(message, null, false, false);
    }
}
