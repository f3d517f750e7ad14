package io.raftmq.broker.sasl;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * The SCRAM credentials SASL authentication checks against: one user store for SCRAM-SHA-256,
 * SCRAM-SHA-512 and PLAIN (which checks a password against the user's strongest SCRAM
 * credential). The broker's implementation reads its metadata image; any thread, never blocks.
 */
public interface ScramCredentials {

    /** No user at all: every SASL authentication fails. */
    ScramCredentials NONE = user -> Map.of();

    /** The user's credentials by mechanism; empty when the user has none. */
    Map<ScramMechanism, ScramCredential> of(String user);

    /**
     * The node an authenticated {@code user} is, when this store holds the nodes' own users ({@link
     * NodeUsers}); empty for a client.
     */
    default OptionalInt nodeOf(String user) {
        return OptionalInt.empty();
    }
}
