package io.raftmq.common.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeTlsTest {
    private static Config config(Map<String, String> raw) {
        return new Config(raw, NodeTls.KEYS);
    }

    @Test
    void loadsANodeKeystoreAndTheCaItTrusts() {
        TestCertificates ca = TestCertificates.shared();
        NodeTls tls = NodeTls.load(config(ca.nodeConfig(3)));
        assertEquals(Optional.of(3), NodeTls.nodeIdOf(tls.certificate()));
        assertEquals(Optional.of("node-3"), NodeTls.commonName(tls.certificate()));
        assertEquals(ca.caCertificate(), tls.trustedCertificates().get(0));
    }

    @Test
    void nodeIdsComeOnlyFromNodeNames() {
        TestCertificates ca = TestCertificates.shared();
        NodeTls client = NodeTls.load(config(ca.storeConfig(ca.clientKeystore("alice"))));
        assertEquals(Optional.empty(), NodeTls.nodeIdOf(client.certificate()));
        NodeTls odd = NodeTls.load(config(ca.storeConfig(ca.clientKeystore("node-1x"))));
        assertEquals(Optional.empty(), NodeTls.nodeIdOf(odd.certificate()));
        NodeTls huge = NodeTls.load(config(ca.storeConfig(ca.clientKeystore("node-99999999999"))));
        assertEquals(Optional.empty(), NodeTls.nodeIdOf(huge.certificate()));
    }

    @Test
    void badSettingsNameTheSetting(@TempDir Path dir) {
        TestCertificates ca = TestCertificates.shared();
        ConfigException missing = assertThrows(ConfigException.class, () -> NodeTls.load(config(Map.of())));
        assertTrue(missing.getMessage().contains("ssl.keystore.location"), missing.getMessage());

        Map<String, String> wrongPassword = new HashMap<>(ca.nodeConfig(1));
        wrongPassword.put("ssl.keystore.password", "nope");
        ConfigException wrong = assertThrows(ConfigException.class, () -> NodeTls.load(config(wrongPassword)));
        assertTrue(wrong.getMessage().contains("ssl.keystore.location"), wrong.getMessage());

        Map<String, String> noFile = new HashMap<>(ca.nodeConfig(1));
        noFile.put("ssl.truststore.location", dir.resolve("absent.p12").toString());
        ConfigException absent = assertThrows(ConfigException.class, () -> NodeTls.load(config(noFile)));
        assertTrue(absent.getMessage().contains("ssl.truststore.location"), absent.getMessage());
    }
}
