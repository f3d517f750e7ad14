package io.raftmq.metadata.image;

/**
 * A committed record cannot be replayed onto the image: it contradicts it (e.g. a partition change
 * for an unknown topic). Replay is deterministic on every node, so this is a bug or corruption,
 * never an input error: the node must stop rather than skip the record.
 */
public final class MetadataReplayException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public MetadataReplayException(String message) {
        super(message);
    }
}
