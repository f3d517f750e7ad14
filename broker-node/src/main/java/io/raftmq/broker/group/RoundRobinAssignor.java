package io.raftmq.broker.group;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by topic then
 * partition, is dealt in turn to the members in member-id order, skipping (in the same circular
 * order) members not subscribed to the partition's topic.
 */
final class RoundRobinAssignor implements PartitionAssignor {
    static final String NAME = "roundrobin";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public SortedMap<String, SortedMap<String, List<Integer>>> assign(Map<String, List<String>> subscriptions,
            ToIntFunction<String> partitionCounts) {
        SortedMap<String, SortedMap<String, List<Integer>>> out = PartitionAssignor.emptyAssignment(subscriptions);
        if (subscriptions.isEmpty()) {
            return out;
        }
        List<String> members = new ArrayList<>(new TreeSet<>(subscriptions.keySet()));
        Map<String, Set<String>> subscribed = new java.util.HashMap<>();
        Set<String> allTopics = new TreeSet<>();
        for (Map.Entry<String, List<String>> e : subscriptions.entrySet()) {
            subscribed.put(e.getKey(), new HashSet<>(e.getValue()));
            allTopics.addAll(e.getValue());
        }
        int next = 0;
        for (String topic : allTopics) {
            int partitions = partitionCounts.applyAsInt(topic);
            for (int p = 0; p < partitions; p++) {
                // Someone subscribes to every topic in allTopics, so this finds a member.
                while (!subscribed.get(members.get(next)).contains(topic)) {
                    next = (next + 1) % members.size();
                }
                out.get(members.get(next)).computeIfAbsent(topic, t -> new ArrayList<>()).add(p);
                next = (next + 1) % members.size();
            }
        }
        return out;
    }
}
