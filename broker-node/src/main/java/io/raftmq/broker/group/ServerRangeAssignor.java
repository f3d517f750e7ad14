package io.raftmq.broker.group;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Kafka's server-side "range" assignor: topic by topic, the members subscribed to it, in member-id
 * order, each get a contiguous range of its partitions (n / c each, the first n % c one more),
 * exactly as the classic {@link RangeAssignor} computes it, so that members subscribed to
 * co-partitioned topics get the same partition numbers of each. It ignores the current target:
 * a member joining or leaving moves the ranges of the members after it.
 */
final class ServerRangeAssignor implements ServerAssignor {
    static final String NAME = "range";

    private final RangeAssignor ranges = new RangeAssignor();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public SortedMap<String, SortedMap<String, SortedSet<Integer>>> assign(SortedMap<String, Set<String>> subscriptions,
            Map<String, Integer> partitionCounts, Map<String, SortedMap<String, SortedSet<Integer>>> currentTarget) {
        Map<String, List<String>> topics = new TreeMap<>();
        subscriptions.forEach((member, subscribed) -> topics.put(member, new ArrayList<>(new TreeSet<>(subscribed))));
        SortedMap<String, SortedMap<String, SortedSet<Integer>>> out = new TreeMap<>();
        ranges.assign(topics, t -> partitionCounts.getOrDefault(t, 0)).forEach((member, assignment) -> {
            SortedMap<String, SortedSet<Integer>> sets = new TreeMap<>();
            assignment.forEach((topic, partitions) -> sets.put(topic, new TreeSet<>(partitions)));
            out.put(member, TopicPartitionSets.copyOf(sets));
        });
        return out;
    }
}
