package io.raftmq.protocol.rpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * The server side of a unary call answered later: the response goes out when a future completes,
 * unless the client went away meanwhile (cancelled, or its deadline passed), in which case nothing
 * is written. Stateless.
 *
 * <p>Threads: {@link #answerWhenDone} is called on the call's gRPC thread, inside the service
 * method; the answer is written on whichever thread completes the future.
 */
public final class UnaryAnswers {
    private UnaryAnswers() {
    }

    /**
     * When {@code future} completes, sends {@code toResponse(value, failure)} and completes the call,
     * unless the call was cancelled by then.
     *
     * @param toResponse makes the response of a success ({@code failure} null) or of a failure; must
     *     not throw, as nothing would then answer the call
     */
    public static <T, R> void answerWhenDone(StreamObserver<R> observer, CompletableFuture<T> future,
            BiFunction<? super T, Throwable, R> toResponse) {
        ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) observer;
        call.setOnCancelHandler(() -> { });
        future.whenComplete((value, failure) -> {
            if (call.isCancelled()) {
                return;
            }
            R response = toResponse.apply(value, failure);
            try {
                call.onNext(response);
                call.onCompleted();
            } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
                // The call ended (cancelled, deadline) between the check and the answer.
            }
        });
    }
}
