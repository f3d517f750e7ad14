package io.raftmq.broker.group;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A ConsumerGroupHeartbeat (KIP-848) as the coordinator takes it, protocol-neutral: the Kafka
 * handler fills it from the request (topic ids already turned into names). Nullable fields are
 * null when the member did not send them, which means "unchanged since my last heartbeat".
 *
 * @param memberId empty on a version-0 first heartbeat (the coordinator then makes one up)
 * @param memberEpoch 0 to join, -1 to leave, -2 for a static member leaving for a while, else its epoch
 * @param instanceId the static member's group.instance.id; null for a dynamic member
 * @param rebalanceTimeoutMs how long the member may take to revoke partitions; -1 unchanged
 * @param subscribedTopicRegex a java.util.regex pattern matched against whole topic names
 * @param serverAssignor the assignor the member asks for (group.remote.assignor)
 * @param ownedPartitions topic name -> partitions the member owns now; topics the coordinator
 *     could not name (unknown topic ids) are left out
 */
public record ConsumerHeartbeat(String groupId, String memberId, int memberEpoch, String instanceId, String rackId,
        int rebalanceTimeoutMs, List<String> subscribedTopicNames, String subscribedTopicRegex, String serverAssignor,
        Map<String, Set<Integer>> ownedPartitions, String clientId, String clientHost) {

    public static final int JOIN_EPOCH = 0;
    public static final int LEAVE_EPOCH = -1;
    public static final int STATIC_LEAVE_EPOCH = -2;
}
