package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConsumerRecordsTest {
    private static ConsumerRecord<String, String> record(TopicPartition tp, long offset) {
        return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, 0L, null, "v" + offset, List.of(),
                Optional.empty(), -1, 2);
    }

    @Test
    void iteratesPartitionByPartitionSkippingEmptyLists() {
        TopicPartition a = new TopicPartition("t", 0);
        TopicPartition empty = new TopicPartition("t", 1);
        TopicPartition b = new TopicPartition("u", 0);
        Map<TopicPartition, List<ConsumerRecord<String, String>>> byPartition = new LinkedHashMap<>();
        byPartition.put(a, List.of(record(a, 5), record(a, 6)));
        byPartition.put(empty, List.of());
        byPartition.put(b, List.of(record(b, 9)));
        ConsumerRecords<String, String> records = new ConsumerRecords<>(byPartition);

        List<String> seen = new ArrayList<>();
        for (ConsumerRecord<String, String> r : records) {
            seen.add(r.topic() + "-" + r.partition() + "@" + r.offset());
        }
        assertEquals(List.of("t-0@5", "t-0@6", "u-0@9"), seen);
        assertEquals(3, records.count());
        assertFalse(records.isEmpty());
        assertEquals(2, records.records("t").size());
        assertEquals(List.of(), records.records(empty));
        assertThrows(UnsupportedOperationException.class, () -> records.records(a).clear());

        Iterator<ConsumerRecord<String, String>> done = records.iterator();
        done.next();
        done.next();
        done.next();
        assertFalse(done.hasNext());
        assertThrows(NoSuchElementException.class, done::next);
    }

    @Test
    void onlyEmptyListsMeanEmpty() {
        TopicPartition a = new TopicPartition("t", 0);
        ConsumerRecords<String, String> records = new ConsumerRecords<>(Map.of(a, List.of()));
        assertTrue(records.isEmpty());
        assertEquals(0, records.count());
        assertFalse(records.iterator().hasNext());
        assertTrue(ConsumerRecords.empty().isEmpty());
    }
}
