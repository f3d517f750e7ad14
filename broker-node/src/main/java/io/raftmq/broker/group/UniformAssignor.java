package io.raftmq.broker.group;

import io.raftmq.protocol.TopicPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Kafka's server-side "uniform" assignor, the default: spreads the partitions of the subscribed
 * topics evenly over the members that subscribe to them, and keeps each partition with its
 * current target owner where the balance allows (so a member joining takes a few partitions from
 * each of the others rather than reshuffling everything).
 *
 * <p>Three passes: (1) every member keeps the partitions of its current target that still exist
 * and that it still subscribes to; (2) each remaining partition, those of topics with the fewest
 * subscribers first, goes to the least-loaded member subscribed to its topic; (3) while some member
 * has two or more partitions more than a member that could take one of them, its last such
 * partition moves. When all members subscribe to the same topics, member loads then differ by at
 * most one; with different subscriptions the result is balanced as far as single moves reach.
 * Deterministic: ties go to the member id first in order.
 */
final class UniformAssignor implements ServerAssignor {
    static final String NAME = "uniform";
    private static final Comparator<TopicPartition> ORDER = OffsetsAndAdmin::compare;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public SortedMap<String, SortedMap<String, SortedSet<Integer>>> assign(SortedMap<String, Set<String>> subscriptions,
            Map<String, Integer> partitionCounts, Map<String, SortedMap<String, SortedSet<Integer>>> currentTarget) {
        Map<String, TreeSet<TopicPartition>> owned = new TreeMap<>();
        subscriptions.keySet().forEach(m -> owned.put(m, new TreeSet<>(ORDER)));
        Map<TopicPartition, String> ownerOf = new HashMap<>();
        // (1) stickiness
        for (String member : subscriptions.keySet()) {
            Set<String> topics = subscriptions.get(member);
            currentTarget.getOrDefault(member, TopicPartitionSets.EMPTY).forEach((topic, partitions) -> {
                int count = partitionCounts.getOrDefault(topic, 0);
                if (topics.contains(topic)) {
                    for (int p : partitions) {
                        TopicPartition tp = new TopicPartition(topic, p);
                        if (p < count && ownerOf.putIfAbsent(tp, member) == null) {
                            owned.get(member).add(tp);
                        }
                    }
                }
            });
        }
        // (2) the rest, to the least loaded
        Map<String, List<String>> subscribersOf = new TreeMap<>();
        subscriptions.forEach((member, topics) -> topics.forEach(t -> subscribersOf.computeIfAbsent(t,
                x -> new ArrayList<>()).add(member)));
        List<String> topicOrder = new ArrayList<>(subscribersOf.keySet());
        topicOrder.sort(Comparator.comparingInt((String t) -> subscribersOf.get(t).size())
                .thenComparing(Comparator.naturalOrder()));
        for (String topic : topicOrder) {
            List<String> eligible = subscribersOf.get(topic);
            for (int p = 0; p < partitionCounts.getOrDefault(topic, 0); p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                if (!ownerOf.containsKey(tp)) {
                    String least = eligible.get(0);
                    for (String m : eligible) {
                        if (owned.get(m).size() < owned.get(least).size()) {
                            least = m;
                        }
                    }
                    ownerOf.put(tp, least);
                    owned.get(least).add(tp);
                }
            }
        }
        // (3) balance by single moves; each move lowers the sum of squared loads, so this ends
        while (moveOne(subscriptions, owned)) {
            // repeat
        }
        SortedMap<String, SortedMap<String, SortedSet<Integer>>> out = new TreeMap<>();
        owned.forEach((member, partitions) -> {
            SortedMap<String, SortedSet<Integer>> byTopic = new TreeMap<>();
            partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new TreeSet<>()).add(tp.partition()));
            out.put(member, TopicPartitionSets.copyOf(byTopic));
        });
        return out;
    }

    private static boolean moveOne(Map<String, Set<String>> subscriptions, Map<String, TreeSet<TopicPartition>> owned) {
        List<String> byLoad = new ArrayList<>(owned.keySet());
        byLoad.sort(Comparator.comparingInt((String m) -> owned.get(m).size()).thenComparing(Comparator.naturalOrder()));
        for (int hi = byLoad.size() - 1; hi > 0; hi--) {
            String from = byLoad.get(hi);
            for (int lo = 0; lo < hi; lo++) {
                String to = byLoad.get(lo);
                if (owned.get(to).size() + 1 >= owned.get(from).size()) {
                    break;
                }
                Set<String> takes = subscriptions.get(to);
                for (TopicPartition tp : owned.get(from).descendingSet()) {
                    if (takes.contains(tp.topic())) {
                        owned.get(from).remove(tp);
                        owned.get(to).add(tp);
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
