package io.raftmq.broker.group;

import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.group.ConsumerGroupValue;
import io.raftmq.protocol.group.ConsumerTargetEpochValue;
import io.raftmq.protocol.group.ConsumerTargetValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * One consumer-protocol (KIP-848) group: its epoch, members, target assignment and who holds
 * which partition. Changed only by {@link ConsumerGroupHeartbeats#replay} of its records (so the
 * state rebuilt from the log is the state that wrote it), apart from the timers, which are not
 * durable. Owned by the thread that owns the shard (no locks).
 *
 * <p>States, as ListGroups and ConsumerGroupDescribe report them (derived, not stored):
 * <pre>
 *   Empty        no members
 *   Assigning    the group epoch is ahead of the target assignment's epoch
 *   Reconciling  some member has not reached the target (epoch or partitions)
 *   Stable       every member owns exactly its target at the target's epoch
 * </pre>
 */
final class ConsumerProtocolGroup {
    /** The group type ListGroups reports for these groups. */
    static final String TYPE = "consumer";

    /** A member's revocation deadline: it is fenced if still at {@code memberEpoch} then. */
    record RevocationDeadline(long deadlineMs, int memberEpoch) {}

    final String groupId;
    int groupEpoch;
    /** The partition counts of the subscribed topics when the group epoch was set. */
    Map<String, Integer> subscribedPartitionCounts = Map.of();
    int assignmentEpoch;
    /** By member id, sorted so every iteration is deterministic. */
    final SortedMap<String, ConsumerProtocolMember> members = new TreeMap<>();
    final Map<String, SortedMap<String, SortedSet<Integer>>> targets = new HashMap<>();
    /** Derived from members: who holds each partition (assigned or pending revocation). */
    private final Map<TopicPartition, String> holders = new HashMap<>();
    /** Derived: instance id -> member id of static members. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Whether the group's own records exist in the log (so deleting it needs tombstones). */
    boolean stored;

    // Timers (monotonic), not durable: a loaded group gives every member a fresh session.
    final Map<String, Long> sessionDeadlinesMs = new HashMap<>();
    final Map<String, RevocationDeadline> revocationDeadlines = new HashMap<>();

    ConsumerProtocolGroup(String groupId) {
        this.groupId = groupId;
    }

    /** "Empty", "Assigning", "Reconciling" or "Stable". */
    String state() {
        if (members.isEmpty()) {
            return "Empty";
        }
        if (groupEpoch > assignmentEpoch) {
            return "Assigning";
        }
        for (ConsumerProtocolMember m : members.values()) {
            if (m.memberEpoch() != assignmentEpoch || m.state() != ConsumerProtocolMember.State.STABLE
                    || !m.assigned().equals(target(m.memberId()))) {
                return "Reconciling";
            }
        }
        return "Stable";
    }

    SortedMap<String, SortedSet<Integer>> target(String memberId) {
        return targets.getOrDefault(memberId, TopicPartitionSets.EMPTY);
    }

    /** The member holding a partition (assigned or pending revocation), or null. */
    String holder(String topic, int partition) {
        return holders.get(new TopicPartition(topic, partition));
    }

    /** The assignor in use: the one most members name (ties: first by name), else the default. */
    String assignorName() {
        Map<String, Integer> votes = new TreeMap<>();
        members.values().forEach(m -> {
            if (!m.serverAssignor().isEmpty()) {
                votes.merge(m.serverAssignor(), 1, Integer::sum);
            }
        });
        String best = ServerAssignor.DEFAULT;
        int most = 0;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    // ---- replay (only ConsumerGroupHeartbeats calls these) ----

    void replayGroup(ConsumerGroupValue value) {
        stored = true;
        groupEpoch = value.getGroupEpoch();
        subscribedPartitionCounts = Collections.unmodifiableMap(new TreeMap<>(value.getSubscribedPartitionCountsMap()));
    }

    void replayTargetEpoch(ConsumerTargetEpochValue value) {
        stored = true;
        assignmentEpoch = value.getAssignmentEpoch();
    }

    void replayTarget(String memberId, ConsumerTargetValue value) {
        if (value == null) {
            targets.remove(memberId);
        } else {
            targets.put(memberId, TopicPartitionSets.fromProto(value.getPartitionsList()));
        }
    }

    /** Puts (null: removes) a member, keeping the derived maps and timers in step. */
    void putMember(String memberId, ConsumerProtocolMember member) {
        ConsumerProtocolMember before = member == null ? members.remove(memberId) : members.put(memberId, member);
        if (before != null) {
            forEachHeld(before, tp -> holders.remove(tp, memberId));
            if (before.isStatic()) {
                staticMembers.remove(before.instanceId(), memberId);
            }
        }
        if (member != null) {
            forEachHeld(member, tp -> holders.put(tp, memberId));
            if (member.isStatic()) {
                staticMembers.put(member.instanceId(), memberId);
            }
        } else {
            sessionDeadlinesMs.remove(memberId);
            revocationDeadlines.remove(memberId);
        }
    }

    private static void forEachHeld(ConsumerProtocolMember m, java.util.function.Consumer<TopicPartition> action) {
        m.assigned().forEach((t, ps) -> ps.forEach(p -> action.accept(new TopicPartition(t, p))));
        m.pendingRevocation().forEach((t, ps) -> ps.forEach(p -> action.accept(new TopicPartition(t, p))));
    }

    /** Records that rebuild this group alone (a checkpoint's share). */
    List<CoordinatorRecord> toRecords() {
        List<CoordinatorRecord> out = new ArrayList<>();
        if (!stored) {
            return out;
        }
        out.add(new CoordinatorRecord.ConsumerGroupEpoch(groupId, ConsumerGroupValue.newBuilder()
                .setGroupEpoch(groupEpoch).putAllSubscribedPartitionCounts(subscribedPartitionCounts).build()));
        for (ConsumerProtocolMember m : members.values()) {
            out.add(new CoordinatorRecord.ConsumerMember(groupId, m.memberId(), m.toMemberValue()));
        }
        out.add(new CoordinatorRecord.ConsumerTargetEpoch(groupId, ConsumerTargetEpochValue.newBuilder()
                .setAssignmentEpoch(assignmentEpoch).build()));
        new TreeMap<>(targets).forEach((memberId, target) -> out.add(new CoordinatorRecord.ConsumerTarget(groupId,
                memberId, ConsumerTargetValue.newBuilder().addAllPartitions(TopicPartitionSets.toProto(target))
                .build())));
        for (ConsumerProtocolMember m : members.values()) {
            out.add(new CoordinatorRecord.ConsumerCurrent(groupId, m.memberId(), m.toCurrentValue()));
        }
        return out;
    }

    /** Tombstones of every record of this group. */
    List<CoordinatorRecord> deletionRecords() {
        List<CoordinatorRecord> out = new ArrayList<>();
        for (ConsumerProtocolMember m : members.values()) {
            out.addAll(memberTombstones(m.memberId()));
        }
        if (stored) {
            out.add(new CoordinatorRecord.ConsumerTargetEpoch(groupId, null));
            out.add(new CoordinatorRecord.ConsumerGroupEpoch(groupId, null));
        }
        return out;
    }

    List<CoordinatorRecord> memberTombstones(String memberId) {
        return List.of(new CoordinatorRecord.ConsumerCurrent(groupId, memberId, null),
                new CoordinatorRecord.ConsumerTarget(groupId, memberId, null),
                new CoordinatorRecord.ConsumerMember(groupId, memberId, null));
    }
}
