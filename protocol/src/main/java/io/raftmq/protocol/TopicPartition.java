package io.raftmq.protocol;

/** A partition of a topic, by name and index. */
public record TopicPartition(String topic, int partition) {

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
