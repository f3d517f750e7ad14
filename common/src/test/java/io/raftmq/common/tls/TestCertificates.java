package io.raftmq.common.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority for tests: node and client keystores (PKCS12) signed by it and a
 * truststore holding it, written under one directory, made in process in milliseconds (EC P-256
 * keys). Node certificates follow the product's rule: subject {@code CN=node-<id>}, SAN localhost,
 * 127.0.0.1 and {@code node<id>}. Every store has the password {@link #password()}.
 *
 * <p>{@link #shared()} is one authority per test JVM (files deleted at exit); {@link #create} makes
 * an independent one (another CA, for "untrusted certificate" tests). Thread-safe: each store is
 * made once under the map's lock.
 */
public final class TestCertificates {
    private static final String PASSWORD = "test-password";
    private static final Duration VALIDITY = Duration.ofDays(2);
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
    private static volatile TestCertificates shared;

    private final Path dir;
    private final String caName;
    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final Path truststore;
    // Guarded by itself (computeIfAbsent): the keystores made so far, by file name.
    private final Map<String, Path> keystores = new ConcurrentHashMap<>();

    private TestCertificates(Path dir, String caName) {
        this.dir = dir;
        this.caName = caName;
        try {
            Files.createDirectories(dir);
            this.caKeys = newKeyPair();
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=" + caName),
                    serial(), Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)),
                    new X500Name("CN=" + caName), caKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            this.caCertificate = sign(builder, caKeys.getPrivate());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", caCertificate);
            this.truststore = dir.resolve("truststore.p12");
            write(trust, truststore);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make the test CA", e);
        }
    }

    /** An independent authority writing under {@code dir}. */
    public static TestCertificates create(Path dir, String caName) {
        return new TestCertificates(dir, caName);
    }

    /** The authority shared by every test of this JVM. */
    public static TestCertificates shared() {
        TestCertificates current = shared;
        if (current == null) {
            synchronized (TestCertificates.class) {
                current = shared;
                if (current == null) {
                    try {
                        Path dir = Files.createTempDirectory("raftmq-test-tls");
                        current = new TestCertificates(dir, "raftmq-test-ca");
                        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir)));
                        shared = current;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
        return current;
    }

    public String password() {
        return PASSWORD;
    }

    public Path truststore() {
        return truststore;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** Node {@code id}'s keystore: subject CN=node-id, valid now. */
    public Path nodeKeystore(int id) {
        return keystore(NodeTls.commonNameOfNode(id), Duration.ofHours(1).negated(), VALIDITY);
    }

    /** A client's keystore: subject CN=name, valid now. */
    public Path clientKeystore(String name) {
        return keystore(name, Duration.ofHours(1).negated(), VALIDITY);
    }

    /** A keystore whose certificate (subject CN=commonName) expired an hour ago. */
    public Path expiredKeystore(String commonName) {
        return keystore(commonName, Duration.ofDays(2).negated(), Duration.ofHours(1).negated());
    }

    /**
     * A keystore for subject {@code CN=commonName}, valid from now + notBefore to now + notAfter,
     * made once per distinct (name, validity) and reused.
     */
    public Path keystore(String commonName, Duration notBefore, Duration notAfter) {
        String file = commonName.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + notBefore.toMinutes() + "-"
                + notAfter.toMinutes() + ".p12";
        return keystores.computeIfAbsent(file, f -> makeKeystore(commonName, notBefore, notAfter, dir.resolve(f)));
    }

    /**
     * The ssl.* settings of node {@code id} (its keystore, this authority's truststore), as a
     * node's config takes them.
     */
    public Map<String, String> nodeConfig(int id) {
        return storeConfig(nodeKeystore(id));
    }

    /** The ssl.* settings naming {@code keystore} and this authority's truststore. */
    public Map<String, String> storeConfig(Path keystore) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put(NodeTls.KEYSTORE_LOCATION.name(), keystore.toString());
        config.put(NodeTls.KEYSTORE_PASSWORD.name(), PASSWORD);
        config.put(NodeTls.TRUSTSTORE_LOCATION.name(), truststore.toString());
        config.put(NodeTls.TRUSTSTORE_PASSWORD.name(), PASSWORD);
        return config;
    }

    /** The CA certificate as a PEM file (for clients such as kcat that read PEM). */
    public Path caPem() {
        Path pem = dir.resolve("ca.pem");
        if (!Files.exists(pem)) {
            writePem(pem, caCertificate);
        }
        return pem;
    }

    private Path makeKeystore(String commonName, Duration notBefore, Duration notAfter, Path file) {
        try {
            KeyPair keys = newKeyPair();
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=" + caName),
                    serial(), Date.from(now.plus(notBefore)), Date.from(now.plus(notAfter)),
                    new X500Name("CN=" + commonName), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            String hostName = commonName.startsWith("node-") ? "node" + commonName.substring(5) : commonName;
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, hostName)}));
            X509Certificate certificate = sign(builder, caKeys.getPrivate());
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(commonName, keys.getPrivate(), PASSWORD.toCharArray(),
                    new X509Certificate[] {certificate, caCertificate});
            write(store, file);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make a test certificate for CN=" + commonName, e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    private static void write(KeyStore store, Path file) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD.toCharArray());
        }
    }

    private static void writePem(Path file, Object object) {
        try (Writer out = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind at exit harms nothing
        }
    }
}
