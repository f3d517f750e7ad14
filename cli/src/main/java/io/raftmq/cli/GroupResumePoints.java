package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerRebalanceListener;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.TopicPartition;
import io.raftmq.client.errors.RaftmqException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a console consumer in a group resumes, per assigned partition: after the last record it
 * printed, else at the first record poll returned that it did not print (it stopped at
 * --max-messages), else where the consumer stands (its committed offset, or the reset policy's).
 * Every assigned partition is committed, as Kafka's consumer commits every assigned partition's
 * position, so a restart does not apply "latest" to a partition this member read nothing from and
 * skip its records. Never past a record that was not printed.
 *
 * <p>Owned by the consumer's thread: poll calls the rebalance callbacks on it.
 */
final class GroupResumePoints implements ConsumerRebalanceListener {
    private final Consumer<?, ?> consumer;
    /** Partitions poll returned records of: the first record not printed. */
    private final Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    /** What this member last committed, per assigned partition. */
    private final Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();

    GroupResumePoints(Consumer<?, ?> consumer) {
        this.consumer = consumer;
    }

    void printed(ConsumerRecord<?, ?> record) {
        next.put(record.topicPartition(), new OffsetAndMetadata(record.offset() + 1, record.leaderEpoch(), ""));
    }

    void notPrinted(ConsumerRecord<?, ?> record) {
        next.putIfAbsent(record.topicPartition(), new OffsetAndMetadata(record.offset(), record.leaderEpoch(), ""));
    }

    /** Commits every assigned partition whose resume point moved since this member last committed it. */
    void commit() {
        Map<TopicPartition, OffsetAndMetadata> points = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            OffsetAndMetadata at = next.get(tp);
            // No record of it returned yet: its position is where the next one would be.
            points.put(tp, at != null ? at : new OffsetAndMetadata(consumer.position(tp), Optional.empty(), ""));
        }
        commitMoved(points);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> points = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata at = next.get(tp);
            if (at != null) {
                points.put(tp, at);
            }
        }
        try {
            commitMoved(points);
        } catch (RaftmqException e) {
            // The partition's next owner starts at its last commit and prints these records again.
        }
        // Whoever owns them next moves them on; a later assignment starts from their commits.
        next.keySet().removeAll(partitions);
        committed.keySet().removeAll(partitions);
    }

    /** Commits those of {@code points} that differ from what this member last committed. */
    private void commitMoved(Map<TopicPartition, OffsetAndMetadata> points) {
        points.entrySet().removeIf(e -> e.getValue().equals(committed.get(e.getKey())));
        if (!points.isEmpty()) {
            consumer.commitSync(points);
            committed.putAll(points);
        }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        // Their resume points come from the records poll returns, or their positions.
    }
}
