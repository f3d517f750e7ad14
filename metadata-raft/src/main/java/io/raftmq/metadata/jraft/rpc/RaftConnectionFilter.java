package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.raftmq.common.tls.NodeTls;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Makes one {@link RaftConnection} per accepted transport, once its TLS handshake is done, and
 * tells JRaft's connection listeners when the transport ends. The connection is a transport
 * attribute, so every call on the transport finds it ({@link #CONNECTION}). Called on the
 * transports' event loops; thread-safe.
 */
final class RaftConnectionFilter extends ServerTransportFilter {
    static final Attributes.Key<RaftConnection> CONNECTION = Attributes.Key.create("raftmq.raft.connection");

    private final Set<Integer> voters;
    private final List<ConnectionClosedEventListener> closedListeners;
    private final VoterConnections voterConnections;

    /**
     * @param closedListeners read when a connection closes (a thread-safe list)
     * @param voterConnections told of every voter's connection opening and closing
     */
    RaftConnectionFilter(Set<Integer> voters, List<ConnectionClosedEventListener> closedListeners,
            VoterConnections voterConnections) {
        this.voters = Set.copyOf(voters);
        this.closedListeners = closedListeners;
        this.voterConnections = voterConnections;
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        String remote = String.valueOf(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        int peer = peerOf(attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        RaftConnection connection = new RaftConnection(peer, remote, closed -> {
            if (peer >= 0) {
                voterConnections.closed(peer);
            }
            closedListeners.forEach(listener -> listener.onClosed(remote, closed));
        });
        if (peer >= 0) {
            voterConnections.opened(peer);
        }
        return attributes.toBuilder().set(CONNECTION, connection).build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
        // null when the transport ended before it was ready (e.g. its handshake failed)
        RaftConnection connection = attributes == null ? null : attributes.get(CONNECTION);
        if (connection != null) {
            connection.close();
        }
    }

    /**
     * The voter the TLS session's client certificate names; -1 without one. The handshake already
     * refused any other ({@link VoterTrustManager}); this holds should that ever be bypassed.
     */
    private int peerOf(SSLSession session) {
        if (session == null) {
            return -1;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate certificate) {
                return NodeTls.nodeIdOf(certificate).filter(voters::contains).orElse(-1);
            }
            return -1;
        } catch (SSLPeerUnverifiedException e) {
            return -1;
        }
    }
}
