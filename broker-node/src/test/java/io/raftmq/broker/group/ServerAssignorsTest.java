package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The uniform and range server-side assignors: coverage, balance, stickiness, co-partitioning. */
class ServerAssignorsTest {
    private final UniformAssignor uniform = new UniformAssignor();
    private final ServerRangeAssignor range = new ServerRangeAssignor();

    private static SortedMap<String, Set<String>> subs(Object... memberTopics) {
        SortedMap<String, Set<String>> out = new TreeMap<>();
        for (int i = 0; i < memberTopics.length; i += 2) {
            out.put((String) memberTopics[i], Set.copyOf((List<?>) memberTopics[i + 1]).stream().map(String::valueOf)
                    .collect(java.util.stream.Collectors.toSet()));
        }
        return out;
    }

    /** Every partition of every subscribed topic exactly once, to a member subscribed to it. */
    private static void assertCovers(SortedMap<String, Set<String>> subscriptions, Map<String, Integer> counts,
            SortedMap<String, SortedMap<String, SortedSet<Integer>>> result) {
        assertEquals(subscriptions.keySet(), result.keySet());
        Map<String, Set<Integer>> seen = new HashMap<>();
        result.forEach((member, assignment) -> assignment.forEach((topic, ps) -> {
            assertTrue(subscriptions.get(member).contains(topic), member + " got " + topic);
            ps.forEach(p -> assertTrue(seen.computeIfAbsent(topic, t -> new TreeSet<>()).add(p), topic + "-" + p
                    + " twice"));
        }));
        Set<String> subscribed = new TreeSet<>();
        subscriptions.values().forEach(subscribed::addAll);
        for (String topic : subscribed) {
            int n = counts.getOrDefault(topic, 0);
            assertEquals(n, seen.getOrDefault(topic, Set.of()).size(), topic);
        }
    }

    private static int spread(SortedMap<String, SortedMap<String, SortedSet<Integer>>> result) {
        int max = result.values().stream().mapToInt(TopicPartitionSets::count).max().orElse(0);
        int min = result.values().stream().mapToInt(TopicPartitionSets::count).min().orElse(0);
        return max - min;
    }

    @Test
    void uniformBalancesAndIsSticky() {
        Map<String, Integer> counts = Map.of("t", 7, "u", 3);
        SortedMap<String, Set<String>> two = subs("a", List.of("t", "u"), "b", List.of("t", "u"));
        var first = uniform.assign(two, counts, Map.of());
        assertCovers(two, counts, first);
        assertTrue(spread(first) <= 1);
        SortedMap<String, Set<String>> three = subs("a", List.of("t", "u"), "b", List.of("t", "u"), "c",
                List.of("t", "u"));
        var second = uniform.assign(three, counts, first);
        assertCovers(three, counts, second);
        assertTrue(spread(second) <= 1);
        // Sticky: a and b only lose partitions (to c), never swap among themselves.
        for (String m : List.of("a", "b")) {
            second.get(m).forEach((t, ps) -> assertTrue(first.get(m).get(t).containsAll(ps), m + " " + t));
        }
        // Equal inputs, equal outputs.
        assertEquals(second, uniform.assign(three, counts, first));
    }

    @Test
    void uniformWithDifferentSubscriptionsAndRandomGroups() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            Map<String, Integer> counts = new TreeMap<>();
            for (String t : List.of("t0", "t1", "t2", "t3")) {
                counts.put(t, random.nextInt(6));
            }
            SortedMap<String, Set<String>> s = new TreeMap<>();
            int members = 1 + random.nextInt(5);
            boolean homogeneous = random.nextBoolean();
            for (int m = 0; m < members; m++) {
                Set<String> topics = new TreeSet<>();
                for (String t : counts.keySet()) {
                    if (homogeneous || random.nextBoolean()) {
                        topics.add(t);
                    }
                }
                s.put("m" + m, topics);
            }
            var result = uniform.assign(s, counts, Map.of());
            assertCovers(s, counts, result);
            if (homogeneous) {
                assertTrue(spread(result) <= 1, "seed 42 round " + round + ": " + result);
            }
        }
    }

    @Test
    void rangeGivesContiguousRangesAndCoPartitions() {
        Map<String, Integer> counts = Map.of("t", 5, "u", 5);
        SortedMap<String, Set<String>> s = subs("a", List.of("t", "u"), "b", List.of("t", "u"));
        var result = range.assign(s, counts, Map.of());
        assertCovers(s, counts, result);
        assertEquals(Set.of(0, 1, 2), result.get("a").get("t"));
        assertEquals(Set.of(3, 4), result.get("b").get("t"));
        assertEquals(result.get("a").get("t"), result.get("a").get("u"), "co-partitioned");
        // A member subscribed to nothing that exists gets an empty assignment.
        var lone = range.assign(subs("a", List.of("missing")), counts, Map.of());
        assertEquals(Map.of("a", TopicPartitionSets.EMPTY), lone);
    }
}
