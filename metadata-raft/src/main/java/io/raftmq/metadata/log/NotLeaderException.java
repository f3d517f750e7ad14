package io.raftmq.metadata.log;

/** An append was refused: this node is not the leader of the epoch it appended in. */
public final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotLeaderException(String message) {
        super(message, null, false, false);
    }
}
