package io.raftmq.replication;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.replica.DivergingEpoch;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchPartitionResponse;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaFetchResponse;
import io.raftmq.protocol.replica.ReplicaGrpc;
import io.raftmq.protocol.rpc.InOrderAnswers;
import io.raftmq.protocol.rpc.UnaryAnswers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Replica gRPC service on a leader: answers followers' fetches through the {@link
 * ReplicaManager}, holding each one (without a thread) until it has records, an error or a
 * divergence to report, or its wait runs out.
 *
 * <p>Stateless; called on gRPC threads.
 */
public final class ReplicaGrpcService extends ReplicaGrpc.ReplicaImplBase {
    private final ReplicaManager replicas;
    private final int maxWaitCapMs;

    /** @param maxWaitCapMs the longest a follower's fetch may be held, whatever it asks */
    public ReplicaGrpcService(ReplicaManager replicas, int maxWaitCapMs) {
        this.replicas = replicas;
        this.maxWaitCapMs = maxWaitCapMs;
    }

    @Override
    public void replicaFetch(ReplicaFetchRequest request, StreamObserver<ReplicaFetchResponse> observer) {
        UnaryAnswers.answerWhenDone(observer, answer(request),
                (response, error) -> error == null ? response : errorResponse(error));
    }

    /**
     * One stream per follower: every request is answered as {@link #replicaFetch} would, and the
     * answers go out in the order of the requests (a follower sends one at a time; the chain keeps
     * the order even if one sent more). Runs on the transport thread (registered inline).
     */
    @Override
    public StreamObserver<ReplicaFetchRequest> replicaFetchStream(StreamObserver<ReplicaFetchResponse> observer) {
        return new InOrderAnswers<>(observer, this::answer, ReplicaGrpcService::errorResponse);
    }

    /** The answer to one fetch: when the leader has something for the follower or the wait ran out. */
    private CompletableFuture<ReplicaFetchResponse> answer(ReplicaFetchRequest request) {
        List<ReplicaManager.ReplicaFetchSpec> specs = new ArrayList<>(request.getPartitionsCount());
        for (ReplicaFetchPartition p : request.getPartitionsList()) {
            specs.add(new ReplicaManager.ReplicaFetchSpec(Uuids.fromProto(p.getTopicId()), p.getPartition(),
                    p.getFetchOffset(), p.hasDurableOffset() ? p.getDurableOffset() : p.getFetchOffset(),
                    p.getCurrentLeaderEpoch(), p.getLastFetchedEpoch(), p.getPartitionMaxBytes()));
        }
        long maxWaitMs = Math.max(0, Math.min(request.getMaxWaitMs(), maxWaitCapMs));
        // Both byte limits are capped by the replica manager's settings.
        return replicas.fetchForFollower(request.getReplicaId(), request.getBrokerEpoch(), maxWaitMs,
                request.getMaxBytes(), specs)
                .thenApply(ReplicaGrpcService::toResponse);
    }

    private static ReplicaFetchResponse errorResponse(Throwable error) {
        Throwable cause = Failures.unwrap(error);
        ApiError apiError = cause instanceof ReplicaManager.StaleBrokerEpochException
                ? new ApiError(ErrorCode.STALE_BROKER_EPOCH, cause.getMessage())
                : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "follower fetch failed: %s", cause);
        return ReplicaFetchResponse.newBuilder().setError(apiError.toProto()).build();
    }

    private static ReplicaFetchResponse toResponse(List<ReplicaManager.ReplicaFetchResult> results) {
        ReplicaFetchResponse.Builder response = ReplicaFetchResponse.newBuilder().setError(ApiError.NONE.toProto());
        for (ReplicaManager.ReplicaFetchResult r : results) {
            response.addPartitions(partitionResponse(r));
        }
        return response.build();
    }

    /** One partition's part of the answer. */
    static ReplicaFetchPartitionResponse partitionResponse(ReplicaManager.ReplicaFetchResult r) {
        ReplicaFetchPartitionResponse.Builder p = ReplicaFetchPartitionResponse.newBuilder()
                .setTopicId(Uuids.toProto(r.topicId()))
                .setPartition(r.partition())
                .setError(r.error().toProto())
                .setHighWatermark(r.highWatermark())
                .setLogStartOffset(r.logStartOffset());
        if (r.divergingEpoch() != null) {
            p.setDivergingEpoch(DivergingEpoch.newBuilder()
                    .setEpoch(r.divergingEpoch().epoch())
                    .setEndOffset(r.divergingEpoch().endOffset()));
        }
        if (r.records().hasRemaining()) {
            // Read from the log for this response only: no copy needed.
            p.setRecords(UnsafeByteOperations.unsafeWrap(r.records().duplicate()));
        }
        return p.build();
    }
}
