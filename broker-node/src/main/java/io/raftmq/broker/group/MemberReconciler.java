package io.raftmq.broker.group;

import io.raftmq.broker.group.ConsumerProtocolMember.State;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;

/**
 * Moves one consumer-protocol member one step towards its target assignment (what Kafka's
 * CurrentAssignmentBuilder does), given what the member reported owning in its heartbeat. The
 * rules that keep two members from consuming one partition:
 *
 * <ul>
 *   <li>partitions the member owns and its target no longer has are revoked first: the member
 *       keeps its epoch and is told (its new assignment leaves them out) until a heartbeat reports
 *       it no longer owns any of them (UNREVOKED_PARTITIONS);
 *   <li>a partition of its target is given only once no other member holds it, assigned or
 *       pending revocation (until then UNRELEASED_PARTITIONS, at the target epoch);
 *   <li>a member that reconciled to the target takes the target's epoch (STABLE).
 * </ul>
 *
 * Pure function; any thread.
 */
final class MemberReconciler {
    private MemberReconciler() {}

    /**
     * @param owned what the member's heartbeat says it owns; null when the heartbeat did not say
     *     (then it is taken to still own whatever it was told to revoke)
     * @param heldByOther whether a partition is assigned to, or pending revocation by, another member
     * @return the member one step further, or {@code member} itself when nothing changes
     */
    static ConsumerProtocolMember reconcile(ConsumerProtocolMember member, int targetEpoch,
            SortedMap<String, SortedSet<Integer>> target, Map<String, ? extends Set<Integer>> owned,
            BiPredicate<String, Integer> heldByOther) {
        return switch (member.state()) {
            case STABLE -> member.memberEpoch() == targetEpoch ? member
                    : next(member, targetEpoch, target, owned, heldByOther);
            case UNREVOKED_PARTITIONS -> stillOwnsAny(owned, member.pendingRevocation()) ? member
                    : next(member, targetEpoch, target, owned, heldByOther);
            case UNRELEASED_PARTITIONS -> next(member, targetEpoch, target, owned, heldByOther);
        };
    }

    private static boolean stillOwnsAny(Map<String, ? extends Set<Integer>> owned,
            Map<String, ? extends Set<Integer>> revoking) {
        return owned == null || TopicPartitionSets.intersects(owned, revoking);
    }

    private static ConsumerProtocolMember next(ConsumerProtocolMember member, int targetEpoch,
            SortedMap<String, SortedSet<Integer>> target, Map<String, ? extends Set<Integer>> owned,
            BiPredicate<String, Integer> heldByOther) {
        SortedMap<String, SortedSet<Integer>> keep = new TreeMap<>();
        SortedMap<String, SortedSet<Integer>> revoke = new TreeMap<>();
        SortedMap<String, SortedSet<Integer>> add = new TreeMap<>();
        boolean unreleased = false;
        Set<String> topics = new TreeSet<>(target.keySet());
        topics.addAll(member.assigned().keySet());
        for (String topic : topics) {
            Set<Integer> wanted = target.getOrDefault(topic, TopicPartitionSets.EMPTY_PARTITIONS);
            Set<Integer> has = member.assigned().getOrDefault(topic, TopicPartitionSets.EMPTY_PARTITIONS);
            for (int p : has) {
                (wanted.contains(p) ? keep : revoke).computeIfAbsent(topic, t -> new TreeSet<>()).add(p);
            }
            for (int p : wanted) {
                if (has.contains(p)) {
                    continue;
                }
                if (heldByOther.test(topic, p)) {
                    unreleased = true;
                } else {
                    add.computeIfAbsent(topic, t -> new TreeSet<>()).add(p);
                }
            }
        }
        if (!revoke.isEmpty() && stillOwnsAny(owned, revoke)) {
            return changed(member, member.withAssignment(member.memberEpoch(), State.UNREVOKED_PARTITIONS, keep,
                    revoke));
        }
        add.forEach((topic, ps) -> keep.computeIfAbsent(topic, t -> new TreeSet<>()).addAll(ps));
        return changed(member, member.withAssignment(targetEpoch,
                unreleased ? State.UNRELEASED_PARTITIONS : State.STABLE, keep, TopicPartitionSets.EMPTY));
    }

    private static ConsumerProtocolMember changed(ConsumerProtocolMember before, ConsumerProtocolMember after) {
        return after.equals(before) ? before : after;
    }
}
