package io.raftmq.client;

import io.raftmq.protocol.record.RecordBatch;
import java.util.HashMap;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;

/**
 * The idempotent producer's identity and, per partition, its sequence numbers and in-flight
 * batches. Owned by the sender thread; nothing else reads or writes it.
 *
 * <p>States: NEEDS_ID (start, or after a reset was asked for) -> ACTIVE (producer id known; batches
 * get sequences) -> NEEDS_ID again after a sequence hole (a batch that had a sequence failed, or the
 * leader reported an unrecoverable gap or an unknown producer id): the sender waits until nothing is
 * in flight, asks for a new producer id, and starts every partition again at sequence 0. DISABLED
 * when idempotence is off (or the cluster does not offer producer ids and it was not asked for
 * explicitly): batches carry no producer id and no sequence.
 */
final class ProducerIdState {
    enum Mode { NEEDS_ID, ACTIVE, DISABLED }

    /** Per partition: the next sequence to hand out, the last acknowledged one, what is in flight. */
    static final class PartitionSequences {
        int nextSequence;
        int lastAckedSequence = -1;
        final Set<ProducerBatch> inFlight = new HashSet<>();

        /** The sequence the leader expects next. */
        int expectedSequence() {
            return RecordBatch.incrementSequence(lastAckedSequence, 1);
        }
    }

    Mode mode;
    long producerId = RecordBatch.NO_PRODUCER_ID;
    short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private final Map<TopicPartition, PartitionSequences> partitions = new HashMap<>();

    ProducerIdState(boolean idempotent) {
        this.mode = idempotent ? Mode.NEEDS_ID : Mode.DISABLED;
    }

    boolean active() {
        return mode == Mode.ACTIVE;
    }

    PartitionSequences partition(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> new PartitionSequences());
    }

    int inFlightTotal() {
        int n = 0;
        for (PartitionSequences p : partitions.values()) {
            n += p.inFlight.size();
        }
        return n;
    }

    /** A new producer id: every partition starts again at sequence 0. */
    void setProducerId(long id, short epoch) {
        producerId = id;
        producerEpoch = epoch;
        mode = Mode.ACTIVE;
        for (PartitionSequences p : partitions.values()) {
            p.nextSequence = 0;
            p.lastAckedSequence = -1;
        }
    }

    /** Asks for a new producer id once nothing is in flight. */
    void requestReset() {
        if (mode == Mode.ACTIVE) {
            mode = Mode.NEEDS_ID;
        }
    }
}
