package io.raftmq.client;

/**
 * Told the outcome of one send. Runs on the producer's I/O thread: keep it short, and never call
 * blocking producer methods (flush, close) from it.
 */
@FunctionalInterface
public interface Callback {
    /** Exactly one of {@code metadata} and {@code exception} is non-null. */
    void onCompletion(RecordMetadata metadata, Exception exception);
}
