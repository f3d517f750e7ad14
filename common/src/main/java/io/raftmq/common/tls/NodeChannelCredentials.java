package io.raftmq.common.tls;

import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.raftmq.protocol.rpc.SaslLogin;
import io.raftmq.protocol.rpc.SaslSession;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/**
 * The credentials of the channels a node opens to other nodes' gRPC ports (broker to controller,
 * follower to leader, the metadata watch), per {@code grpc.listener.security.protocol}: plaintext;
 * TLS with the node's own key (so the other side sees {@code CN=node-<id>}) and a check that the
 * server is a node ({@link NodeServerTrustManager}); or, for SASL_PLAINTEXT, plaintext channels
 * whose calls carry a SASL session of the node's own user {@code node-<id>} ({@link #authentication}).
 *
 * <p>Immutable; thread-safe.
 */
public interface NodeChannelCredentials {

    /** For a channel to node {@code nodeId}: with TLS, the server must show that node's certificate. */
    ChannelCredentials toNode(int nodeId);

    /** For a channel to an address whose node is not known (a bootstrap address): any node's certificate. */
    ChannelCredentials toAnyNode();

    /**
     * The interceptors to install on one new channel to {@code node} (a description, for messages),
     * before any other: none with plaintext or TLS (TLS authenticates the connection itself); with
     * SASL_PLAINTEXT, the channel's own SASL session.
     */
    default List<ClientInterceptor> authentication(String node) {
        return List.of();
    }

    /** Plaintext channels (PLAINTEXT: as a node without TLS on its gRPC port). */
    static NodeChannelCredentials plaintext() {
        ChannelCredentials insecure = InsecureChannelCredentials.create();
        return new NodeChannelCredentials() {
            @Override
            public ChannelCredentials toNode(int nodeId) {
                return insecure;
            }

            @Override
            public ChannelCredentials toAnyNode() {
                return insecure;
            }
        };
    }

    /** TLS channels presenting {@code tls}'s key and checking the server against its truststore. */
    static NodeChannelCredentials tls(NodeTls tls) {
        return new NodeChannelCredentials() {
            private final ChannelCredentials anyNode = credentials(NodeServerTrustManager.ANY_NODE);

            @Override
            public ChannelCredentials toNode(int nodeId) {
                return credentials(nodeId);
            }

            @Override
            public ChannelCredentials toAnyNode() {
                return anyNode;
            }

            private ChannelCredentials credentials(int expectedNodeId) {
                return TlsChannelCredentials.newBuilder()
                        .keyManager(tls.keyManagers().getKeyManagers())
                        .trustManager(new NodeServerTrustManager(NodeServerTrustManager.truststoreManager(
                                tls.trustManagers().getTrustManagers()), expectedNodeId))
                        .build();
            }
        };
    }

    /**
     * Plaintext channels on which every call carries a session of {@code login} (the node's user
     * {@code node-<id>} and the cluster's node secret), authenticated per channel on first use and
     * again before the token expires or when the other node no longer knows it (it restarted).
     */
    static NodeChannelCredentials saslPlaintext(SaslLogin login) {
        NodeChannelCredentials plaintext = plaintext();
        return new NodeChannelCredentials() {
            @Override
            public ChannelCredentials toNode(int nodeId) {
                return plaintext.toNode(nodeId);
            }

            @Override
            public ChannelCredentials toAnyNode() {
                return plaintext.toAnyNode();
            }

            @Override
            public List<ClientInterceptor> authentication(String node) {
                // The exchange's few callbacks (and the client's SCRAM proof, a few milliseconds)
                // run on the common pool, off the transport's event loops.
                return List.of(new SaslSession(node, login, NodeSasl.EXCHANGE_TIMEOUT_MS, ForkJoinPool.commonPool(),
                        () -> System.nanoTime() / 1_000_000, NodeSasl.FAILURES).interceptor());
            }
        };
    }
}
