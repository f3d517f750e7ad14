package io.raftmq.common.tls;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A node's TLS identity (its key and certificate chain) and the certificates it trusts, loaded from
 * the keystore and truststore that Kafka's {@code ssl.*} settings name. Every TLS endpoint of a node
 * uses it: the Raft port always, the client listeners when they are secured.
 *
 * <p>A node's certificate names the node: subject {@code CN=node-<id>} ({@link #nodeIdOf}).
 * Immutable once loaded; thread-safe.
 */
public final class NodeTls {
    public static final ConfigKey<String> KEYSTORE_LOCATION = ConfigKey.ofString("ssl.keystore.location", "",
            "Keystore file holding this node's private key and its certificate chain (subject CN=node-<node.id>),"
                    + " for the Raft port's mutual TLS and the secured listeners. deploy/certs.sh makes one.");
    public static final ConfigKey<String> KEYSTORE_PASSWORD = ConfigKey.ofString("ssl.keystore.password", "",
            "Password of ssl.keystore.location.");
    public static final ConfigKey<String> KEY_PASSWORD = ConfigKey.ofString("ssl.key.password", "",
            "Password of the private key in the keystore. Default: ssl.keystore.password.");
    public static final ConfigKey<String> KEYSTORE_TYPE = ConfigKey.ofString("ssl.keystore.type", "PKCS12",
            "Format of ssl.keystore.location: PKCS12 or JKS.");
    public static final ConfigKey<String> TRUSTSTORE_LOCATION = ConfigKey.ofString("ssl.truststore.location", "",
            "Truststore file holding the certificate authorities this node trusts: the cluster's CA.");
    public static final ConfigKey<String> TRUSTSTORE_PASSWORD = ConfigKey.ofString("ssl.truststore.password", "",
            "Password of ssl.truststore.location.");
    public static final ConfigKey<String> TRUSTSTORE_TYPE = ConfigKey.ofString("ssl.truststore.type", "PKCS12",
            "Format of ssl.truststore.location: PKCS12 or JKS.");

    public static final List<ConfigKey<?>> KEYS = List.of(KEYSTORE_LOCATION, KEYSTORE_PASSWORD, KEY_PASSWORD,
            KEYSTORE_TYPE, TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE);

    /** Subject common name of node {@code id}'s certificate. */
    public static String commonNameOfNode(int id) {
        return "node-" + id;
    }

    private final KeyManagerFactory keyManagers;
    private final TrustManagerFactory trustManagers;
    private final X509Certificate certificate;
    private final List<X509Certificate> trusted;

    private NodeTls(KeyManagerFactory keyManagers, TrustManagerFactory trustManagers, X509Certificate certificate,
            List<X509Certificate> trusted) {
        this.keyManagers = keyManagers;
        this.trustManagers = trustManagers;
        this.certificate = certificate;
        this.trusted = trusted;
    }

    /** Whether the config names a keystore (the truststore is then required too). */
    public static boolean isConfigured(Config config) {
        return !config.get(KEYSTORE_LOCATION).isBlank();
    }

    /**
     * Loads the keystore and truststore the config names.
     *
     * @throws ConfigException naming the setting at fault: missing, unreadable, wrong password,
     *     no private key, or no trusted certificate
     */
    public static NodeTls load(Config config) {
        String keystorePassword = config.get(KEYSTORE_PASSWORD);
        String keyPassword = config.get(KEY_PASSWORD).isEmpty() ? keystorePassword : config.get(KEY_PASSWORD);
        KeyStore keystore = open(KEYSTORE_LOCATION, config.get(KEYSTORE_LOCATION), config.get(KEYSTORE_TYPE),
                keystorePassword);
        KeyStore truststore = open(TRUSTSTORE_LOCATION, config.get(TRUSTSTORE_LOCATION),
                config.get(TRUSTSTORE_TYPE), config.get(TRUSTSTORE_PASSWORD));
        X509Certificate own = ownCertificate(keystore, config.get(KEYSTORE_LOCATION));
        List<X509Certificate> trusted = trustedCertificates(truststore, config.get(TRUSTSTORE_LOCATION));
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keystore, keyPassword.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(truststore);
            return new NodeTls(kmf, tmf, own, trusted);
        } catch (GeneralSecurityException e) {
            throw new ConfigException(KEY_PASSWORD.name(), "(hidden)",
                    "cannot use the private key in " + config.get(KEYSTORE_LOCATION) + ": " + e.getMessage());
        }
    }

    public KeyManagerFactory keyManagers() {
        return keyManagers;
    }

    public TrustManagerFactory trustManagers() {
        return trustManagers;
    }

    /** This node's own certificate (the first of its chain). */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The certificates of the truststore: the authorities this node trusts. */
    public List<X509Certificate> trustedCertificates() {
        return trusted;
    }

    /** The subject's common name (CN), if it has one. */
    public static Optional<String> commonName(X509Certificate certificate) {
        try {
            LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
            for (Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return Optional.of(rdn.getValue().toString());
                }
            }
            return Optional.empty();
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
    }

    /** The node id a node certificate names ({@code CN=node-<id>}), if it is one. */
    public static Optional<Integer> nodeIdOf(X509Certificate certificate) {
        return commonName(certificate).flatMap(cn -> {
            if (!cn.startsWith("node-") || cn.length() == "node-".length() || cn.length() > "node-".length() + 10) {
                return Optional.empty();
            }
            String digits = cn.substring("node-".length());
            if (!digits.chars().allMatch(Character::isDigit)) {
                return Optional.empty();
            }
            try {
                return Optional.of(Integer.parseInt(digits));
            } catch (NumberFormatException tooLarge) {
                return Optional.empty();
            }
        });
    }

    private static KeyStore open(ConfigKey<String> key, String location, String type, String password) {
        if (location.isBlank()) {
            throw new ConfigException(key.name(), location, "is required: the Raft port only speaks mutual TLS"
                    + " (make the files with deploy/certs.sh and set the ssl.* settings)");
        }
        Path path = Path.of(location);
        if (!Files.isReadable(path)) {
            throw new ConfigException(key.name(), location, "no readable file there");
        }
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.toCharArray());
            return store;
        } catch (IOException e) {
            throw new ConfigException(key.name(), location, "cannot read it as a " + type + " store (wrong password"
                    + " or not a " + type + " file): " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new ConfigException(key.name(), location, "cannot open it as a " + type + " store: "
                    + e.getMessage());
        }
    }

    private static X509Certificate ownCertificate(KeyStore keystore, String location) {
        try {
            for (String alias : Collections.list(keystore.aliases())) {
                if (keystore.isKeyEntry(alias)) {
                    Certificate[] chain = keystore.getCertificateChain(alias);
                    if (chain != null && chain.length > 0 && chain[0] instanceof X509Certificate own) {
                        return own;
                    }
                }
            }
        } catch (GeneralSecurityException e) {
            throw new ConfigException(KEYSTORE_LOCATION.name(), location, "cannot list its entries: " + e.getMessage());
        }
        throw new ConfigException(KEYSTORE_LOCATION.name(), location, "holds no private key with an X.509"
                + " certificate chain");
    }

    private static List<X509Certificate> trustedCertificates(KeyStore truststore, String location) {
        List<X509Certificate> trusted = new ArrayList<>();
        try {
            for (String alias : Collections.list(truststore.aliases())) {
                if (truststore.getCertificate(alias) instanceof X509Certificate certificate) {
                    trusted.add(certificate);
                }
            }
        } catch (GeneralSecurityException e) {
            throw new ConfigException(TRUSTSTORE_LOCATION.name(), location, "cannot list its entries: "
                    + e.getMessage());
        }
        if (trusted.isEmpty()) {
            throw new ConfigException(TRUSTSTORE_LOCATION.name(), location, "holds no trusted certificate");
        }
        return List.copyOf(trusted);
    }
}
