package io.raftmq.client;

import java.util.Map;

/** Told the outcome of a {@link Consumer#commitAsync}; runs inside a later poll (or close) call. */
@FunctionalInterface
public interface OffsetCommitCallback {
    /** {@code exception} is null on success. */
    void onComplete(Map<TopicPartition, OffsetAndMetadata> offsets, Exception exception);
}
