package io.raftmq.broker;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.raftmq.node.grpc.GrpcPrincipal;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Who makes the gRPC call being served, as the {@link Authorization.Caller} the broker's rules
 * decide for: the principal and node flag {@link GrpcPrincipal} holds (User:&lt;DN&gt; of a client
 * certificate, ANONYMOUS without one and on a PLAINTEXT port; a node's certificate makes the
 * caller a node, allowed everything) and the client's IP address, which {@link #INTERCEPTOR}
 * puts in the call's Context. Read with {@link #current()} on the thread that delivers the
 * request (the service method's), before any asynchronous step.
 */
public final class GrpcCallers {
    private static final Context.Key<String> CLIENT_HOST = Context.keyWithDefault("raftmq-client-host", "");

    /** Records the caller's IP address in the call's Context; stateless, runs on the transport thread. */
    public static final ServerInterceptor INTERCEPTOR = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            String host = remote instanceof InetSocketAddress inet
                    ? (inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString())
                    : String.valueOf(remote);
            return Contexts.interceptCall(Context.current().withValue(CLIENT_HOST, host), call, headers, next);
        }
    };

    private GrpcCallers() {}

    /** The caller of the call whose Context is current. */
    public static Authorization.Caller current() {
        return new Authorization.Caller(GrpcPrincipal.current(), CLIENT_HOST.get(), GrpcPrincipal.isNode());
    }
}
