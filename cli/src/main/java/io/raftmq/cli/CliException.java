package io.raftmq.cli;

/**
 * A failure the user caused or can act on, found by the command itself (a missing topic, a bad
 * property value): printed as "Error: message", exit code 1, no stack trace.
 */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }
}
