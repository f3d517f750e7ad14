package io.raftmq.node.grpc;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.TlsServerCredentials;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.common.tls.NodeTls;
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
 * </ul>
 *
 * @param serverCredentials for the node's gRPC server
 * @param interceptors every call passes through these first
 * @param nodeChannels for the channels the node opens to other nodes
 */
public record GrpcListenerSecurity(ServerCredentials serverCredentials, List<ServerInterceptor> interceptors,
        NodeChannelCredentials nodeChannels) {

    public static GrpcListenerSecurity plaintext() {
        return new GrpcListenerSecurity(InsecureServerCredentials.create(), List.of(),
                NodeChannelCredentials.plaintext());
    }

    public static GrpcListenerSecurity ssl(NodeTls tls) {
        ServerCredentials server = TlsServerCredentials.newBuilder()
                .keyManager(tls.keyManagers().getKeyManagers())
                .trustManager(tls.trustManagers().getTrustManagers())
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL)
                .build();
        return new GrpcListenerSecurity(server, List.of(NodeOnlyInterceptor.standard()),
                NodeChannelCredentials.tls(tls));
    }

    /** SSL when {@code tls} is given, PLAINTEXT for null. */
    public static GrpcListenerSecurity of(NodeTls tls) {
        return tls == null ? plaintext() : ssl(tls);
    }
}
