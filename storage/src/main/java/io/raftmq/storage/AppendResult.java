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
     * @param duplicate the append was a retry of an idempotent producer's batch that is already in
     *     the log: nothing was written, and the offsets (and durability) are the original's
     */
    record Appended(long firstOffset, long lastOffset, long logAppendTimeMs, int sizeInBytes,
            CompletableFuture<Void> durable, boolean duplicate) implements AppendResult {

        public Appended(long firstOffset, long lastOffset, long logAppendTimeMs, int sizeInBytes,
                CompletableFuture<Void> durable) {
            this(firstOffset, lastOffset, logAppendTimeMs, sizeInBytes, durable, false);
        }
    }

    /**
     * Nothing was appended and the log is unchanged.
     *
     * @param code CORRUPT_MESSAGE, RECORD_TOO_LARGE, INVALID_RECORD, OFFSET_OUT_OF_RANGE (a follower
     *     append that does not continue the log), STORAGE_ERROR (the log is offline), or for an
     *     idempotent producer's batch INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER,
     *     UNKNOWN_PRODUCER_ID or DUPLICATE_SEQUENCE_NUMBER (see {@link PartitionLog#appendAsLeader})
     */
    record Rejected(ErrorCode code, String message) implements AppendResult {}
}
