package io.raftmq.broker.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * A consumer-protocol (KIP-848) server-side assignor: computes a group's target assignment from
 * its members' subscriptions, the subscribed topics' partition counts and the current target (so
 * that it can keep partitions where they are). Pure functions; any thread.
 */
interface ServerAssignor {

    /** Used when no member names an assignor (Kafka's group.consumer.assignors default order). */
    String DEFAULT = UniformAssignor.NAME;

    /** What members name in ConsumerGroupHeartbeat's ServerAssignor (group.remote.assignor). */
    String name();

    /**
     * @param subscriptions member id -> topics it subscribes to (regexes already resolved)
     * @param partitionCounts partition count of every subscribed topic; 0 or absent when it does not exist
     * @param currentTarget member id -> its current target; members not in it have none
     * @return member id -> topic -> partitions, for every member of {@code subscriptions} (possibly
     *     empty); every partition of a subscribed topic goes to exactly one member subscribed to it
     */
    SortedMap<String, SortedMap<String, SortedSet<Integer>>> assign(SortedMap<String, Set<String>> subscriptions,
            Map<String, Integer> partitionCounts, Map<String, SortedMap<String, SortedSet<Integer>>> currentTarget);

    /** The assignors this coordinator offers, by name. */
    static Map<String, ServerAssignor> known() {
        return Map.of(UniformAssignor.NAME, new UniformAssignor(), ServerRangeAssignor.NAME, new ServerRangeAssignor());
    }

    /** Names, sorted, for error messages. */
    static List<String> names() {
        return known().keySet().stream().sorted().toList();
    }
}
