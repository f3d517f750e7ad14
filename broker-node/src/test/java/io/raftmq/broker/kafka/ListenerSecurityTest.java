package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerConfig;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.Test;

/** The listener security settings as a node's config gives them, and the errors that name the setting. */
class ListenerSecurityTest {
    private static final List<ConfigKey<?>> KEYS;

    static {
        List<ConfigKey<?>> keys = new ArrayList<>(ListenerSecurity.KEYS);
        keys.addAll(NodeTls.KEYS);
        KEYS = List.copyOf(keys);
    }

    private static ListenerSecurity from(Map<String, String> values) {
        return ListenerSecurity.from(new Config(values, KEYS));
    }

    @Test
    void defaultIsPlaintextWithoutAuthentication() {
        ListenerSecurity security = from(Map.of());
        assertEquals(SecurityProtocol.PLAINTEXT, security.protocol());
        assertNull(security.sslContext());
        assertTrue(security.saslMechanisms().isEmpty());
        assertEquals(SecurityProtocol.PLAINTEXT, BrokerConfig.of(Map.of()).listenerSecurity().protocol());
    }

    @Test
    void saslSslLoadsTheNodeKeystoreAndOffersTheMechanisms() {
        Map<String, String> values = new HashMap<>(TestCertificates.shared().nodeConfig(1));
        values.put("kafka.listener.security.protocol", "SASL_SSL");
        values.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,PLAIN");
        ListenerSecurity security = from(values);
        assertEquals(SecurityProtocol.SASL_SSL, security.protocol());
        assertNotNull(security.sslContext());
        assertEquals(List.of("SCRAM-SHA-512", "PLAIN"), security.saslMechanisms());
    }

    @Test
    void mistakesNameTheSetting() {
        ConfigException noKeystore = assertThrows(ConfigException.class,
                () -> from(Map.of("kafka.listener.security.protocol", "SSL")));
        assertTrue(noKeystore.getMessage().contains("ssl.keystore.location"), noKeystore.getMessage());
        assertTrue(noKeystore.getMessage().contains("SSL"), noKeystore.getMessage());

        ConfigException badProtocol = assertThrows(ConfigException.class,
                () -> from(Map.of("kafka.listener.security.protocol", "TLS")));
        assertTrue(badProtocol.getMessage().contains("kafka.listener.security.protocol"), badProtocol.getMessage());

        ConfigException gssapi = assertThrows(ConfigException.class, () -> from(Map.of(
                "kafka.listener.security.protocol", "SASL_PLAINTEXT", "sasl.enabled.mechanisms", "GSSAPI,PLAIN")));
        assertTrue(gssapi.getMessage().contains("sasl.enabled.mechanisms"), gssapi.getMessage());
        assertTrue(gssapi.getMessage().contains("'GSSAPI'"), gssapi.getMessage());

        ConfigException rules = assertThrows(ConfigException.class, () -> from(Map.of(
                "ssl.principal.mapping.rules", "RULE:nonsense")));
        assertTrue(rules.getMessage().contains("ssl.principal.mapping.rules"), rules.getMessage());

        ConfigException clientAuth = assertThrows(ConfigException.class, () -> from(Map.of(
                "ssl.client.auth", "always")));
        assertTrue(clientAuth.getMessage().contains("ssl.client.auth"), clientAuth.getMessage());
    }
}
