package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerRebalanceListener;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.RaftmqException;
import io.raftmq.client.TopicPartition;
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
        Map<TopicPartition, OffsetAndMetadata> changed = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            OffsetAndMetadata at = next.get(tp);
            if (at == null) {
                // No record of it returned yet, so its position is where the next one would be.
                at = new OffsetAndMetadata(consumer.position(tp), Optional.empty(), "");
            }
            if (!at.equals(committed.get(tp))) {
                changed.put(tp, at);
            }
        }
        if (!changed.isEmpty()) {
            consumer.commitSync(changed);
            committed.putAll(changed);
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> printedThere = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata at = next.get(tp);
            if (at != null && !at.equals(committed.get(tp))) {
                printedThere.put(tp, at);
            }
        }
        try {
            if (!printedThere.isEmpty()) {
                consumer.commitSync(printedThere);
            }
        } catch (RaftmqException e) {
            // The partition's next owner starts at its last commit and prints these records again.
        }
        // Whoever owns them next moves them on; a later assignment starts from their commits.
        next.keySet().removeAll(partitions);
        committed.keySet().removeAll(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        // Their resume points come from the records poll returns, or their positions.
    }
}
