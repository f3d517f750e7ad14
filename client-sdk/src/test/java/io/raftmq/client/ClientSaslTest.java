package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.ConfigException;
import io.raftmq.protocol.rpc.SaslLogin;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientSaslTest {
    private static final String SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";

    @Test
    void kafkasJaasLineGivesTheLogin() {
        SaslLogin login = login(Map.of("sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config",
                SCRAM + " required username=\"alice\" password=\"p a\\\"ss\";"));
        assertEquals(new SaslLogin("SCRAM-SHA-256", "alice", "p a\"ss"), login);
        assertEquals(new SaslLogin("PLAIN", "bob", "secret"), login(Map.of("sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required\n"
                        + "  username=bob password=\"secret\" ;")));
        assertEquals(new SaslLogin("SCRAM-SHA-512", "carol", "c"), login(Map.of("sasl.mechanism",
                "SCRAM-SHA-512", "sasl.username", "carol", "sasl.password", "c")));
        assertTrue(!login.toString().contains("p a"), "the password is never printed: " + login);
    }

    @Test
    void onlySaslSslHasALogin() {
        Map<String, Object> plain = new HashMap<>(Map.of(CommonConfigs.BOOTSTRAP_SERVERS, "h:1"));
        assertNull(ClientSasl.login(AdminConfig.DEF.parse(plain)));
    }

    @Test
    void badSettingsAreConfigErrorsNamingTheProblem() {
        assertRejected("sasl.mechanism=GSSAPI", Map.of("sasl.jaas.config", SCRAM
                + " required username=\"a\" password=\"b\";"));
        assertRejected("sasl.mechanism=OAUTHBEARER", Map.of("sasl.mechanism", "OAUTHBEARER"));
        assertRejected("sasl.jaas.config (or sasl.username and sasl.password) is required",
                Map.of("sasl.mechanism", "PLAIN"));
        assertRejected("names no password", Map.of("sasl.mechanism", "PLAIN", "sasl.jaas.config",
                SCRAM + " required username=\"a\";"));
        assertRejected("not one JAAS entry", Map.of("sasl.mechanism", "PLAIN", "sasl.jaas.config",
                SCRAM + " required username=\"a\" password=\"b\""));
        assertRejected("login module com.example.Krb5", Map.of("sasl.mechanism", "PLAIN", "sasl.jaas.config",
                "com.example.Krb5 required username=\"a\" password=\"b\";"));
        assertRejected("both set", Map.of("sasl.mechanism", "PLAIN", "sasl.username", "a", "sasl.jaas.config",
                SCRAM + " required username=\"a\" password=\"b\";"));
    }

    private static void assertRejected(String fragment, Map<String, Object> settings) {
        ConfigException e = assertThrows(ConfigException.class, () -> login(settings));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    private static SaslLogin login(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.put(CommonConfigs.BOOTSTRAP_SERVERS, "h:1");
        all.put(CommonConfigs.SECURITY_PROTOCOL, "SASL_SSL");
        return ClientSasl.login(AdminConfig.DEF.parse(all));
    }
}
