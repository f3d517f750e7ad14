package io.raftmq.client;

import java.util.List;
import java.util.Objects;

/**
 * A record to send: the topic, an optional partition (null: chosen from the key, or sticky when
 * the key is null), an optional timestamp (null: the send time), key, value and headers.
 */
public record ProducerRecord<K, V>(String topic, Integer partition, Long timestamp, K key, V value,
        List<Header> headers) {
    public ProducerRecord {
        Objects.requireNonNull(topic, "topic");
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0, got " + partition);
        }
        if (timestamp != null && timestamp < 0) {
            throw new IllegalArgumentException("timestamp must be >= 0, got " + timestamp);
        }
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    public ProducerRecord(String topic, Integer partition, K key, V value) {
        this(topic, partition, null, key, value, List.of());
    }

    public ProducerRecord(String topic, K key, V value) {
        this(topic, null, null, key, value, List.of());
    }

    public ProducerRecord(String topic, V value) {
        this(topic, null, null, null, value, List.of());
    }
}
