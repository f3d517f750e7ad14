package io.raftmq.protocol.rpc;

import java.util.List;

/**
 * Who authenticates to a SASL gRPC port, and how: a client's {@code sasl.mechanism} and user, or a
 * node's own identity ({@code node-<id>} with the cluster's node secret).
 *
 * @param mechanism one of {@link #MECHANISMS}
 */
public record SaslLogin(String mechanism, String username, String password) {
    public static final String PLAIN = "PLAIN";
    public static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    public static final String SCRAM_SHA_512 = "SCRAM-SHA-512";
    /** The mechanisms raftmq's gRPC ports serve. */
    public static final List<String> MECHANISMS = List.of(PLAIN, SCRAM_SHA_256, SCRAM_SHA_512);

    public SaslLogin {
        if (!MECHANISMS.contains(mechanism)) {
            throw new IllegalArgumentException("SASL mechanism " + mechanism + " is not one of " + MECHANISMS);
        }
    }

    @Override
    public String toString() {
        return "SaslLogin[" + mechanism + ", " + username + "]"; // never the password
    }
}
