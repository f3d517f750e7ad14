package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * The coordinator's answer to a {@link ConsumerHeartbeat}.
 *
 * @param memberEpoch the member's epoch now (-1 or -2 echoed after a leave; -1 on errors)
 * @param assignment topic name -> partitions the member may consume; null when unchanged since
 *     the member's last heartbeat (Kafka sends it only then, and on full heartbeats)
 */
public record ConsumerHeartbeatAnswer(ApiError error, String memberId, int memberEpoch, int heartbeatIntervalMs,
        SortedMap<String, SortedSet<Integer>> assignment) {

    static ConsumerHeartbeatAnswer failed(ApiError error, String memberId) {
        return new ConsumerHeartbeatAnswer(error, memberId, -1, 0, null);
    }

    /** The assignment, never null (empty when unchanged). */
    public Map<String, SortedSet<Integer>> assignmentOrEmpty() {
        return assignment == null ? TopicPartitionSets.EMPTY : assignment;
    }
}
