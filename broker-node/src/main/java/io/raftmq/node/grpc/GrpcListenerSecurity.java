package io.raftmq.node.grpc;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.TlsServerCredentials;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.protocol.rpc.SaslLogin;
import java.util.List;

/**
 * How a node's gRPC port and its channels to other nodes' gRPC ports are secured, per {@code
 * grpc.listener.security.protocol}:
 *
 * <ul>
 *   <li>PLAINTEXT: plaintext both ways, no checks (anyone who reaches the port may pose as a broker).
 *   <li>SSL: the server speaks TLS with the node's key and requests (does not require) a client
 *       certificate chaining to the truststore; {@link NodeOnlyInterceptor} guards the node-only
 *       methods; the node's own channels present its certificate and accept only node servers.
 *   <li>SASL_SSL: TLS as SSL (nodes are still known by their certificates); any other caller
 *       authenticates with SASL (the Authentication service, {@link SaslAuthenticateService}) and
 *       sends its session token on every call, which {@link NodeOnlyInterceptor} checks in {@code
 *       sessions}.
 *   <li>SASL_PLAINTEXT: no TLS; every caller, nodes too, authenticates with SASL and sends its
 *       session token on every call. A node authenticates as {@code node-<id>} with the cluster's
 *       node secret, on each channel it opens ({@link NodeChannelCredentials#saslPlaintext}), and
 *       its session makes it a node.
 * </ul>
 *
 * @param serverCredentials for the node's gRPC server
 * @param interceptors every call passes through these first
 * @param nodeChannels for the channels the node opens to other nodes
 * @param sessions the SASL sessions of a SASL_SSL or SASL_PLAINTEXT port; null otherwise
 */
public record GrpcListenerSecurity(ServerCredentials serverCredentials, List<ServerInterceptor> interceptors,
        NodeChannelCredentials nodeChannels, GrpcSessions sessions) {

    public static GrpcListenerSecurity plaintext() {
        return new GrpcListenerSecurity(InsecureServerCredentials.create(), List.of(),
                NodeChannelCredentials.plaintext(), null);
    }

    public static GrpcListenerSecurity ssl(NodeTls tls) {
        return new GrpcListenerSecurity(tlsServer(tls), List.of(NodeOnlyInterceptor.standard()),
                NodeChannelCredentials.tls(tls), null);
    }

    public static GrpcListenerSecurity saslSsl(NodeTls tls, GrpcSessions sessions) {
        return new GrpcListenerSecurity(tlsServer(tls), List.of(NodeOnlyInterceptor.sasl(sessions)),
                NodeChannelCredentials.tls(tls), sessions);
    }

    public static GrpcListenerSecurity saslPlaintext(GrpcSessions sessions, SaslLogin nodeLogin) {
        return new GrpcListenerSecurity(InsecureServerCredentials.create(),
                List.of(NodeOnlyInterceptor.saslPlaintext(sessions)), NodeChannelCredentials.saslPlaintext(nodeLogin),
                sessions);
    }

    /**
     * PLAINTEXT for a null {@code tls} and {@code sessions}; SASL_PLAINTEXT with {@code sessions} and
     * the node's own {@code nodeLogin} but no {@code tls}; SSL with {@code tls}; SASL_SSL when {@code
     * sessions} is given too.
     */
    public static GrpcListenerSecurity of(NodeTls tls, GrpcSessions sessions, SaslLogin nodeLogin) {
        if (tls == null) {
            return sessions == null ? plaintext() : saslPlaintext(sessions, nodeLogin);
        }
        return sessions == null ? ssl(tls) : saslSsl(tls, sessions);
    }

    private static ServerCredentials tlsServer(NodeTls tls) {
        return TlsServerCredentials.newBuilder()
                .keyManager(tls.keyManagers().getKeyManagers())
                .trustManager(tls.trustManagers().getTrustManagers())
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL)
                .build();
    }
}
