package io.raftmq.broker.group;

import io.raftmq.protocol.broker.TopicPartitions;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Sets of partitions by topic name ({@code topic -> partitions}), as the consumer protocol's
 * assignments are: immutable, sorted, no empty topic entries. Stateless; any thread.
 */
final class TopicPartitionSets {
    static final SortedMap<String, SortedSet<Integer>> EMPTY = Collections.emptySortedMap();
    static final SortedSet<Integer> EMPTY_PARTITIONS = Collections.emptySortedSet();

    private TopicPartitionSets() {}

    /** An immutable sorted copy without empty entries. */
    static SortedMap<String, SortedSet<Integer>> copyOf(Map<String, ? extends Set<Integer>> partitions) {
        if (partitions == null || partitions.isEmpty()) {
            return EMPTY;
        }
        SortedMap<String, SortedSet<Integer>> out = new TreeMap<>();
        partitions.forEach((topic, ps) -> {
            if (!ps.isEmpty()) {
                out.put(topic, Collections.unmodifiableSortedSet(new TreeSet<>(ps)));
            }
        });
        return out.isEmpty() ? EMPTY : Collections.unmodifiableSortedMap(out);
    }

    static boolean contains(Map<String, ? extends Set<Integer>> partitions, String topic, int partition) {
        Set<Integer> ps = partitions.get(topic);
        return ps != null && ps.contains(partition);
    }

    /** Whether every partition of {@code a} is in {@code b}. */
    static boolean isSubset(Map<String, ? extends Set<Integer>> a, Map<String, ? extends Set<Integer>> b) {
        for (Map.Entry<String, ? extends Set<Integer>> e : a.entrySet()) {
            Set<Integer> other = b.get(e.getKey());
            if (!e.getValue().isEmpty() && (other == null || !other.containsAll(e.getValue()))) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code a} and {@code b} share a partition. */
    static boolean intersects(Map<String, ? extends Set<Integer>> a, Map<String, ? extends Set<Integer>> b) {
        for (Map.Entry<String, ? extends Set<Integer>> e : a.entrySet()) {
            Set<Integer> other = b.get(e.getKey());
            if (other != null && e.getValue().stream().anyMatch(other::contains)) {
                return true;
            }
        }
        return false;
    }

    static int count(Map<String, ? extends Set<Integer>> partitions) {
        return partitions.values().stream().mapToInt(Set::size).sum();
    }

    static List<TopicPartitions> toProto(Map<String, ? extends Set<Integer>> partitions) {
        return partitions.entrySet().stream()
                .map(e -> TopicPartitions.newBuilder().setTopic(e.getKey()).addAllPartitions(e.getValue()).build())
                .toList();
    }

    static SortedMap<String, SortedSet<Integer>> fromProto(List<TopicPartitions> partitions) {
        SortedMap<String, SortedSet<Integer>> out = new TreeMap<>();
        for (TopicPartitions tp : partitions) {
            out.computeIfAbsent(tp.getTopic(), t -> new TreeSet<>()).addAll(tp.getPartitionsList());
        }
        return copyOf(out);
    }

    /** "orders-0,1 payments-2", for logs. */
    static String describe(Map<String, ? extends Set<Integer>> partitions) {
        if (partitions.isEmpty()) {
            return "none";
        }
        StringBuilder out = new StringBuilder();
        partitions.forEach((topic, ps) -> {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(topic).append('-').append(ps.stream().map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(",")));
        });
        return out.toString();
    }
}
