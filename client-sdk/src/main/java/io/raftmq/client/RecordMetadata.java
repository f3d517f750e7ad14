package io.raftmq.client;

/**
 * Where an acknowledged record was written. {@code offset} is -1 with acks=0 (no answer is
 * awaited); {@code timestamp} is the create time, or the broker's time for LogAppendTime topics.
 */
public record RecordMetadata(TopicPartition topicPartition, long offset, long timestamp, int serializedKeySize,
        int serializedValueSize) {
    public String topic() {
        return topicPartition.topic();
    }

    public int partition() {
        return topicPartition.partition();
    }

    public boolean hasOffset() {
        return offset >= 0;
    }
}
