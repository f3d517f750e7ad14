package io.raftmq.replication;

import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A follower's fetch waiting on the leader until one of its partitions has records past the
 * follower's position (the leader appended), or max_wait passes; then it reads. The follower's
 * position was recorded when the fetch arrived, so waiting does not hold up the high watermark.
 */
final class DelayedReplicaFetch<R> extends DelayedOperation {
    private final BooleanSupplier ready;
    private final Supplier<R> read;
    private final CompletableFuture<R> answer;

    DelayedReplicaFetch(BooleanSupplier ready, Supplier<R> read, CompletableFuture<R> answer) {
        this.ready = ready;
        this.read = read;
        this.answer = answer;
    }

    @Override
    boolean tryComplete() {
        return ready.getAsBoolean() && forceComplete();
    }

    @Override
    void onComplete() {
        try {
            answer.complete(read.get());
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
    }
}
