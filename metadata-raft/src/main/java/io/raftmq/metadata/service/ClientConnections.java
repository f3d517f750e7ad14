package io.raftmq.metadata.service;

import io.grpc.Attributes;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerTransportFilter;
import io.raftmq.metadata.controller.ClientConnection;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Consumer;

/**
 * Names the connections of a gRPC server for the services that care which connection a call came
 * over, and reports each one's end. As a {@link ServerTransportFilter} (registered on the server
 * builder) it tags every connection the server accepts with a new {@link ClientConnection};
 * {@link #wrap} puts the tag of a call's connection in the call's {@link Context}, where {@link
 * #current()} reads it. When a connection that carried a call of a wrapped service ends, it is
 * marked closed and passed to {@code onClosed}; the end of any other connection (a producer's, a
 * follower's fetch stream on a combined node) is not reported.
 *
 * <p>A connection ends when either side closes it or resets it, including when the peer's process
 * dies (the kernel closes its sockets); not when the peer is paused or the network silently drops
 * packets, which only keepalive or timeouts notice.
 *
 * <p>Thread-safe: gRPC calls the filter on the connection's transport thread; {@code onClosed}
 * runs there and must only enqueue.
 */
public final class ClientConnections extends ServerTransportFilter {
    private static final Attributes.Key<Tracked> CONNECTION_ATTR = Attributes.Key.create("raftmq.client-connection");
    private static final Context.Key<ClientConnection> CONNECTION = Context.key("raftmq.client-connection");

    private final Consumer<ClientConnection> onClosed;
    private final ServerInterceptor interceptor = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            Tracked tracked = call.getAttributes().get(CONNECTION_ATTR);
            if (tracked == null) {
                // The server was built without this filter: calls carry no connection.
                return next.startCall(call, headers);
            }
            tracked.carriedCalls = true;
            return Contexts.interceptCall(Context.current().withValue(CONNECTION, tracked.connection), call, headers,
                    next);
        }
    };

    /**
     * One connection, and whether a call of a wrapped service came over it.
     *
     * <p>A call and the connection's end can race on two threads. The end marks the connection
     * closed before it reads {@code carriedCalls}, and a call sets {@code carriedCalls} before its
     * service sees the connection (volatile, both): so either the end is reported, or the service
     * finds the connection already closed ({@link ClientConnection#isClosed()}).
     */
    private static final class Tracked {
        final ClientConnection connection;
        volatile boolean carriedCalls;

        Tracked(ClientConnection connection) {
            this.connection = connection;
        }
    }

    /** @param onClosed told of each connection that ended (on the transport's thread; must not block) */
    public ClientConnections(Consumer<ClientConnection> onClosed) {
        this.onClosed = onClosed;
    }

    /**
     * The connection the current call came over, or null outside a call of a {@link #wrap wrapped}
     * service or on a server without this filter.
     */
    public static ClientConnection current() {
        return CONNECTION.get();
    }

    /** {@code service} with every call's connection in its {@link Context}. */
    public BindableService wrap(BindableService service) {
        return () -> ServerInterceptors.intercept(service, interceptor);
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        ClientConnection connection = new ClientConnection(describe(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
        return attributes.toBuilder().set(CONNECTION_ATTR, new Tracked(connection)).build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
        // Null when the connection ended before its handshake completed: no call came over it.
        Tracked tracked = attributes == null ? null : attributes.get(CONNECTION_ATTR);
        if (tracked != null) {
            tracked.connection.markClosed();
            if (tracked.carriedCalls) {
                onClosed.accept(tracked.connection);
            }
        }
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
            return host + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }
}
