package io.raftmq.metadata.controller;

import io.raftmq.protocol.controller.ControllerHint;

/** This node is not the active controller (or stopped being it before the request committed). */
public final class NotControllerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ControllerHint hint;

    public NotControllerException(String message, ControllerHint hint) {
        super(message, null, false, false);
        this.hint = hint;
    }

    /** Who the active controller is, as far as this node knows. */
    public ControllerHint hint() {
        return hint;
    }
}
