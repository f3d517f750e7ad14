package io.raftmq.replication;

import io.raftmq.common.ApiError;
import java.nio.ByteBuffer;

/**
 * What a consumer fetch found in one partition: whole batches below the high watermark (possibly
 * none) or an error.
 */
public record FetchResult(ApiError error, long highWatermark, long logStartOffset, ByteBuffer records,
        int currentLeader, int currentLeaderEpoch) {

    static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
}
