package io.raftmq.broker.sasl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;

class SaslCallbacksTest {

    @Test
    void plainChecksTheStrongestScramCredential() throws Exception {
        Map<ScramMechanism, ScramCredential> both = new EnumMap<>(ScramMechanism.class);
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            both.put(mechanism, new ScramFormatter(mechanism).generateCredential("alice-secret", 4096));
        }
        assertTrue(SaslCallbacks.passwordMatches(both, "alice-secret".toCharArray()));
        assertFalse(SaslCallbacks.passwordMatches(both, "alice-secret ".toCharArray()));
        // Only SCRAM-SHA-256 stored: it is the strongest.
        Map<ScramMechanism, ScramCredential> one = Map.of(ScramMechanism.SCRAM_SHA_256,
                both.get(ScramMechanism.SCRAM_SHA_256));
        assertTrue(SaslCallbacks.passwordMatches(one, "alice-secret".toCharArray()));
        assertFalse(SaslCallbacks.passwordMatches(Map.of(), "alice-secret".toCharArray()));
    }

    @Test
    void theServersAreKafkasForTheThreeMechanismsAndNoOther() {
        for (String mechanism : SaslServers.SUPPORTED_MECHANISMS) {
            assertTrue(SaslServers.create(mechanism, ScramCredentials.NONE).getMechanismName().equals(mechanism));
        }
        assertThrows(IllegalArgumentException.class, () -> SaslServers.create("GSSAPI", ScramCredentials.NONE));
    }
}
