package io.raftmq.common;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a fatal fault and halts the JVM with exit code 1. {@link Runtime#halt} rather than {@code
 * exit}: shutdown hooks could try to flush or serve state that is known to be wrong.
 */
final class ProcessHaltingFaultHandler implements FaultHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessHaltingFaultHandler.class);

    private final String who;

    ProcessHaltingFaultHandler(String who) {
        this.who = who;
    }

    @Override
    public RuntimeException handleFault(String message, Throwable cause) {
        LOG.error("[{}] fatal fault, halting: {}", who, message, cause);
        System.err.println("[" + who + "] fatal fault, halting: " + message);
        if (cause != null) {
            cause.printStackTrace(System.err);
        }
        System.err.flush();
        Runtime.getRuntime().halt(1);
        return new IllegalStateException(message, cause); // not reached
    }
}
