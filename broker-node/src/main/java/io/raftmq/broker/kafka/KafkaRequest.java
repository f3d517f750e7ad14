package io.raftmq.broker.kafka;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * One Kafka request as its connection parsed it.
 *
 * <p>The body is the request's own copy, parsed from a heap buffer that belongs to this request
 * alone: record buffers in it (a Produce's batches) are writable, and a handler may write into
 * them (the leader stamps offsets and its epoch in place). Handlers only read everything else.
 *
 * @param connectionId the connection's id in this listener's logs ("127.0.0.1:51234-7")
 * @param receivedNs {@link System#nanoTime()} when the whole frame had arrived
 * @param loop the connection's event loop, where the answer is built ({@link #onLoop})
 * @param principal who the connection authenticated as ({@link KafkaPrincipal#ANONYMOUS} on a
 *     listener without authentication)
 */
record KafkaRequest(RequestHeader header, ApiMessage body, String connectionId, InetSocketAddress clientAddress,
        long receivedNs, Executor loop, KafkaPrincipal principal) {

    /** A request handled on the calling thread (tests), from an anonymous client. */
    KafkaRequest(RequestHeader header, ApiMessage body, String connectionId, InetSocketAddress clientAddress,
            long receivedNs) {
        this(header, body, connectionId, clientAddress, receivedNs, Runnable::run, KafkaPrincipal.ANONYMOUS);
    }

    /**
     * {@code toAnswer} applied to what {@code future} completes with, on the connection's event
     * loop: at once when the future is already done (the handler runs there), else handed to the
     * loop, so that answers are never built on the thread that completed a long poll, an acks=all
     * wait or a controller call (a shared scheduler, a replica fetch thread, the metadata thread).
     */
    <T> CompletableFuture<KafkaResponse> onLoop(CompletableFuture<T> future,
            Function<? super T, KafkaResponse> toAnswer) {
        return future.isDone() ? future.thenApply(toAnswer) : future.thenApplyAsync(toAnswer, loop);
    }

    ApiKeys apiKey() {
        return header.apiKey();
    }

    short apiVersion() {
        return header.apiVersion();
    }
}
