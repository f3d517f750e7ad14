package io.raftmq.storage;

import io.raftmq.protocol.common.ErrorCode;
import java.util.concurrent.CompletableFuture;

/** What an append did: the offsets it was given, or why nothing was appended. */
public sealed interface AppendResult {

    /**
     * The batches were appended.
     *
     * @param firstOffset offset of the first record
     * @param lastOffset offset of the last record
     * @param logAppendTimeMs the time stamped on the batches with LogAppendTime, else -1
     * @param durable completes when the batches are as durable as the flush mode promises before an
     *     acknowledgement (after their fsync with {@link FlushMode#GROUP}, at once otherwise);
     *     completes exceptionally when the log fails or truncates them first
     */
    record Appended(long firstOffset, long lastOffset, long logAppendTimeMs, int sizeInBytes,
            CompletableFuture<Void> durable) implements AppendResult {}

    /**
     * Nothing was appended and the log is unchanged.
     *
     * @param code CORRUPT_MESSAGE, RECORD_TOO_LARGE, INVALID_RECORD, OFFSET_OUT_OF_RANGE (a follower
     *     append that does not continue the log) or STORAGE_ERROR (the log is offline)
     */
    record Rejected(ErrorCode code, String message) implements AppendResult {}
}
