package io.raftmq.protocol.rpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The server side of a bidirectional stream whose answers go out in the order of its requests
 * (ProduceStream, ReplicaFetchStream): each request is answered by a future, and an answer is
 * written once it and every earlier one are complete, so a client matches each answer to its
 * oldest unanswered request. A client that went away is not written to; answers still pending are
 * dropped.
 *
 * <p>Threads: gRPC calls {@link #onNext} and {@link #onCompleted} one at a time, and only those
 * chain onto {@link #previous}; answers complete on any thread, and writes to the call are
 * serialized on the call's monitor.
 *
 * @param <Q> request type
 * @param <R> answer type
 */
public final class InOrderAnswers<Q, R> implements StreamObserver<Q> {
    private final ServerCallStreamObserver<R> call;
    private final Function<Q, CompletableFuture<R>> answer;
    private final Function<Throwable, R> onFailure;
    /** The latest request's answer, written or to be written. */
    private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

    /**
     * @param answer answers one request (may complete later, on any thread)
     * @param onFailure the answer to send when {@code answer} throws or its future fails
     */
    public InOrderAnswers(StreamObserver<R> observer, Function<Q, CompletableFuture<R>> answer,
            Function<Throwable, R> onFailure) {
        this.call = (ServerCallStreamObserver<R>) observer;
        this.answer = answer;
        this.onFailure = onFailure;
        call.setOnCancelHandler(() -> { });
    }

    @Override
    public void onNext(Q request) {
        CompletableFuture<R> next;
        try {
            next = answer.apply(request);
        } catch (RuntimeException e) {
            next = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<R> safe = next.exceptionally(onFailure);
        previous = previous.thenCombine(safe, (ignored, response) -> {
            write(response);
            return null;
        });
    }

    private void write(R response) {
        synchronized (call) {
            if (call.isCancelled()) {
                return;
            }
            try {
                call.onNext(response);
            } catch (IllegalStateException | StatusRuntimeException ended) {
                // The client went away between the check and the answer.
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        // Cancelled or broken: answers still pending find the call cancelled and are dropped.
    }

    @Override
    public void onCompleted() {
        previous.thenRun(() -> {
            synchronized (call) {
                try {
                    call.onCompleted();
                } catch (IllegalStateException | StatusRuntimeException ended) {
                    // Already over.
                }
            }
        });
    }
}
