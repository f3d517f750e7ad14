package io.raftmq.common.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * What a node checks of the server it connects to on another node's gRPC port: the truststore's
 * checks (the chain leads to the cluster's CA, the certificate is valid now and names the host
 * dialled), and then that the certificate is a node's ({@code CN=node-<id>}): node {@code
 * expectedNodeId}'s when the caller knows which node it dials, any node's otherwise. A client's
 * certificate signed by the same CA is refused, so a client cannot pose as a node to a node.
 *
 * <p>Immutable; thread-safe. Only the server checks are used (this is a client's trust manager).
 */
final class NodeServerTrustManager extends X509ExtendedTrustManager {
    /** {@link #NodeServerTrustManager}'s expected id when any node's certificate will do. */
    static final int ANY_NODE = -1;

    private final X509ExtendedTrustManager truststore;
    private final int expectedNodeId;

    NodeServerTrustManager(X509ExtendedTrustManager truststore, int expectedNodeId) {
        this.truststore = truststore;
        this.expectedNodeId = expectedNodeId;
    }

    /** The truststore's own trust manager among {@code managers} (what a TrustManagerFactory makes). */
    static X509ExtendedTrustManager truststoreManager(TrustManager[] managers) {
        for (TrustManager manager : managers) {
            if (manager instanceof X509ExtendedTrustManager x509) {
                return x509;
            }
        }
        throw new IllegalStateException("the trust manager factory made no X509ExtendedTrustManager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        truststore.checkServerTrusted(chain, authType, engine);
        checkNode(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        truststore.checkServerTrusted(chain, authType, socket);
        checkNode(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        truststore.checkServerTrusted(chain, authType);
        checkNode(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        truststore.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        truststore.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        truststore.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return truststore.getAcceptedIssuers();
    }

    private void checkNode(X509Certificate[] chain) throws CertificateException {
        String subject = chain[0].getSubjectX500Principal().getName();
        Optional<Integer> nodeId = NodeTls.nodeIdOf(chain[0]);
        if (nodeId.isEmpty()) {
            throw new CertificateException("the server's certificate (" + subject + ") is not a node's (CN=node-<id>)"
                    + (expectedNodeId == ANY_NODE ? "" : "; expected node " + expectedNodeId));
        }
        if (expectedNodeId != ANY_NODE && nodeId.get() != expectedNodeId) {
            throw new CertificateException("the server's certificate (" + subject + ") is node " + nodeId.get()
                    + "'s; expected node " + expectedNodeId + "'s (CN=" + NodeTls.commonNameOfNode(expectedNodeId)
                    + ")");
        }
    }
}
