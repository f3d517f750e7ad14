package io.raftmq.replication;

import io.raftmq.protocol.TopicPartition;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A consumer fetch waiting (long poll) until at least min_bytes are readable below the high
 * watermarks of its partitions, a partition's state needs an answer (leadership moved), or
 * max_wait passes; then it reads.
 */
final class DelayedFetch extends DelayedOperation {
    private final Map<TopicPartition, FetchSpec> specs;
    private final int minBytes;
    private final Function<Map<TopicPartition, FetchSpec>, Integer> readableBytes;
    private final Function<Map<TopicPartition, FetchSpec>, Map<TopicPartition, FetchResult>> read;
    private final CompletableFuture<Map<TopicPartition, FetchResult>> answer;

    /**
     * @param readableBytes how many bytes the fetch could read now (Integer.MAX_VALUE when a
     *     partition needs an answer regardless)
     * @param read does the reads
     */
    DelayedFetch(Map<TopicPartition, FetchSpec> specs, int minBytes,
            Function<Map<TopicPartition, FetchSpec>, Integer> readableBytes,
            Function<Map<TopicPartition, FetchSpec>, Map<TopicPartition, FetchResult>> read,
            CompletableFuture<Map<TopicPartition, FetchResult>> answer) {
        this.specs = new LinkedHashMap<>(specs);
        this.minBytes = minBytes;
        this.readableBytes = readableBytes;
        this.read = read;
        this.answer = answer;
    }

    @Override
    boolean tryComplete() {
        return readableBytes.apply(specs) >= minBytes && forceComplete();
    }

    @Override
    void onComplete() {
        try {
            answer.complete(read.apply(specs));
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
    }
}
