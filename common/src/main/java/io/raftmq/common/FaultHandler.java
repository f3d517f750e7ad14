package io.raftmq.common;

/**
 * Where a fault that must not be ignored goes: a metadata record that cannot be decoded or
 * replayed, a broken invariant in replicated state, an I/O error on a log. Such a fault is never
 * logged and skipped.
 *
 * <p>In a server process the handler logs the fault and halts the JVM ({@link
 * #haltingProcess(String)}): a node whose replicated state may be wrong stops rather than serve it.
 * Tests use a handler that records the fault and fails the test.
 *
 * <p>Implementations are thread-safe.
 */
public interface FaultHandler {

    /**
     * Handles a fatal fault. Returns (rather than throws) an exception for the caller to throw, so
     * that the caller's control flow ends at the fault: {@code throw faultHandler.handleFault(...)}.
     * A halting implementation never returns.
     */
    RuntimeException handleFault(String message, Throwable cause);

    default RuntimeException handleFault(String message) {
        return handleFault(message, null);
    }

    /** A handler that logs the fault at ERROR with {@code who} (e.g. "node 2") and halts the JVM. */
    static FaultHandler haltingProcess(String who) {
        return new ProcessHaltingFaultHandler(who);
    }
}
