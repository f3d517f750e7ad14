package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import io.raftmq.common.Time;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.replication.Partition;
import io.raftmq.replication.ProduceResult;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.storage.LogSlice;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One __consumer_offsets partition as its leader at one leader epoch sees it: appends records
 * through the {@link ReplicaManager} (acks=all, so that an answer means the in-sync replicas have
 * them), reads the local log back for loading, and moves the log start after a checkpoint.
 *
 * <p>Every call is refused once the partition is led at another epoch (or not here). Completion
 * callbacks run on {@code owner} (the coordinator's event loop). Thread-safe: no state of its own.
 */
final class OffsetsPartitionLog implements GroupShard.Writer {
    /** Records are packed into batches of about this size (well under max.message.bytes). */
    static final int BATCH_BYTES = 256 << 10;

    final TopicPartition tp;
    final int leaderEpoch;
    private final ReplicaManager replicas;
    private final int commitTimeoutMs;
    private final Executor owner;
    private final Time time;

    OffsetsPartitionLog(TopicPartition tp, int leaderEpoch, ReplicaManager replicas, int commitTimeoutMs,
            Executor owner, Time time) {
        this.tp = tp;
        this.leaderEpoch = leaderEpoch;
        this.replicas = replicas;
        this.commitTimeoutMs = commitTimeoutMs;
        this.owner = owner;
        this.time = time;
    }

    /** The partition if this broker still leads it at this log's epoch, else null. */
    Partition leaderPartition() {
        Partition p = replicas.partition(tp);
        return p != null && p.isLeaderAt(leaderEpoch) ? p : null;
    }

    @Override
    public ApiError append(List<CoordinatorRecord> records, Consumer<ApiError> onCommitted) {
        return appendAndThen(records, result -> onCommitted.accept(result.error()));
    }

    /**
     * Appends; NONE when the records are in the local log ({@code onDone} follows on the owner with
     * the result: its error mapped to a coordinator error, and its base offset), else the error.
     */
    ApiError appendAndThen(List<CoordinatorRecord> records, Consumer<ProduceResult> onDone) {
        if (leaderPartition() == null) {
            return notCoordinator();
        }
        CompletableFuture<Map<TopicPartition, ProduceResult>> future = replicas.appendRecords(-1, commitTimeoutMs,
                Map.of(tp, encode(records, time.milliseconds())));
        if (future.isDone() && !future.isCompletedExceptionally()) {
            ProduceResult r = future.join().get(tp);
            if (r.error().isFailure()) {
                return coordinatorError(r.error()); // refused before anything was written
            }
        }
        future.whenComplete((results, failure) -> {
            ProduceResult r = failure != null
                    ? new ProduceResult(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "appending to %s failed: %s", tp,
                            failure), -1, -1, -1, -1, -1)
                    : results.get(tp);
            ProduceResult mapped = r.error().isSuccess() ? r : new ProduceResult(coordinatorError(r.error()),
                    r.baseOffset(), r.logAppendTimeMs(), r.logStartOffset(), r.currentLeader(),
                    r.currentLeaderEpoch());
            try {
                owner.execute(() -> onDone.accept(mapped));
            } catch (RejectedExecutionException closing) {
                // The coordinator is closing; the client's call ends with the server.
            }
        });
        return ApiError.NONE;
    }

    /** Moves the log start to {@code offset} (a checkpoint's first offset, committed). */
    ApiError deleteRecordsBefore(long offset) {
        Partition p = replicas.partition(tp);
        if (p == null) {
            return notCoordinator();
        }
        try {
            return p.deleteRecordsBeforeAsLeader(leaderEpoch, offset);
        } catch (IOException e) {
            return ApiError.of(ErrorCode.STORAGE_ERROR, "moving the log start of %s to %d failed: %s", tp, offset, e);
        }
    }

    /** Replays the local log from its start to its end into {@code shard}; returns how many records. */
    long replayInto(GroupShard shard) throws IOException {
        Partition p = leaderPartition();
        if (p == null) {
            throw new IOException(tp + " is no longer led here at leader epoch " + leaderEpoch);
        }
        PartitionLog log = p.log();
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        long offset = start;
        long count = 0;
        while (offset < end) {
            ReadResult read = log.read(offset, 1 << 20, end, true);
            if (!(read instanceof ReadResult.Slice slice)) {
                throw new IOException("reading " + tp + " at offset " + offset + " failed: " + read);
            }
            LogSlice records = slice.records();
            if (records.isEmpty()) {
                throw new IOException("reading " + tp + " at offset " + offset + " found nothing before its log end "
                        + end);
            }
            for (RecordBatch batch : RecordBatch.readAll(records.read())) {
                for (Record record : batch.records()) {
                    if (record.offset() >= start && record.offset() < end) {
                        shard.replay(CoordinatorRecord.decode(record));
                        count++;
                    }
                }
            }
            offset = records.nextOffset();
        }
        return count;
    }

    static ByteBuffer encode(List<CoordinatorRecord> records, long timestampMs) {
        List<ByteBuffer> batches = new ArrayList<>();
        RecordBatchBuilder builder = null;
        for (CoordinatorRecord r : records) {
            if (builder != null && builder.estimatedSizeInBytes() >= BATCH_BYTES) {
                batches.add(builder.build());
                builder = null;
            }
            if (builder == null) {
                builder = new RecordBatchBuilder(CompressionType.NONE, 1024);
            }
            builder.append(timestampMs, r.keyBytes(), r.valueBytes());
        }
        if (builder != null) {
            batches.add(builder.build());
        }
        ByteBuffer all = ByteBuffer.allocate(batches.stream().mapToInt(ByteBuffer::remaining).sum());
        batches.forEach(all::put);
        return all.flip();
    }

    private ApiError notCoordinator() {
        return ApiError.of(ErrorCode.NOT_COORDINATOR, "this broker no longer leads %s at leader epoch %d", tp,
                leaderEpoch);
    }

    /** Kafka's mapping of log errors to what a group client acts on. */
    static ApiError coordinatorError(ApiError error) {
        ErrorCode mapped = switch (error.code()) {
            case NONE -> ErrorCode.NONE;
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                    ErrorCode.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, STORAGE_ERROR, FENCED_LEADER_EPOCH -> ErrorCode.NOT_COORDINATOR;
            case RECORD_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
            default -> error.code();
        };
        return mapped == error.code() ? error : new ApiError(mapped, error.message());
    }
}
