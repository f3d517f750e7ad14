package io.raftmq.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Range and round-robin outcomes for cases whose Kafka results are known (Kafka's own assignor tests). */
class AssignorsTest {
    private final RangeAssignor range = new RangeAssignor();
    private final RoundRobinAssignor roundRobin = new RoundRobinAssignor();

    private static Map<String, Integer> counts(Object... topicAndCount) {
        Map<String, Integer> out = new TreeMap<>();
        for (int i = 0; i < topicAndCount.length; i += 2) {
            out.put((String) topicAndCount[i], (Integer) topicAndCount[i + 1]);
        }
        return out;
    }

    private static SortedMap<String, SortedMap<String, List<Integer>>> assign(PartitionAssignor assignor,
            Map<String, List<String>> subscriptions, Map<String, Integer> counts) {
        return assignor.assign(subscriptions, t -> counts.getOrDefault(t, 0));
    }

    @Test
    void rangeGivesContiguousRangesAndTheFirstMembersOneExtra() {
        // Kafka RangeAssignorTest.testTwoConsumersOneTopicThreePartitions
        assertEquals(Map.of("c1", Map.of("t1", List.of(0, 1)), "c2", Map.of("t1", List.of(2))),
                assign(range, Map.of("c1", List.of("t1"), "c2", List.of("t1")), counts("t1", 3)));
        // testTwoConsumersTwoTopicsSixPartitions: per topic, independently
        assertEquals(Map.of("c1", Map.of("t1", List.of(0, 1), "t2", List.of(0, 1)),
                "c2", Map.of("t1", List.of(2), "t2", List.of(2))),
                assign(range, Map.of("c1", List.of("t1", "t2"), "c2", List.of("t1", "t2")), counts("t1", 3, "t2", 3)));
        // testMultipleConsumersMixedTopics: c1 t1; c2 t1,t2; c3 t1 — t1 has 3, t2 has 2
        assertEquals(Map.of("c1", Map.of("t1", List.of(0)), "c2", Map.of("t1", List.of(1), "t2", List.of(0, 1)),
                "c3", Map.of("t1", List.of(2))),
                assign(range, Map.of("c1", List.of("t1"), "c2", List.of("t1", "t2"), "c3", List.of("t1")),
                        counts("t1", 3, "t2", 2)));
        // more members than partitions: the last ones get nothing
        assertEquals(Map.of("a", Map.of("t", List.of(0)), "b", Map.of(), "c", Map.of()),
                assign(range, Map.of("c", List.of("t"), "a", List.of("t"), "b", List.of("t")), counts("t", 1)));
        // 10 partitions over 3: 4, 3, 3
        assertEquals(Map.of("m1", Map.of("t", List.of(0, 1, 2, 3)), "m2", Map.of("t", List.of(4, 5, 6)),
                "m3", Map.of("t", List.of(7, 8, 9))),
                assign(range, Map.of("m1", List.of("t"), "m2", List.of("t"), "m3", List.of("t")), counts("t", 10)));
        // a topic that does not exist assigns nothing
        assertEquals(Map.of("m1", Map.of()), assign(range, Map.of("m1", List.of("missing")), counts()));
    }

    @Test
    void roundRobinDealsSortedPartitionsToSortedSubscribers() {
        // Kafka RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions
        assertEquals(Map.of("c1", Map.of("t1", List.of(0, 2), "t2", List.of(1)),
                "c2", Map.of("t1", List.of(1), "t2", List.of(0, 2))),
                assign(roundRobin, Map.of("c1", List.of("t1", "t2"), "c2", List.of("t1", "t2")),
                        counts("t1", 3, "t2", 3)));
        // testMultipleConsumersMixedTopics: c1 t1; c2 t1,t2; c3 t1 — t1 has 3, t2 has 2
        assertEquals(Map.of("c1", Map.of("t1", List.of(0)), "c2", Map.of("t1", List.of(1), "t2", List.of(0, 1)),
                "c3", Map.of("t1", List.of(2))),
                assign(roundRobin, Map.of("c1", List.of("t1"), "c2", List.of("t1", "t2"), "c3", List.of("t1")),
                        counts("t1", 3, "t2", 2)));
        // a member not subscribed to a topic is skipped in the same circular order
        assertEquals(Map.of("a", Map.of("x", List.of(0, 1, 2)), "b", Map.of("y", List.of(0, 1))),
                assign(roundRobin, Map.of("a", List.of("x"), "b", List.of("y")), counts("x", 3, "y", 2)));
        assertEquals(Map.of(), assign(roundRobin, Map.of(), counts("t", 3)));
    }

    @Test
    void assignorChoiceFollowsTheMembersVotes() {
        ConsumerGroup g = new ConsumerGroup("g", "[test]");
        g.addMember(new GroupMember("a", null, "a", "", true, 10_000, 10_000, protocols("roundrobin", "range")));
        g.addMember(new GroupMember("b", null, "b", "", true, 10_000, 10_000, protocols("range")));
        assertEquals("range", g.selectProtocol()); // only range is common
        g.members.get("b").setProtocols(protocols("roundrobin", "range"));
        assertEquals("roundrobin", g.selectProtocol());
    }

    private static List<ClassicGroupApi.Protocol> protocols(String... names) {
        byte[] subscription = ConsumerProtocolBytes.subscription(List.of("t"));
        return java.util.Arrays.stream(names).map(n -> new ClassicGroupApi.Protocol(n, subscription)).toList();
    }

    @Test
    void coordinatorPartitionIsKafkasFormula() {
        assertEquals(Math.abs("billing".hashCode()) % 50, GroupCoordinator.partitionFor("billing", 50));
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0.
        assertEquals(Integer.MIN_VALUE, "polygenelubricants".hashCode());
        assertEquals(0, GroupCoordinator.partitionFor("polygenelubricants", 12));
    }
}
