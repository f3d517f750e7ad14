package io.raftmq.common.tls;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.config.Config;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeServerTrustManagerTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final String AUTH_TYPE = "ECDHE_ECDSA";

    @Test
    void theNodeDialledIsAccepted() {
        assertDoesNotThrow(() -> expecting(3).checkServerTrusted(chainOf(CERTS.nodeKeystore(3)), AUTH_TYPE));
        assertDoesNotThrow(() -> expecting(NodeServerTrustManager.ANY_NODE)
                .checkServerTrusted(chainOf(CERTS.nodeKeystore(2)), AUTH_TYPE));
    }

    @Test
    void anotherNodeThanTheOneDialledIsRefused() {
        CertificateException e = assertThrows(CertificateException.class,
                () -> expecting(3).checkServerTrusted(chainOf(CERTS.nodeKeystore(2)), AUTH_TYPE));
        assertTrue(e.getMessage().contains("node 2's; expected node 3's"), e.getMessage());
    }

    @Test
    void aClientCertificateSignedByTheClusterCaIsNoServerForANode() {
        CertificateException e = assertThrows(CertificateException.class,
                () -> expecting(NodeServerTrustManager.ANY_NODE)
                        .checkServerTrusted(chainOf(CERTS.clientKeystore("alice")), AUTH_TYPE));
        assertTrue(e.getMessage().contains("CN=alice") && e.getMessage().contains("not a node's"), e.getMessage());
    }

    @Test
    void aNodeCertificateFromAnotherCaIsRefused(@TempDir Path dir) {
        TestCertificates other = TestCertificates.create(dir, "other-ca");
        assertThrows(CertificateException.class,
                () -> expecting(3).checkServerTrusted(chainOf(other.nodeKeystore(3)), AUTH_TYPE));
    }

    private static NodeServerTrustManager expecting(int nodeId) {
        NodeTls tls = NodeTls.load(new Config(CERTS.nodeConfig(1), NodeTls.KEYS));
        return new NodeServerTrustManager(NodeServerTrustManager.truststoreManager(
                tls.trustManagers().getTrustManagers()), nodeId);
    }

    private static X509Certificate[] chainOf(Path keystore) {
        return new X509Certificate[] {NodeTls.load(new Config(CERTS.storeConfig(keystore), NodeTls.KEYS)).certificate()};
    }
}
