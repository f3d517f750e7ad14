package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Chooses replicas for new partitions over the eligible (unfenced) brokers so that replicas and
 * leaders stay evenly spread, counting every partition already in the image and every one placed
 * (or {@link #count counted}) by this placer so far.
 *
 * <p>For each partition: the leader (first replica) is the broker with the fewest leaderships, then
 * fewest replicas; each follower is the broker, not yet chosen, on a rack not yet used by this
 * partition if possible, with the fewest replicas. Ties go to the lowest broker id, so placement
 * is deterministic.
 *
 * <p>Not thread-safe: one placer per decision.
 */
final class ReplicaPlacer {
    private final List<BrokerRegistration> eligible;
    private final Map<Integer, Integer> replicaCounts = new HashMap<>();
    private final Map<Integer, Integer> leaderCounts = new HashMap<>();

    ReplicaPlacer(MetadataImage image) {
        this.eligible = image.eligibleBrokers();
        for (BrokerRegistration broker : eligible) {
            replicaCounts.put(broker.id(), 0);
            leaderCounts.put(broker.id(), 0);
        }
        for (TopicImage topic : image.topics()) {
            for (PartitionRegistration p : topic.partitions()) {
                for (int replica : p.replicas()) {
                    replicaCounts.computeIfPresent(replica, (id, n) -> n + 1);
                }
                if (!p.replicas().isEmpty()) {
                    leaderCounts.computeIfPresent(p.replicas().get(0), (id, n) -> n + 1);
                }
            }
        }
    }

    /**
     * Counts a partition placed by other means (a manual assignment), so that later placements by
     * this placer see it.
     */
    void count(List<Integer> replicas) {
        for (int replica : replicas) {
            replicaCounts.computeIfPresent(replica, (id, n) -> n + 1);
        }
        if (!replicas.isEmpty()) {
            leaderCounts.computeIfPresent(replicas.get(0), (id, n) -> n + 1);
        }
    }

    int eligibleBrokerCount() {
        return eligible.size();
    }

    /**
     * Replica lists for {@code partitions} new partitions of {@code replicationFactor} replicas.
     * The caller has checked that {@code replicationFactor <= eligibleBrokerCount()}.
     */
    List<List<Integer>> place(int partitions, int replicationFactor) {
        if (replicationFactor < 1 || replicationFactor > eligible.size()) {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " with "
                    + eligible.size() + " eligible brokers");
        }
        List<List<Integer>> out = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            out.add(placeOne(replicationFactor));
        }
        return out;
    }

    private List<Integer> placeOne(int replicationFactor) {
        List<Integer> replicas = new ArrayList<>(replicationFactor);
        Set<String> racksUsed = new HashSet<>();
        BrokerRegistration leader = eligible.stream()
                .min(Comparator.<BrokerRegistration>comparingInt(b -> leaderCounts.get(b.id()))
                        .thenComparingInt(b -> replicaCounts.get(b.id()))
                        .thenComparingInt(BrokerRegistration::id))
                .orElseThrow();
        take(leader, replicas, racksUsed);
        leaderCounts.merge(leader.id(), 1, Integer::sum);
        while (replicas.size() < replicationFactor) {
            BrokerRegistration follower = eligible.stream()
                    .filter(b -> !replicas.contains(b.id()))
                    .min(Comparator.<BrokerRegistration>comparingInt(
                                    b -> !b.rack().isEmpty() && racksUsed.contains(b.rack()) ? 1 : 0)
                            .thenComparingInt(b -> replicaCounts.get(b.id()))
                            .thenComparingInt(BrokerRegistration::id))
                    .orElseThrow();
            take(follower, replicas, racksUsed);
        }
        return List.copyOf(replicas);
    }

    private void take(BrokerRegistration broker, List<Integer> replicas, Set<String> racksUsed) {
        replicas.add(broker.id());
        replicaCounts.merge(broker.id(), 1, Integer::sum);
        if (!broker.rack().isEmpty()) {
            racksUsed.add(broker.rack());
        }
    }
}
