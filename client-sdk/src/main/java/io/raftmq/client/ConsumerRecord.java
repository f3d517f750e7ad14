package io.raftmq.client;

import java.util.List;
import java.util.Optional;

/**
 * A record read by the consumer. {@code leaderEpoch} is the epoch of the leader that wrote it, when
 * the batch carries one.
 */
public record ConsumerRecord<K, V>(String topic, int partition, long offset, long timestamp, K key, V value,
        List<Header> headers, Optional<Integer> leaderEpoch, int serializedKeySize, int serializedValueSize) {
    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }
}
