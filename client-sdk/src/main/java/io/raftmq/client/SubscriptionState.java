package io.raftmq.client;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the consumer reads: either partitions assigned by hand, or topics subscribed through the
 * group (the group's coordinator then assigns partitions), and per assigned partition the position
 * (next offset to return) or a pending reset.
 *
 * <p>Owned by the thread that calls the consumer; not thread-safe.
 */
final class SubscriptionState {
    enum Mode { NONE, ASSIGNED, SUBSCRIBED }

    /** How to find a position that is not known. */
    enum Reset { NONE, COMMITTED_OR_POLICY, EARLIEST, LATEST }

    static final class PartitionState {
        long position = -1;
        int lastEpoch = -1;
        Reset reset = Reset.COMMITTED_OR_POLICY;

        boolean hasPosition() {
            return reset == Reset.NONE && position >= 0;
        }
    }

    Mode mode = Mode.NONE;
    final Set<String> topics = new LinkedHashSet<>();
    ConsumerRebalanceListener listener;
    private final Map<TopicPartition, PartitionState> assigned = new LinkedHashMap<>();

    void subscribe(Collection<String> newTopics, ConsumerRebalanceListener newListener) {
        if (mode == Mode.ASSIGNED) {
            throw new IllegalStateException("subscribe() and assign() cannot both be used on one consumer;"
                    + " call unsubscribe() first");
        }
        mode = Mode.SUBSCRIBED;
        topics.clear();
        topics.addAll(newTopics);
        listener = newListener;
    }

    void assignManually(Collection<TopicPartition> partitions) {
        if (mode == Mode.SUBSCRIBED) {
            throw new IllegalStateException("subscribe() and assign() cannot both be used on one consumer;"
                    + " call unsubscribe() first");
        }
        mode = partitions.isEmpty() ? Mode.NONE : Mode.ASSIGNED;
        setAssignment(partitions);
    }

    /** Keeps the state of partitions still assigned; new ones start without a position. */
    void setAssignment(Collection<TopicPartition> partitions) {
        Map<TopicPartition, PartitionState> next = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            PartitionState s = assigned.get(tp);
            next.put(tp, s != null ? s : new PartitionState());
        }
        assigned.clear();
        assigned.putAll(next);
    }

    void unsubscribe() {
        mode = Mode.NONE;
        topics.clear();
        assigned.clear();
        listener = null;
    }

    Set<TopicPartition> assignment() {
        return assigned.keySet();
    }

    boolean isAssigned(TopicPartition tp) {
        return assigned.containsKey(tp);
    }

    PartitionState state(TopicPartition tp) {
        PartitionState s = assigned.get(tp);
        if (s == null) {
            throw new IllegalStateException("partition " + tp + " is not assigned to this consumer");
        }
        return s;
    }

    void seek(TopicPartition tp, long offset, int epoch) {
        PartitionState s = state(tp);
        s.position = offset;
        s.lastEpoch = epoch;
        s.reset = Reset.NONE;
    }

    void requestReset(TopicPartition tp, Reset reset) {
        state(tp).reset = reset;
    }

    List<TopicPartition> needingPosition() {
        return assigned.entrySet().stream().filter(e -> !e.getValue().hasPosition()).map(Map.Entry::getKey)
                .toList();
    }

    /** Positions of every partition that has one, as offsets to commit. */
    Map<TopicPartition, OffsetAndMetadata> allConsumed() {
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        assigned.forEach((tp, s) -> {
            if (s.hasPosition()) {
                out.put(tp, new OffsetAndMetadata(s.position, s.lastEpoch < 0 ? java.util.Optional.empty()
                        : java.util.Optional.of(s.lastEpoch), ""));
            }
        });
        return out;
    }
}
