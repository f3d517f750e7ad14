package io.raftmq.replication;

import io.raftmq.common.ApiError;

/**
 * What a produce did for one partition.
 *
 * @param baseOffset offset of the first record, or -1 on error
 * @param currentLeader on NOT_LEADER_OR_FOLLOWER, who leads as this broker knows (-1 unknown)
 */
public record ProduceResult(ApiError error, long baseOffset, long logAppendTimeMs, long logStartOffset,
        int currentLeader, int currentLeaderEpoch) {

    static ProduceResult error(ApiError error, int currentLeader, int currentLeaderEpoch) {
        return new ProduceResult(error, -1, -1, -1, currentLeader, currentLeaderEpoch);
    }
}
