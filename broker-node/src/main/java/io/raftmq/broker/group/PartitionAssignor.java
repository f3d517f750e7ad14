package io.raftmq.broker.group;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToIntFunction;

/**
 * Computes a group's assignment from its members' subscriptions and the topics' partition counts,
 * with the semantics of the Kafka assignor of the same name. Pure functions; any thread.
 */
interface PartitionAssignor {

    /** The name members ask for in JoinGroup. */
    String name();

    /**
     * @param subscriptions member id -> topics it subscribes to
     * @param partitionCounts a topic's partition count, 0 when it does not exist
     * @return member id -> topic -> partitions, sorted; every member is present (possibly empty)
     */
    SortedMap<String, SortedMap<String, List<Integer>>> assign(Map<String, List<String>> subscriptions,
            ToIntFunction<String> partitionCounts);

    /** The assignors this coordinator knows, by name. */
    static Map<String, PartitionAssignor> known() {
        return Map.of(RangeAssignor.NAME, new RangeAssignor(), RoundRobinAssignor.NAME, new RoundRobinAssignor());
    }

    static SortedMap<String, SortedMap<String, List<Integer>>> emptyAssignment(Map<String, List<String>> subscriptions) {
        SortedMap<String, SortedMap<String, List<Integer>>> out = new TreeMap<>();
        for (String member : subscriptions.keySet()) {
            out.put(member, new TreeMap<>());
        }
        return out;
    }
}
