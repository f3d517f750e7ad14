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
 * One classic group (Kafka's classic protocol; members of any protocol type, "consumer" for
 * consumers): membership, generation, selected protocol, assignments and committed offsets. The rules live in
 * {@link GroupShard}; this holds the state and the transitions. Owned by the thread that owns the
 * shard (no locks).
 *
 * <pre>
 *   EMPTY --join--> PREPARING_REBALANCE --every member joined, or timeout--> COMPLETING_REBALANCE
 *   COMPLETING_REBALANCE --the leader's SyncGroup assignment (or, with an SDK leader, the
 *                          coordinator's) stored--> STABLE
 *   STABLE --a static member's instance rejoins under a new member id, same protocol--> STABLE
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
    /** The protocol selected for this generation; empty while none is. */
    String protocolName = "";
    String leaderId = "";
    /** By member id: sorted, so that every iteration (and so every outcome) is deterministic. */
    final SortedMap<String, GroupMember> members = new TreeMap<>();
    /** group.instance.id -> member id of each static member. */
    final Map<String, String> staticMembers = new HashMap<>();
    /**
     * Member ids handed out with MEMBER_ID_REQUIRED and not joined yet -> the monotonic time they
     * are forgotten at (their session timeout). Memory only.
     */
    final Map<String, Long> pendingMembers = new TreeMap<>();
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

    /** Protocols every member but {@code except} (may be null) supports, in no particular order. */
    Set<String> commonProtocols(String except) {
        Set<String> common = null;
        for (GroupMember m : members.values()) {
            if (m.memberId.equals(except)) {
                continue;
            }
            if (common == null) {
                common = new LinkedHashSet<>(m.protocolNames());
            } else {
                common.retainAll(m.protocolNames());
            }
        }
        return common;
    }

    /**
     * Whether a member ({@code memberId}, empty for a new one) joining with this protocol type
     * and these protocols can be in the group: with no other member, any non-empty list does;
     * else the type must be the group's and one protocol supported by every other member.
     */
    boolean supportsProtocols(String memberId, String type, List<String> protocolNames) {
        Set<String> common = commonProtocols(memberId);
        if (common == null) {
            return !type.isEmpty() && !protocolNames.isEmpty();
        }
        return type.equals(protocolType) && protocolNames.stream().anyMatch(common::contains);
    }

    /**
     * Kafka's choice (ClassicGroup.selectProtocol): each member votes for its most preferred
     * protocol among those every member supports; the most votes win (a tie goes to the name first
     * in alphabetical order). Null when the group has no members.
     */
    String selectProtocol() {
        Set<String> common = commonProtocols(null);
        if (common == null) {
            return null;
        }
        Map<String, Integer> votes = new TreeMap<>();
        for (GroupMember m : members.values()) {
            for (String name : m.protocolNames()) {
                if (common.contains(name)) {
                    votes.merge(name, 1, Integer::sum);
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

    /** The member id of a static member's instance, or null. */
    String staticMemberId(String groupInstanceId) {
        return groupInstanceId == null ? null : staticMembers.get(groupInstanceId);
    }

    void addMember(GroupMember member) {
        members.put(member.memberId, member);
        if (member.isStatic()) {
            staticMembers.put(member.groupInstanceId, member.memberId);
        }
        pendingMembers.remove(member.memberId);
    }

    void removeMember(String memberId) {
        GroupMember m = members.remove(memberId);
        if (m != null && m.isStatic() && memberId.equals(staticMembers.get(m.groupInstanceId))) {
            staticMembers.remove(m.groupInstanceId);
        }
    }

    /**
     * The leader for the next generation among members that rejoined: the current one if it
     * computes assignments or no rejoined member does; else the first (by member id) that does, so
     * that a Kafka client leads a group it shares with SDK members. Null when none rejoined.
     */
    String electLeader() {
        GroupMember current = members.get(leaderId);
        boolean currentOk = current != null && current.pendingJoin != null;
        if (currentOk && !current.coordinatorAssigns) {
            return leaderId;
        }
        for (GroupMember m : members.values()) {
            if (m.pendingJoin != null && !m.coordinatorAssigns) {
                return m.memberId;
            }
        }
        if (currentOk) {
            return leaderId;
        }
        for (GroupMember m : members.values()) {
            if (m.pendingJoin != null) {
                return m.memberId;
            }
        }
        return null;
    }

    boolean allMembersJoined() {
        return pendingMembers.isEmpty() && members.values().stream().allMatch(m -> m.pendingJoin != null);
    }

    /** Members whose JoinGroup waits (the new generation's members so far). */
    long membersAwaitingJoin() {
        return members.values().stream().filter(m -> m.pendingJoin != null).count();
    }

    int maxRebalanceTimeoutMs() {
        return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
    }

    /** Every topic some member's consumer-protocol subscription names, sorted. */
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
                .setProtocolName(protocolName)
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
        protocolName = value.getProtocolName();
        leaderId = value.getLeaderId();
        members.clear();
        staticMembers.clear();
        for (GroupMemberValue v : value.getMembersList()) {
            addMember(GroupMember.fromValue(v));
        }
        state = members.isEmpty() ? State.EMPTY : State.STABLE;
    }
}
