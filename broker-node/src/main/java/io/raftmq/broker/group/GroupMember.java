package io.raftmq.broker.group;

import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.group.GroupMemberValue;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One member of a consumer group: what it asked for in its last JoinGroup, what it was assigned,
 * the JoinGroup or SyncGroup it is waiting on, and when its session expires. Owned by the thread
 * that owns its group's shard.
 */
final class GroupMember {
    final String memberId;
    final String clientId;
    final String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    List<String> topics;
    /** Supported assignors, most preferred first. */
    List<String> assignors;
    SortedMap<String, List<Integer>> assignment = new TreeMap<>();
    /** The member's JoinGroup, held until the rebalance completes; null when none waits. */
    Consumer<JoinGroupResponse> pendingJoin;
    /** The member's SyncGroup, held until the generation's assignment is stored; null when none waits. */
    Consumer<SyncGroupResponse> pendingSync;
    /** Monotonic time at which the member is removed unless it is heard from. */
    long sessionDeadlineMs;

    GroupMember(String memberId, String clientId, String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs,
            List<String> topics, List<String> assignors) {
        this.memberId = memberId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.topics = List.copyOf(topics);
        this.assignors = List.copyOf(assignors);
    }

    /** Whether a JoinGroup with these subscriptions asks for nothing new. */
    boolean matches(List<String> otherTopics, List<String> otherAssignors) {
        return topics.equals(otherTopics) && assignors.equals(otherAssignors);
    }

    /** Waiting on a JoinGroup or SyncGroup: the member is alive by definition (its call is open). */
    boolean isAwaiting() {
        return pendingJoin != null || pendingSync != null;
    }

    void heardFrom(long nowMs) {
        sessionDeadlineMs = nowMs + sessionTimeoutMs;
    }

    List<TopicPartitions> assignmentProto() {
        return toProto(assignment);
    }

    static List<TopicPartitions> toProto(SortedMap<String, List<Integer>> assignment) {
        return assignment.entrySet().stream()
                .map(e -> TopicPartitions.newBuilder().setTopic(e.getKey()).addAllPartitions(e.getValue()).build())
                .toList();
    }

    GroupMemberValue toValue() {
        return GroupMemberValue.newBuilder()
                .setMemberId(memberId)
                .setClientId(clientId)
                .setClientHost(clientHost)
                .setSessionTimeoutMs(sessionTimeoutMs)
                .setRebalanceTimeoutMs(rebalanceTimeoutMs)
                .addAllTopics(topics)
                .addAllAssignors(assignors)
                .addAllAssignment(assignmentProto())
                .build();
    }

    static GroupMember fromValue(GroupMemberValue v) {
        GroupMember m = new GroupMember(v.getMemberId(), v.getClientId(), v.getClientHost(), v.getSessionTimeoutMs(),
                v.getRebalanceTimeoutMs(), v.getTopicsList(), v.getAssignorsList());
        for (TopicPartitions tp : v.getAssignmentList()) {
            m.assignment.put(tp.getTopic(), List.copyOf(tp.getPartitionsList()));
        }
        return m;
    }

    static SortedMap<String, List<Integer>> copyOf(Map<String, List<Integer>> assignment) {
        return new TreeMap<>(assignment);
    }
}
