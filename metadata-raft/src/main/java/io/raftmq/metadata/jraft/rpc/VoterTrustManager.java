package io.raftmq.metadata.jraft.rpc;

import io.raftmq.common.tls.NodeTls;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trusts a Raft peer's certificate if it chains to the node's truststore (the cluster's CA), is
 * valid now, and names a voter: {@code CN=node-<id>}. On a voter's server, the client must be any
 * voter; on a voter's connection to voter N, the server must be voter N. No host name check: the
 * certificate's node id is the identity, and the id's Raft endpoint is checked per request.
 *
 * <p>A refused client certificate is logged once, as the handshake it ends is one connection.
 * Thread-safe (immutable).
 */
final class VoterTrustManager extends X509ExtendedTrustManager {
    private static final Logger LOG = LoggerFactory.getLogger(VoterTrustManager.class);

    private final int nodeId;
    private final X509TrustManager authorities;
    private final Set<Integer> acceptedPeers;

    private VoterTrustManager(int nodeId, X509TrustManager authorities, Set<Integer> acceptedPeers) {
        this.nodeId = nodeId;
        this.authorities = authorities;
        this.acceptedPeers = Set.copyOf(acceptedPeers);
    }

    /** For voter {@code nodeId}'s server: a client must be one of {@code voters}. */
    static VoterTrustManager forServer(int nodeId, NodeTls tls, Set<Integer> voters) {
        return new VoterTrustManager(nodeId, authorities(tls.trustManagers()), voters);
    }

    /** For voter {@code nodeId}'s connection to voter {@code peer}: the server must be that voter. */
    static VoterTrustManager forPeer(int nodeId, NodeTls tls, int peer) {
        return new VoterTrustManager(nodeId, authorities(tls.trustManagers()), Set.of(peer));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            authorities.checkClientTrusted(chain, authType);
            checkNamesPeer(chain);
        } catch (CertificateException e) {
            LOG.warn("[node {}] refused a Raft connection: {}", nodeId, e.getMessage());
            throw e;
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        // The 2-argument check of the JDK's trust manager validates the chain, not the host name.
        authorities.checkServerTrusted(chain, authType);
        checkNamesPeer(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return authorities.getAcceptedIssuers();
    }

    private void checkNamesPeer(X509Certificate[] chain) throws CertificateException {
        Optional<Integer> peer = NodeTls.nodeIdOf(chain[0]);
        if (peer.isEmpty() || !acceptedPeers.contains(peer.get())) {
            throw new CertificateException("certificate " + chain[0].getSubjectX500Principal().getName()
                    + " does not name " + (acceptedPeers.size() == 1 ? "voter " : "one of the voters ")
                    + acceptedPeers.stream().sorted().map(NodeTls::commonNameOfNode).toList()
                    + " (a voter's certificate is CN=node-<id>)");
        }
    }

    private static X509TrustManager authorities(TrustManagerFactory factory) {
        TrustManager[] managers = factory.getTrustManagers();
        return Arrays.stream(managers).filter(X509TrustManager.class::isInstance).map(X509TrustManager.class::cast)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("the truststore gives no X.509 trust manager"));
    }
}
