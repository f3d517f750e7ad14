package io.raftmq.replication;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A produce waiting until, for every partition it appended to, the leader's own copy is durable
 * per the log's flush mode and, with acks=all, the high watermark covers the appended records (in
 * the leader epoch they were appended in, with min.insync.replicas in the ISR). Answers
 * REQUEST_TIMED_OUT for partitions not there in time, NOT_LEADER_OR_FOLLOWER where leadership
 * moved first, NOT_ENOUGH_REPLICAS_AFTER_APPEND (acks=all only) where the ISR shrank below
 * min.insync.replicas, STORAGE_ERROR where the leader's log failed before the records were
 * flushed.
 *
 * <p>Completed by whichever thread sees it ready, holding no lock: {@link #tryComplete} takes each
 * partition's lock in turn, never two at once.
 */
final class DelayedProduce extends DelayedOperation {

    /**
     * One appended partition: where its records end, whether they must be replicated (acks=all)
     * or only durable here (acks=1), and when its local write is durable.
     */
    record Pending(Partition partition, int leaderEpoch, boolean acksAll, long requiredOffset,
            CompletableFuture<Void> durable, ProduceResult success) {

        /** null while the records wait for the ISR; else NONE or the error that ends the wait. */
        ApiError status() {
            return acksAll ? partition.replicationStatus(leaderEpoch, requiredOffset)
                    : partition.leadershipStatus(leaderEpoch);
        }
    }

    private final Map<TopicPartition, ProduceResult> results;
    private final Map<TopicPartition, Pending> pending;
    private final long timeoutMs;
    private final CompletableFuture<Map<TopicPartition, ProduceResult>> answer;

    DelayedProduce(Map<TopicPartition, ProduceResult> results, Map<TopicPartition, Pending> pending, long timeoutMs,
            CompletableFuture<Map<TopicPartition, ProduceResult>> answer) {
        this.results = results;
        this.pending = pending;
        this.timeoutMs = timeoutMs;
        this.answer = answer;
    }

    @Override
    boolean tryComplete() {
        for (Pending p : pending.values()) {
            if (p.durable().isCompletedExceptionally()) {
                continue; // the log failed: this partition's answer is STORAGE_ERROR
            }
            ApiError status = p.status();
            if (status == null || (status.isSuccess() && !p.durable().isDone())) {
                return false;
            }
        }
        return forceComplete();
    }

    @Override
    void onComplete() {
        Map<TopicPartition, ProduceResult> out = new LinkedHashMap<>(results);
        for (Map.Entry<TopicPartition, Pending> entry : pending.entrySet()) {
            Pending p = entry.getValue();
            ApiError status = p.status();
            ProduceResult result;
            if (p.durable().isCompletedExceptionally()) {
                result = ProduceResult.error(ApiError.of(ErrorCode.STORAGE_ERROR, "the log of %s failed before the"
                        + " records were flushed", entry.getKey()), p.partition().leader(), p.leaderEpoch());
            } else if (status == null) {
                result = ProduceResult.error(ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "the records of %s were not"
                        + " replicated to every in-sync replica within %d ms; they may still be", entry.getKey(),
                        timeoutMs), p.partition().leader(), p.leaderEpoch());
            } else if (status.isFailure()) {
                result = ProduceResult.error(status, p.partition().leader(), p.partition().leaderEpoch());
            } else if (!p.durable().isDone()) {
                result = ProduceResult.error(ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "the records of %s were not"
                        + " flushed to disk within %d ms", entry.getKey(), timeoutMs), p.partition().leader(),
                        p.leaderEpoch());
            } else {
                result = p.success();
            }
            out.put(entry.getKey(), result);
        }
        answer.complete(out);
    }
}
