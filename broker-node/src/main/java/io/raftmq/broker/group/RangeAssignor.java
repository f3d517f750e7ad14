package io.raftmq.broker.group;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToIntFunction;

/**
 * Kafka's RangeAssignor: topic by topic, the members subscribed to it in member-id order each get
 * a contiguous range of its partitions; with n partitions and c members, each gets n / c, and the
 * first n % c members one more.
 */
final class RangeAssignor implements PartitionAssignor {
    static final String NAME = "range";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public SortedMap<String, SortedMap<String, List<Integer>>> assign(Map<String, List<String>> subscriptions,
            ToIntFunction<String> partitionCounts) {
        SortedMap<String, SortedMap<String, List<Integer>>> out = PartitionAssignor.emptyAssignment(subscriptions);
        SortedMap<String, List<String>> membersByTopic = new TreeMap<>();
        for (Map.Entry<String, List<String>> e : subscriptions.entrySet()) {
            for (String topic : e.getValue()) {
                membersByTopic.computeIfAbsent(topic, t -> new ArrayList<>()).add(e.getKey());
            }
        }
        for (Map.Entry<String, List<String>> e : membersByTopic.entrySet()) {
            String topic = e.getKey();
            int partitions = partitionCounts.applyAsInt(topic);
            if (partitions <= 0) {
                continue;
            }
            List<String> members = e.getValue().stream().distinct().sorted().toList();
            int perMember = partitions / members.size();
            int extra = partitions % members.size();
            for (int i = 0; i < members.size(); i++) {
                int start = perMember * i + Math.min(i, extra);
                int length = perMember + (i < extra ? 1 : 0);
                if (length == 0) {
                    continue;
                }
                List<Integer> range = new ArrayList<>(length);
                for (int p = start; p < start + length; p++) {
                    range.add(p);
                }
                out.get(members.get(i)).put(topic, range);
            }
        }
        return out;
    }
}
