package io.raftmq.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.protocol.rpc.SaslLogin;
import io.raftmq.protocol.rpc.SaslSession;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel per broker address, created on first use and kept until {@link #close()}.
 * Channels use grpc-netty's shared event loop group, so a client costs no threads per broker.
 * Thread-safe (a concurrent map; channels are thread-safe).
 */
final class BrokerChannels implements AutoCloseable {
    /** Fetch responses can carry up to fetch.max.bytes (50 MiB by default) plus framing. */
    private static final int MAX_INBOUND_BYTES = 128 << 20;

    private final Map<BrokerAddress, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final String clientId;
    private final ChannelCredentials credentials;
    /** The SASL login (security.protocol=SASL_SSL or SASL_PLAINTEXT), or null. */
    private final SaslLogin sasl;
    private final long saslTimeoutMs;
    /** Runs SASL exchanges' callbacks off the event loops; threads start on first use. Null without SASL. */
    private final ExecutorService saslExecutor;
    private volatile boolean closed;
    /** Test seam: wraps every channel created after it is set (fault injection). */
    volatile io.grpc.ClientInterceptor interceptor;

    /**
     * HTTP/2 receive window per stream: a fetch answer of max.partition.fetch.bytes (1 MiB) for each of
     * a few partitions streams in without waiting for window updates (gRPC's default is 1 MiB).
     */
    static final int FLOW_CONTROL_WINDOW_BYTES = 8 * 1024 * 1024;

    /** Plaintext channels. */
    BrokerChannels(String clientId) {
        this(clientId, io.grpc.InsecureChannelCredentials.create());
    }

    /** @param credentials plaintext or TLS, as {@link ClientTls#credentials} makes them */
    BrokerChannels(String clientId, ChannelCredentials credentials) {
        this(clientId, credentials, null, 0);
    }

    /**
     * @param credentials plaintext or TLS, as {@link ClientTls#credentials} makes them
     * @param sasl the SASL login every channel authenticates with ({@link ClientSasl#login}), or null
     * @param saslTimeoutMs how long one SASL exchange may take
     */
    BrokerChannels(String clientId, ChannelCredentials credentials, SaslLogin sasl, long saslTimeoutMs) {
        this.clientId = clientId;
        this.credentials = credentials;
        this.sasl = sasl;
        this.saslTimeoutMs = saslTimeoutMs;
        this.saslExecutor = sasl == null ? null : Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "raftmq-sasl-" + clientId);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** The channels {@code values} (a client's settings) ask for: TLS and SASL from security.protocol. */
    static BrokerChannels of(String clientId, ConfigDef.Values values) {
        return new BrokerChannels(clientId, ClientTls.credentials(values), ClientSasl.login(values),
                values.intValue(CommonConfigs.REQUEST_TIMEOUT_MS));
    }

    ManagedChannel channel(BrokerAddress address) {
        if (closed) {
            throw new IllegalStateException("client " + clientId + " is closed");
        }
        return channels.computeIfAbsent(address, a -> {
            NettyChannelBuilder builder = NettyChannelBuilder.forAddress(a.host(), a.port(), credentials)
                    .maxInboundMessageSize(MAX_INBOUND_BYTES)
                    .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
                    .userAgent("raftmq-java/" + clientId)
                    .keepAliveTime(30, TimeUnit.SECONDS)
                    // Answers are handled on the transport thread: every callback only queues the
                    // answer for the sender or consumer thread, or completes a future someone waits
                    // on; none runs user code. Saves a thread hop per answer.
                    .directExecutor();
            io.grpc.ClientInterceptor extra = interceptor;
            if (sasl != null) {
                // Innermost: the test seam's interceptor, if any, sees the call with its session.
                builder.intercept(new SaslSession("broker " + a, sasl, saslTimeoutMs, saslExecutor,
                        () -> System.nanoTime() / 1_000_000, ClientSasl.FAILURES).interceptor());
            }
            if (extra != null) {
                builder.intercept(extra);
            }
            return builder.build();
        });
    }

    BrokerGrpc.BrokerFutureStub broker(BrokerAddress address, long timeoutMs) {
        return BrokerGrpc.newFutureStub(channel(address)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    GroupCoordinatorGrpc.GroupCoordinatorFutureStub group(BrokerAddress address, long timeoutMs) {
        return GroupCoordinatorGrpc.newFutureStub(channel(address))
                .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The call's outcome as a CompletableFuture, completed on a gRPC thread. */
    static <T> CompletableFuture<T> toCompletable(ListenableFuture<T> call) {
        CompletableFuture<T> out = new CompletableFuture<>();
        Futures.addCallback(call, new FutureCallback<T>() {
            @Override
            public void onSuccess(T result) {
                out.complete(result);
            }

            @Override
            public void onFailure(Throwable t) {
                out.completeExceptionally(t);
            }
        }, MoreExecutors.directExecutor());
        return out;
    }

    @Override
    public void close() {
        closed = true;
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        if (saslExecutor != null) {
            saslExecutor.shutdownNow();
        }
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        channels.clear();
    }
}
