package io.raftmq.client;

import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Blocking request helper for Admin and the consumer's coordinator calls: sends a request to a broker
 * chosen per attempt and retries transport failures and retriable top-level errors with a backoff
 * until the deadline. Stateless apart from its settings; any thread.
 */
final class Rpc {
    /**
     * How much longer than a call's gRPC deadline its caller waits for the answer: long enough that
     * the deadline fails the call first (DEADLINE_EXCEEDED, which the retry rules know), so the
     * local wait only ends a call whose future never completes.
     */
    static final long DEADLINE_GRACE_MS = 1000;

    /** Sends one attempt to the given broker. */
    interface Attempt<T> {
        Future<T> send(BrokerAddress broker, long timeoutMs);
    }

    private final ClusterMetadata metadata;
    private final long requestTimeoutMs;
    private final long retryBackoffMs;
    private final LongSupplier clockMs;

    Rpc(ClusterMetadata metadata, long requestTimeoutMs, long retryBackoffMs, LongSupplier clockMs) {
        this.metadata = metadata;
        this.requestTimeoutMs = requestTimeoutMs;
        this.retryBackoffMs = retryBackoffMs;
        this.clockMs = clockMs;
    }

    long now() {
        return clockMs.getAsLong();
    }

    /** Any broker (rotating on failure); the answer's top-level error, if any, is thrown typed. */
    <T> T callAny(String what, Attempt<T> attempt, Function<T, Error> errorOf, long deadlineMs) {
        return call(what, () -> metadata.anyBroker(), attempt, errorOf, deadlineMs);
    }

    /** Like {@link #callAny} with the broker chosen by {@code target} on each attempt. */
    <T> T call(String what, java.util.function.Supplier<BrokerAddress> target, Attempt<T> attempt,
            Function<T, Error> errorOf, long deadlineMs) {
        RaftmqException last;
        while (true) {
            long timeout = Math.max(1, Math.min(requestTimeoutMs, deadlineMs - now()));
            try {
                T response = awaitAnswer(attempt.send(target.get(), timeout), timeout);
                Error error = errorOf.apply(response);
                if (error.getCode() == ErrorCode.NONE) {
                    return response;
                }
                last = Errors.exception(error);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptException(ErrorCode.NONE, "interrupted during " + what, e);
            } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
                last = Errors.fromThrowable(e);
                if (last instanceof InterruptException) {
                    throw last;
                }
            }
            if (!last.isRetriable()) {
                throw last;
            }
            metadata.rotate();
            if (Errors.REFRESH_METADATA.contains(last.code())) {
                metadata.requestUpdate();
            }
            if (now() + retryBackoffMs >= deadlineMs) {
                throw new TimeoutException(last.code(), what + " did not succeed in time; last error: "
                        + last.getMessage(), last);
            }
            sleep(retryBackoffMs);
        }
    }

    /**
     * Waits for the answer to a call made with a gRPC deadline of {@code callTimeoutMs}, a little
     * longer than the deadline ({@link #DEADLINE_GRACE_MS}).
     */
    static <T> T awaitAnswer(Future<T> call, long callTimeoutMs)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        return call.get(callTimeoutMs + DEADLINE_GRACE_MS, TimeUnit.MILLISECONDS);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(ErrorCode.NONE, "interrupted while waiting to retry", e);
        }
    }
}
