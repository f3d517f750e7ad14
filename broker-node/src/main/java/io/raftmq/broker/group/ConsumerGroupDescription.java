package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * A consumer-protocol (KIP-848) group as ConsumerGroupDescribe, ListGroups and DescribeGroups
 * report it. Immutable snapshot taken on the coordinator's loop.
 *
 * @param state "Empty", "Assigning", "Reconciling", "Stable", or "Dead" with an error
 * @param type always "consumer" ({@link #TYPE}); the group type ListGroups reports
 * @param assignmentEpoch the epoch of the target assignment
 * @param assignorName the server-side assignor that computes the target
 */
public record ConsumerGroupDescription(ApiError error, String groupId, String state, String type, int groupEpoch,
        int assignmentEpoch, String assignorName, List<Member> members) {

    public static final String TYPE = ConsumerProtocolGroup.TYPE;

    /**
     * @param instanceId null for a dynamic member
     * @param rackId null when none was given
     * @param subscribedTopicRegex null when none
     * @param assignment what it owns now; {@code targetAssignment} what it is heading for
     */
    public record Member(String memberId, String instanceId, String rackId, int memberEpoch, String clientId,
            String clientHost, List<String> subscribedTopicNames, String subscribedTopicRegex,
            SortedMap<String, SortedSet<Integer>> assignment, SortedMap<String, SortedSet<Integer>> targetAssignment) {}

    static ConsumerGroupDescription failed(ApiError error, String groupId) {
        return new ConsumerGroupDescription(error, groupId, "Dead", TYPE, -1, -1, "", List.of());
    }
}
