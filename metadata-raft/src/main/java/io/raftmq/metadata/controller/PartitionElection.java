package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How partition leadership and ISRs change when a broker stops being eligible (fenced, shutting
 * down, re-registered) or becomes eligible again (unfenced). Pure functions of the image.
 *
 * <p>Rules: the new leader is the first replica, in replica order, that is in the ISR and
 * eligible. An ISR never becomes empty: when its last eligible member goes, that member stays in
 * it and the partition has no leader (offline), so that it — and only it, unless the topic sets
 * {@code unclean.leader.election.enable=true} — can lead again when it returns. Every leader change
 * bumps the leader epoch (replay does that for a record with a leader).
 */
final class PartitionElection {
    private PartitionElection() {}

    /**
     * The records that take {@code brokerId} out of every ISR and leadership. {@code image} must
     * already consider the broker ineligible or about to be: the broker is excluded explicitly.
     */
    static List<MetadataRecord> removeBroker(MetadataImage image, int brokerId) {
        List<MetadataRecord> out = new ArrayList<>();
        for (TopicImage topic : image.topicsSorted()) {
            for (int id = 0; id < topic.numPartitions(); id++) {
                PartitionRegistration p = topic.partitions().get(id);
                if (!p.isInIsr(brokerId) && p.leader() != brokerId) {
                    continue;
                }
                List<Integer> isr = new ArrayList<>(p.isr());
                if (isr.size() > 1) {
                    isr.remove(Integer.valueOf(brokerId));
                }
                boolean isrChanged = isr.size() != p.isr().size();
                Integer newLeader = null;
                if (p.leader() == brokerId) {
                    newLeader = chooseLeader(image, topic, p, isr, brokerId);
                    if (newLeader != PartitionRegistration.NO_LEADER && !isr.contains(newLeader)) {
                        isr = List.of(newLeader); // unclean election: the new leader's log is the truth
                        isrChanged = true;
                    }
                }
                if (isrChanged || newLeader != null) {
                    out.add(Records.partitionChange(topic.id(), id, newLeader, isrChanged ? isr : null));
                }
            }
        }
        return out;
    }

    /**
     * The records that elect leaders for partitions without one now that {@code brokerId} is
     * eligible; {@code image} must already show it eligible.
     */
    static List<MetadataRecord> electOfflineLeaders(MetadataImage image, int brokerId) {
        List<MetadataRecord> out = new ArrayList<>();
        for (TopicImage topic : image.topicsSorted()) {
            for (int id = 0; id < topic.numPartitions(); id++) {
                PartitionRegistration p = topic.partitions().get(id);
                if (p.hasLeader() || !p.isReplica(brokerId)) {
                    continue;
                }
                int leader = chooseLeader(image, topic, p, p.isr(), PartitionRegistration.NO_LEADER);
                if (leader == PartitionRegistration.NO_LEADER) {
                    continue;
                }
                List<Integer> isr = p.isr().contains(leader) ? null : List.of(leader);
                out.add(Records.partitionChange(topic.id(), id, leader, isr));
            }
        }
        return out;
    }

    /**
     * Kafka's automatic leader rebalance: for each broker, the partitions whose preferred replica
     * (the first in replica order) it is; when more than {@code imbalancePercentage} % of them are
     * led by another broker, leadership of each of those moves back to it — only where it is
     * eligible (registered, unfenced, not shutting down) and in the ISR, so no record is lost and
     * no offline partition is touched. The ISR is unchanged; the leader epoch goes up by one.
     */
    static List<MetadataRecord> electPreferredLeaders(MetadataImage image, int imbalancePercentage) {
        Map<Integer, int[]> preferredCounts = new HashMap<>(); // broker -> {preferred partitions, led by others}
        for (TopicImage topic : image.topicsSorted()) {
            for (PartitionRegistration p : topic.partitions()) {
                if (p.replicas().isEmpty()) {
                    continue;
                }
                int[] counts = preferredCounts.computeIfAbsent(p.replicas().get(0), b -> new int[2]);
                counts[0]++;
                if (p.leader() != p.replicas().get(0)) {
                    counts[1]++;
                }
            }
        }
        List<MetadataRecord> out = new ArrayList<>();
        for (TopicImage topic : image.topicsSorted()) {
            for (int id = 0; id < topic.numPartitions(); id++) {
                PartitionRegistration p = topic.partitions().get(id);
                if (p.replicas().isEmpty() || !p.hasLeader()) {
                    continue;
                }
                int preferred = p.replicas().get(0);
                int[] counts = preferredCounts.get(preferred);
                boolean imbalanced = counts[1] * 100L > (long) imbalancePercentage * counts[0];
                if (imbalanced && p.leader() != preferred && p.isInIsr(preferred) && image.isEligible(preferred)) {
                    out.add(Records.partitionChange(topic.id(), id, preferred, null));
                }
            }
        }
        return out;
    }

    /**
     * The first replica in the ISR that is eligible and not {@code excluded}; with unclean election
     * enabled for the topic and no such ISR member, the first eligible replica; otherwise none.
     */
    static int chooseLeader(MetadataImage image, TopicImage topic, PartitionRegistration p, List<Integer> isr,
            int excluded) {
        for (int replica : p.replicas()) {
            if (replica != excluded && isr.contains(replica) && image.isEligible(replica)) {
                return replica;
            }
        }
        if (uncleanElectionEnabled(topic)) {
            for (int replica : p.replicas()) {
                if (replica != excluded && image.isEligible(replica)) {
                    return replica;
                }
            }
        }
        return PartitionRegistration.NO_LEADER;
    }

    private static boolean uncleanElectionEnabled(TopicImage topic) {
        return topic.config(TopicConfigs.UNCLEAN_LEADER_ELECTION_ENABLE).map(Boolean::parseBoolean).orElse(false);
    }
}
