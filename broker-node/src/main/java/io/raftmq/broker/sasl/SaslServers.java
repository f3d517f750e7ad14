package io.raftmq.broker.sasl;

import io.raftmq.common.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;

/**
 * The SASL mechanisms a node serves (on the Kafka listener and on the gRPC port) and the server of
 * each: kafka-clients' own {@link PlainSaslServer} and {@link ScramSaslServer} over {@link
 * SaslCallbacks}, both checking against one {@link ScramCredentials} store. Stateless; any thread.
 */
public final class SaslServers {
    public static final String PLAIN = PlainSaslServer.PLAIN_MECHANISM;
    /** The mechanisms served, in the order a handshake answer lists them. */
    public static final List<String> SUPPORTED_MECHANISMS = List.of(PLAIN,
            ScramMechanism.SCRAM_SHA_256.mechanismName(), ScramMechanism.SCRAM_SHA_512.mechanismName());

    private SaslServers() {}

    /**
     * The mechanisms of a {@code sasl.enabled.mechanisms} value, without repeats, in its order.
     *
     * @param key the setting's name, for the error
     * @param protocol what needs them (e.g. "a SASL_SSL listener"), for the error
     * @throws ConfigException for a mechanism not served, or none at all
     */
    public static List<String> enabled(String key, List<String> configured, String protocol) {
        List<String> offered = new ArrayList<>();
        for (String mechanism : configured) {
            if (!SUPPORTED_MECHANISMS.contains(mechanism)) {
                throw new ConfigException(key, String.join(",", configured), "mechanism '" + mechanism
                        + "' is not served; the mechanisms are " + SUPPORTED_MECHANISMS);
            }
            if (!offered.contains(mechanism)) {
                offered.add(mechanism);
            }
        }
        if (offered.isEmpty()) {
            throw new ConfigException(key, "", protocol + " needs at least one of " + SUPPORTED_MECHANISMS);
        }
        return List.copyOf(offered);
    }

    /**
     * A new server for one authentication with {@code mechanism}, one of {@link #SUPPORTED_MECHANISMS}.
     *
     * @throws IllegalArgumentException for any other mechanism
     */
    public static SaslServer create(String mechanism, ScramCredentials credentials) {
        if (mechanism.equals(PLAIN)) {
            return new PlainSaslServer(new SaslCallbacks(credentials, null));
        }
        ScramMechanism scram = ScramMechanism.forMechanismName(mechanism);
        if (scram == null) {
            throw new IllegalArgumentException("SASL mechanism " + mechanism + " is not served; the mechanisms are "
                    + SUPPORTED_MECHANISMS);
        }
        try {
            return new ScramSaslServer(scram, Map.of(), new SaslCallbacks(credentials, scram));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK cannot serve " + mechanism + ": " + e, e);
        }
    }
}
