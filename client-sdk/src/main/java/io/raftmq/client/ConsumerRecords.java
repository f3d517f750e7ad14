package io.raftmq.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The records one {@link Consumer#poll} returned, by partition, each partition in offset order. */
public final class ConsumerRecords<K, V> implements Iterable<ConsumerRecord<K, V>> {
    private final Map<TopicPartition, List<ConsumerRecord<K, V>>> records;

    public ConsumerRecords(Map<TopicPartition, List<ConsumerRecord<K, V>>> records) {
        Map<TopicPartition, List<ConsumerRecord<K, V>>> copy = new LinkedHashMap<>();
        records.forEach((tp, list) -> copy.put(tp, List.copyOf(list)));
        this.records = Collections.unmodifiableMap(copy);
    }

    public static <K, V> ConsumerRecords<K, V> empty() {
        return new ConsumerRecords<>(Map.of());
    }

    public List<ConsumerRecord<K, V>> records(TopicPartition partition) {
        return records.getOrDefault(partition, List.of());
    }

    /** Every record of {@code topic}, partition by partition. */
    public List<ConsumerRecord<K, V>> records(String topic) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        records.forEach((tp, list) -> {
            if (tp.topic().equals(topic)) {
                out.addAll(list);
            }
        });
        return out;
    }

    public Set<TopicPartition> partitions() {
        return records.keySet();
    }

    public int count() {
        return records.values().stream().mapToInt(List::size).sum();
    }

    public boolean isEmpty() {
        return count() == 0;
    }

    @Override
    public Iterator<ConsumerRecord<K, V>> iterator() {
        return records.values().stream().flatMap(List::stream).iterator();
    }
}
