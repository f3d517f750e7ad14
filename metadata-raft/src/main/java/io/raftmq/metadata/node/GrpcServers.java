package io.raftmq.metadata.node;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * How raftmq builds its gRPC servers: every node accepts its clients' keepalive pings, and the
 * methods named "inline" run on the connection's transport thread in the order their calls
 * arrive.
 *
 * <p>Why inline: gRPC hands each call to a thread pool, so two unary calls sent one after the
 * other on one connection can reach the application in either order. A producer that pipelines
 * several produce requests to a leader needs them appended in the order it sent them (that is what
 * lets it keep five batches of a partition in flight). An inline method must not block: it does its
 * short, lock-bounded work and answers later through a future. Every other method runs as gRPC
 * would run it by default: serialized per call on a shared pool ({@link #HANDLERS}).
 */
public final class GrpcServers {
    /** Largest request or response message: a record batch upload or a metadata snapshot chunk. */
    public static final int MAX_MESSAGE_BYTES = 64 << 20;

    /** Runs the callbacks of every call that is not inline; shared by the servers of a process, as gRPC's own. */
    private static final ExecutorService HANDLERS = Executors.newCachedThreadPool(
            new ThreadFactoryBuilder().setNameFormat("grpc-handler-%d").setDaemon(true).build());

    private GrpcServers() {}

    /**
     * A started server on {@code host:port} (host "0.0.0.0" for every interface) hosting
     * {@code services}, all of whose methods run on the handler pool.
     */
    public static Server start(String host, int port, List<BindableService> services) throws IOException {
        return start(host, port, services, Set.of());
    }

    /**
     * As {@link #start(String, int, List)}, with the methods named in {@code inlineMethods} (full
     * method names, e.g. {@code raftmq.broker.Broker/Produce}) run on the transport thread in
     * arrival order.
     */
    public static Server start(String host, int port, List<BindableService> services, Set<String> inlineMethods)
            throws IOException {
        return start(host, port, services, inlineMethods, List.of());
    }

    /**
     * As {@link #start(String, int, List, Set)}, with {@code transportFilters} told of every
     * connection the server accepts and of its end (e.g. {@link ControllerServer#transportFilters()}).
     */
    public static Server start(String host, int port, List<BindableService> services, Set<String> inlineMethods,
            List<ServerTransportFilter> transportFilters) throws IOException {
        return start(host, port, InsecureServerCredentials.create(), services, inlineMethods, transportFilters,
                List.of());
    }

    /**
     * As {@link #start(String, int, List, Set, List)}, secured by {@code credentials} (plaintext or
     * TLS), with every call passing through {@code interceptors} first (in list order, before the
     * move to the handler pool; on the transport thread, so they must not block).
     */
    public static Server start(String host, int port, ServerCredentials credentials, List<BindableService> services,
            Set<String> inlineMethods, List<ServerTransportFilter> transportFilters,
            List<ServerInterceptor> interceptors) throws IOException {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), credentials)
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                // Clients may ping often (gRPC clamps their keepalive to 10 s or more); a voter that
                // falls silent is noticed by the watchers' own silence check, not by pings.
                .permitKeepAliveTime(500, TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true)
                // Every callback arrives on the transport thread, in order; the interceptor moves
                // those of non-inline methods to the pool.
                .directExecutor()
                .intercept(new OffloadingInterceptor(inlineMethods, HANDLERS));
        // The interceptor added last runs first.
        for (int i = interceptors.size() - 1; i >= 0; i--) {
            builder.intercept(interceptors.get(i));
        }
        services.forEach(builder::addService);
        transportFilters.forEach(builder::addTransportFilter);
        return builder.build().start();
    }

    /** Stops taking calls, gives running ones a moment, then cuts them off. */
    public static void stop(Server server) {
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    /**
     * Moves the callbacks of each call that is not inline onto a sequential executor of its own
     * over the pool: one at a time and in order per call, as gRPC's default executor does, with the
     * call's {@link Context} attached. Stateless; thread-safe.
     */
    static final class OffloadingInterceptor implements ServerInterceptor {
        private final Set<String> inlineMethods;
        private final Executor pool;

        OffloadingInterceptor(Set<String> inlineMethods, Executor pool) {
            this.inlineMethods = Set.copyOf(inlineMethods);
            this.pool = pool;
        }

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            if (inlineMethods.contains(call.getMethodDescriptor().getFullMethodName())) {
                return next.startCall(call, headers);
            }
            Executor serial = MoreExecutors.newSequentialExecutor(pool);
            // startCall of a stub-generated handler only registers the listener and asks for the
            // request message; the method itself runs on halfClose, which is moved below.
            ServerCall.Listener<Q> delegate = next.startCall(call, headers);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                private void later(Runnable callback) {
                    serial.execute(Context.current().wrap(callback));
                }

                @Override
                public void onMessage(Q message) {
                    later(() -> delegate().onMessage(message));
                }

                @Override
                public void onHalfClose() {
                    later(() -> delegate().onHalfClose());
                }

                @Override
                public void onCancel() {
                    later(() -> delegate().onCancel());
                }

                @Override
                public void onComplete() {
                    later(() -> delegate().onComplete());
                }

                @Override
                public void onReady() {
                    later(() -> delegate().onReady());
                }
            };
        }
    }
}
