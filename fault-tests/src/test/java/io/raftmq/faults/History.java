package io.raftmq.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Everything the workload saw during one fault run: each acknowledgement, each record a consumer
 * read (with the consumer's assignment changes in order), each acknowledged offset commit and each
 * committed offset an admin read back. The checker judges it after the run.
 *
 * <p>Threads: acknowledgements, commits and samples are added from any thread (concurrent queues);
 * a consumer's event list is written only by that consumer's thread and read after it stopped.
 */
final class History {
    /** A record some producer had acknowledged: {@code id} is its value, unique in the run. */
    /**
     * An acknowledged record: {@code sentNanos} when the application called send() (before any
     * append of it, retries included), {@code nanos} when the acknowledgement arrived.
     */
    record Ack(String producer, boolean idempotent, String id, int partition, long offset, long sentNanos,
            long nanos) {}

    /** One event in a consumer's life, in the order its thread saw them. */
    sealed interface ConsumerEvent {}

    /** The consumer now owns these partitions (reading restarts from the committed offset). */
    record Assigned(List<Integer> partitions) implements ConsumerEvent {}

    /** The consumer gave these partitions up. */
    record Revoked(List<Integer> partitions) implements ConsumerEvent {}

    /** A record read. */
    record Consumed(int partition, long offset, String value) implements ConsumerEvent {}

    /**
     * A commit the coordinator acknowledged ({@code nanos}: when the answer arrived), or a committed
     * offset read back (source "admin"; {@code nanos}: when the read was sent).
     */
    record Commit(String source, int partition, long offset, long nanos) {}

    final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Commit> commitAcks = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Commit> commitSamples = new ConcurrentLinkedQueue<>();
    /** Consumer name -> its events (the list is owned by that consumer's thread). */
    final Map<String, List<ConsumerEvent>> consumers = new ConcurrentHashMap<>();
    /** Producer name -> sends that failed (their outcome is unknown: they may or may not be stored). */
    final Map<String, AtomicLong> sendFailures = new ConcurrentHashMap<>();
    final Map<String, AtomicLong> sent = new ConcurrentHashMap<>();
    /** Partition -> one past the highest offset any member of the group read. */
    final Map<Integer, Long> consumedTo = new ConcurrentHashMap<>();

    List<ConsumerEvent> consumer(String name) {
        return consumers.computeIfAbsent(name, n -> new ArrayList<>());
    }

    long acksOf(int partition) {
        return acks.stream().filter(a -> a.partition() == partition).count();
    }
}
