package io.raftmq.replication;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.replica.DivergingEpoch;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchPartitionResponse;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaFetchResponse;
import io.raftmq.protocol.replica.ReplicaGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

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
        List<ReplicaManager.ReplicaFetchSpec> specs = new ArrayList<>(request.getPartitionsCount());
        for (ReplicaFetchPartition p : request.getPartitionsList()) {
            specs.add(new ReplicaManager.ReplicaFetchSpec(Uuids.fromProto(p.getTopicId()), p.getPartition(),
                    p.getFetchOffset(), p.getCurrentLeaderEpoch(), p.getLastFetchedEpoch(),
                    Math.max(1, p.getPartitionMaxBytes())));
        }
        long maxWaitMs = Math.max(0, Math.min(request.getMaxWaitMs(), maxWaitCapMs));
        int maxBytes = request.getMaxBytes() <= 0 ? Integer.MAX_VALUE : request.getMaxBytes();
        ServerCallStreamObserver<ReplicaFetchResponse> call = (ServerCallStreamObserver<ReplicaFetchResponse>) observer;
        call.setOnCancelHandler(() -> { });
        replicas.fetchForFollower(request.getReplicaId(), request.getBrokerEpoch(), maxWaitMs, maxBytes, specs)
                .whenComplete((results, error) -> {
                    if (call.isCancelled()) {
                        return;
                    }
                    ReplicaFetchResponse response;
                    try {
                        response = error == null ? toResponse(results) : errorResponse(error);
                    } catch (RuntimeException e) {
                        response = errorResponse(e);
                    }
                    try {
                        call.onNext(response);
                        call.onCompleted();
                    } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
                        // The call ended (cancelled, deadline) between the check and the answer.
                    }
                });
    }

    private static ReplicaFetchResponse errorResponse(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        ApiError apiError = cause instanceof ReplicaManager.StaleBrokerEpochException
                ? new ApiError(ErrorCode.STALE_BROKER_EPOCH, cause.getMessage())
                : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "follower fetch failed: %s", cause);
        return ReplicaFetchResponse.newBuilder().setError(apiError.toProto()).build();
    }

    private static ReplicaFetchResponse toResponse(List<ReplicaManager.ReplicaFetchResult> results) {
        ReplicaFetchResponse.Builder response = ReplicaFetchResponse.newBuilder().setError(ApiError.NONE.toProto());
        for (ReplicaManager.ReplicaFetchResult r : results) {
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
            response.addPartitions(p);
        }
        return response.build();
    }
}
