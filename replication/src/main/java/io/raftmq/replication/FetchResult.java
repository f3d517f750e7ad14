package io.raftmq.replication;

import io.raftmq.common.ApiError;
import io.raftmq.storage.EpochEndOffset;
import io.raftmq.storage.LogSlice;

/**
 * What a consumer fetch found in one partition: whole batches below the high watermark as a
 * region of a segment file (possibly empty; nothing is read or copied until the front end sends
 * it), or an error, or where the consumer's last epoch ends when its view diverged.
 *
 * @param records never null; empty on error or divergence
 * @param divergingEpoch null unless the consumer's last fetched epoch ends before its fetch offset
 *     in this log: then the largest epoch at or below it and where that ends, as Kafka's Fetch v12+
 *     answers it
 */
public record FetchResult(ApiError error, long highWatermark, long logStartOffset, LogSlice records,
        EpochEndOffset divergingEpoch, int currentLeader, int currentLeaderEpoch) {

    /** An error for a partition, with the leader this broker knows of (-1 unknown). */
    public static FetchResult error(ApiError error, long fetchOffset, int currentLeader, int currentLeaderEpoch) {
        return new FetchResult(error, -1, -1, LogSlice.empty(fetchOffset), null, currentLeader, currentLeaderEpoch);
    }
}
