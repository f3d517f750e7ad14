package io.raftmq.common.tls;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;

/**
 * The credentials of the channels a node opens to other nodes' gRPC ports (broker to controller,
 * follower to leader, the metadata watch), per {@code grpc.listener.security.protocol}: plaintext,
 * or TLS with the node's own key (so the other side sees {@code CN=node-<id>}) and a check that the
 * server is a node ({@link NodeServerTrustManager}).
 *
 * <p>Immutable; thread-safe.
 */
public interface NodeChannelCredentials {

    /** For a channel to node {@code nodeId}: with TLS, the server must show that node's certificate. */
    ChannelCredentials toNode(int nodeId);

    /** For a channel to an address whose node is not known (a bootstrap address): any node's certificate. */
    ChannelCredentials toAnyNode();

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
}
