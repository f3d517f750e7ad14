package io.raftmq.broker.group;

import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.group.GroupMemberValue;
import io.raftmq.protocol.group.GroupMetadataValue;
import io.raftmq.protocol.group.OffsetCommitValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer group: membership, generation, assignment and committed offsets. The rules live in
 * {@link GroupShard}; this holds the state and the transitions. Owned by the thread that owns the
 * shard (no locks).
 *
 * <pre>
 *   EMPTY --join--> PREPARING_REBALANCE --every member joined, or timeout--> COMPLETING_REBALANCE
 *   COMPLETING_REBALANCE --assignment stored--> STABLE
 *   STABLE | COMPLETING_REBALANCE --join with new subscriptions, leave, session expiry,
 *                                    partition count change--> PREPARING_REBALANCE
 *   PREPARING_REBALANCE --no member left--> EMPTY
 *   EMPTY --DeleteGroups, or its offsets expired--> DEAD (removed from the shard)
 * </pre>
 */
final class ConsumerGroup {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroup.class);

    /** Kafka's state names, as ListGroups and DescribeGroups report them. */
    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable"), DEAD("Dead");

        final String wireName;

        State(String wireName) {
            this.wireName = wireName;
        }
    }

    final String groupId;
    private final String logPrefix;
    private State state = State.EMPTY;
    String protocolType = "";
    int generationId;
    String assignor = "";
    String leaderId = "";
    /** By member id: sorted, so that every iteration (and so every outcome) is deterministic. */
    final SortedMap<String, GroupMember> members = new TreeMap<>();
    /** While PREPARING_REBALANCE: when the join phase ends whether or not every member rejoined. */
    long rebalanceDeadlineMs;
    /** While PREPARING_REBALANCE after EMPTY: the initial delay phase, and the latest it may end. */
    boolean initialDelay;
    long initialDelayLimitMs;
    /** The partition counts of the subscribed topics when the assignment was computed. */
    Map<String, Integer> assignedPartitionCounts = Map.of();
    final Map<TopicPartition, OffsetCommitValue> offsets = new HashMap<>();
    /** The group's value as last written to the log (what a checkpoint rewrites); null when never written. */
    GroupMetadataValue persisted;
    /**
     * Wall-clock time at which an offsets expiry pass first found the group without members; -1
     * while it has members or before a pass saw it (so a restart only delays expiry).
     */
    long emptySinceMs = -1;

    ConsumerGroup(String groupId, String logPrefix) {
        this.groupId = groupId;
        this.logPrefix = logPrefix;
    }

    State state() {
        return state;
    }

    boolean is(State s) {
        return state == s;
    }

    void transitionTo(State next, String reason) {
        if (next == state) {
            return;
        }
        LOG.info("{} group '{}' {} -> {} at generation {} ({} member(s)): {}", logPrefix, groupId, state.wireName,
                next.wireName, generationId, members.size(), reason);
        state = next;
    }

    /** Assignors every member supports. */
    Set<String> commonAssignors() {
        Set<String> common = null;
        for (GroupMember m : members.values()) {
            if (common == null) {
                common = new LinkedHashSet<>(m.assignors);
            } else {
                common.retainAll(m.assignors);
            }
        }
        return common == null ? Set.of() : common;
    }

    /**
     * Kafka's choice: each member votes for its most preferred assignor among those every member
     * supports; the most votes win (a tie goes to the name first in alphabetical order).
     */
    String selectAssignor() {
        Set<String> common = commonAssignors();
        Map<String, Integer> votes = new TreeMap<>();
        for (GroupMember m : members.values()) {
            for (String a : m.assignors) {
                if (common.contains(a)) {
                    votes.merge(a, 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (best == null || e.getValue() > votes.get(best)) {
                best = e.getKey();
            }
        }
        return best;
    }

    boolean allMembersJoined() {
        return members.values().stream().allMatch(m -> m.pendingJoin != null);
    }

    int maxRebalanceTimeoutMs() {
        return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
    }

    /** Every topic some member subscribes to, sorted. */
    Set<String> subscribedTopics() {
        Set<String> topics = new TreeSet<>();
        members.values().forEach(m -> topics.addAll(m.topics));
        return topics;
    }

    GroupMetadataValue toValue(long wallClockMs) {
        List<GroupMemberValue> values = new ArrayList<>();
        members.values().forEach(m -> values.add(m.toValue()));
        return GroupMetadataValue.newBuilder()
                .setProtocolType(protocolType)
                .setGenerationId(generationId)
                .setAssignor(assignor)
                .setLeaderId(leaderId)
                .addAllMembers(values)
                .setTimestampMs(wallClockMs)
                .build();
    }

    /** Restores the stored generation (on load): STABLE with its members, or EMPTY. */
    void restore(GroupMetadataValue value) {
        persisted = value;
        protocolType = value.getProtocolType();
        generationId = value.getGenerationId();
        assignor = value.getAssignor();
        leaderId = value.getLeaderId();
        members.clear();
        for (GroupMemberValue v : value.getMembersList()) {
            members.put(v.getMemberId(), GroupMember.fromValue(v));
        }
        state = members.isEmpty() ? State.EMPTY : State.STABLE;
    }
}
