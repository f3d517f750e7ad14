package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.loader.MetadataSubscriber;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Named invariants of committed metadata, checked against every batch each voter commits (the
 * image before the batch and after it). Violations are collected; {@link #assertHeld()} throws the
 * first. Subscribe one instance to every voter's loader.
 *
 * <ul>
 *   <li>ISR within replicas and never empty;
 *   <li>a leader is in its ISR, and every ISR member of a led partition is eligible (unfenced);
 *   <li>a leaderless partition has exactly one ISR member, which is not eligible (no unclean
 *       election has been possible, or one would have happened);
 *   <li>leader and partition epochs never move back; a leader change bumps the leader epoch;
 *   <li>a new leader was in the ISR before the batch, unless the topic allows unclean election or an
 *       administrator asked for it (an UNCLEAN ElectLeaders whose batch offset the test passed to
 *       {@link #allowUncleanElectionsAt}) for a partition without a leader; an unclean election
 *       resets the ISR to the new leader alone;
 *   <li>broker epochs never move back;
 *   <li>the cluster id never changes once set.
 * </ul>
 */
final class MetadataInvariants implements MetadataSubscriber {
    private final List<String> violations = new CopyOnWriteArrayList<>();
    // Unclean elections on topics that do not allow them, by batch offset: violations unless allowed.
    private final Map<Long, List<String>> uncleanElections = new ConcurrentHashMap<>();
    private final Set<Long> allowedUnclean = ConcurrentHashMap.newKeySet();

    /** The batch at {@code offset} holds the elections of an UNCLEAN ElectLeaders request. */
    void allowUncleanElectionsAt(long offset) {
        allowedUnclean.add(offset);
    }

    void assertHeld() {
        List<String> all = new ArrayList<>(violations);
        uncleanElections.forEach((offset, found) -> {
            if (!allowedUnclean.contains(offset)) {
                all.addAll(found);
            }
        });
        if (!all.isEmpty()) {
            throw new AssertionError(all.size() + " invariant violation(s); first: " + all.get(0));
        }
    }

    @Override
    public void onSnapshot(MetadataImage image) {
        checkImage(image, "snapshot at " + image.offset());
    }

    @Override
    public void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta, MetadataImage after) {
        MetadataImage before = delta.base();
        String where = "batch at offset " + offset;
        checkImage(after, where);
        check(before.clusterId() == null || before.clusterId().equals(after.clusterId()),
                "%s: cluster id changed: %s -> %s", where, before.clusterId(), after.clusterId());
        for (BrokerRegistration broker : after.brokers().values()) {
            BrokerRegistration old = before.broker(broker.id());
            check(old == null || old.epoch() <= broker.epoch(), "%s: broker %d epoch moved back: %d -> %d", where,
                    broker.id(), old == null ? 0 : old.epoch(), broker.epoch());
        }
        for (UUID topicId : delta.changedTopicIds()) {
            TopicImage now = after.topic(topicId);
            TopicImage old = before.topic(topicId);
            if (now == null || old == null) {
                continue;
            }
            boolean unclean = now.config("unclean.leader.election.enable").map(Boolean::parseBoolean).orElse(false);
            for (int i = 0; i < old.numPartitions(); i++) {
                PartitionRegistration p = now.partition(i);
                PartitionRegistration q = old.partition(i);
                String name = where + ": " + now.name() + "-" + i;
                check(p.leaderEpoch() >= q.leaderEpoch(), "%s: leader epoch moved back: %d -> %d", name,
                        q.leaderEpoch(), p.leaderEpoch());
                check(p.partitionEpoch() >= q.partitionEpoch(), "%s: partition epoch moved back: %d -> %d", name,
                        q.partitionEpoch(), p.partitionEpoch());
                if (p.leader() != q.leader()) {
                    check(p.leaderEpoch() > q.leaderEpoch(), "%s: leader %d -> %d without a new leader epoch", name,
                            q.leader(), p.leader());
                    if (p.hasLeader() && !q.isr().contains(p.leader())) {
                        check(p.isr().equals(List.of(p.leader())), "%s: unclean election of %d (ISR before %s) must"
                                + " reset the ISR to it, not %s", name, p.leader(), q.isr(), p.isr());
                        if (!unclean) {
                            check(!q.hasLeader(), "%s: unclean election of %d asked for a partition that had leader"
                                    + " %d", name, p.leader(), q.leader());
                            uncleanElections.computeIfAbsent(offset, o -> new CopyOnWriteArrayList<>()).add(
                                    String.format("%s: unclean election of %d, not in the ISR %s before, on a topic"
                                            + " that does not allow it and not asked for", name, p.leader(), q.isr()));
                        }
                    }
                }
            }
        }
    }

    private void checkImage(MetadataImage image, String where) {
        for (TopicImage topic : image.topics()) {
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration p = topic.partition(i);
                String name = where + ": " + topic.name() + "-" + i;
                check(!p.isr().isEmpty() && p.replicas().containsAll(p.isr()), "%s: ISR %s not within replicas %s",
                        name, p.isr(), p.replicas());
                if (p.hasLeader()) {
                    check(p.isr().contains(p.leader()), "%s: leader %d outside ISR %s", name, p.leader(), p.isr());
                    for (int member : p.isr()) {
                        check(image.isEligible(member), "%s: ISR member %d is %s while the partition has a leader",
                                name, member, image.broker(member) == null ? "unregistered"
                                        : image.broker(member).state());
                    }
                } else {
                    check(p.isr().size() == 1 && !image.isEligible(p.isr().get(0)),
                            "%s: leaderless, but its ISR %s has an eligible member or more than one", name, p.isr());
                }
            }
        }
    }

    private void check(boolean condition, String format, Object... args) {
        if (!condition) {
            violations.add(String.format(format, args));
        }
    }
}
