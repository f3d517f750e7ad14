package io.raftmq.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.raftmq.client.errors.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The credentials of a client's channels to the brokers, from Kafka's {@code security.protocol} and
 * {@code ssl.*} settings: plaintext (PLAINTEXT, SASL_PLAINTEXT), or (SSL, SASL_SSL) TLS trusting the truststore's authorities (the server's
 * certificate must chain to one and name the host dialled) and, when a keystore is given, showing
 * its certificate to the broker (mutual TLS; the broker sees the principal {@code User:<subject>}).
 * Stateless; any thread.
 */
final class ClientTls {
    static final String PLAINTEXT = "plaintext";
    static final String SSL = "ssl";
    static final String SASL_SSL = "sasl_ssl";
    static final String SASL_PLAINTEXT = "sasl_plaintext";

    private ClientTls() {}

    /**
     * The channel credentials {@code values} ask for.
     *
     * @throws ConfigException naming the setting at fault: a missing truststore with SSL, a store
     *     that cannot be read or opened (wrong password, wrong type), a keystore without a key
     */
    static ChannelCredentials credentials(ConfigDef.Values values) {
        String protocol = values.string(CommonConfigs.SECURITY_PROTOCOL);
        if (!protocol.equals(SSL) && !protocol.equals(SASL_SSL)) {
            return InsecureChannelCredentials.create();
        }
        String truststore = values.string(CommonConfigs.SSL_TRUSTSTORE_LOCATION);
        if (truststore.isBlank()) {
            throw new ConfigException("config " + CommonConfigs.SSL_TRUSTSTORE_LOCATION + " is required with "
                    + CommonConfigs.SECURITY_PROTOCOL + "=" + protocol.toUpperCase(java.util.Locale.ROOT)
                    + ": the truststore holding the cluster's CA certificate");
        }
        TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
        try {
            KeyStore trust = open(CommonConfigs.SSL_TRUSTSTORE_LOCATION, truststore,
                    values.string(CommonConfigs.SSL_TRUSTSTORE_TYPE),
                    values.string(CommonConfigs.SSL_TRUSTSTORE_PASSWORD));
            if (!trust.aliases().hasMoreElements()) {
                throw new ConfigException("config " + CommonConfigs.SSL_TRUSTSTORE_LOCATION + "=" + truststore
                        + ": the truststore holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            builder.trustManager(tmf.getTrustManagers());
            String keystore = values.string(CommonConfigs.SSL_KEYSTORE_LOCATION);
            if (!keystore.isBlank()) {
                String storePassword = values.string(CommonConfigs.SSL_KEYSTORE_PASSWORD);
                String keyPassword = values.string(CommonConfigs.SSL_KEY_PASSWORD).isEmpty() ? storePassword
                        : values.string(CommonConfigs.SSL_KEY_PASSWORD);
                KeyStore keys = open(CommonConfigs.SSL_KEYSTORE_LOCATION, keystore,
                        values.string(CommonConfigs.SSL_KEYSTORE_TYPE), storePassword);
                boolean hasKey = false;
                for (String alias : Collections.list(keys.aliases())) {
                    hasKey |= keys.isKeyEntry(alias);
                }
                if (!hasKey) {
                    throw new ConfigException("config " + CommonConfigs.SSL_KEYSTORE_LOCATION + "=" + keystore
                            + ": the keystore holds no private key");
                }
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                try {
                    kmf.init(keys, keyPassword.toCharArray());
                } catch (GeneralSecurityException e) {
                    throw new ConfigException("config " + CommonConfigs.SSL_KEY_PASSWORD + ": cannot use the private"
                            + " key in " + keystore + " (" + e.getMessage() + ")");
                }
                builder.keyManager(kmf.getKeyManagers());
            }
        } catch (GeneralSecurityException e) {
            throw new ConfigException("cannot set up TLS from the ssl.* settings: " + e.getMessage());
        }
        return builder.build();
    }

    private static KeyStore open(String key, String location, String type, String password) {
        Path path = Path.of(location);
        if (!Files.isReadable(path)) {
            throw new ConfigException("config " + key + "=" + location + ": no readable file there");
        }
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("config " + key + "=" + location + ": cannot open it as a " + type
                    + " store (wrong password or type?): " + e.getMessage());
        }
    }
}
