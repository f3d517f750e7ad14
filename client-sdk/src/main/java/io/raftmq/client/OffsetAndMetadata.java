package io.raftmq.client;

import java.util.Optional;

/**
 * A committed position: the next offset to consume, the leader epoch of the last consumed record
 * when known, and free-form metadata.
 */
public record OffsetAndMetadata(long offset, Optional<Integer> leaderEpoch, String metadata) {
    public OffsetAndMetadata {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        leaderEpoch = leaderEpoch == null ? Optional.empty() : leaderEpoch;
        metadata = metadata == null ? "" : metadata;
    }

    public OffsetAndMetadata(long offset) {
        this(offset, Optional.empty(), "");
    }
}
