package io.raftmq.broker.kafka;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.raftmq.broker.sasl.SaslServers;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TlsEngines;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.KafkaPrincipalBuilder;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.auth.SslAuthenticationContext;
import org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

/**
 * How the Kafka listener secures its connections, with Kafka's settings and meanings: the
 * security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL), TLS from the node's {@link
 * NodeTls} keystore and truststore ({@code ssl.client.auth} decides whether clients must show a
 * certificate), the SASL mechanisms offered, and how an authenticated connection becomes a
 * principal (Kafka's own {@link DefaultKafkaPrincipalBuilder}: {@code User:<mapped subject DN>}
 * for a client certificate, {@code User:<name>} after SASL, ANONYMOUS otherwise).
 *
 * <p>Immutable; shared by every connection of a listener.
 */
public final class ListenerSecurity {
    static final String PLAIN = SaslServers.PLAIN;
    static final List<String> SUPPORTED_MECHANISMS = SaslServers.SUPPORTED_MECHANISMS;

    public static final ConfigKey<String> SECURITY_PROTOCOL = ConfigKey.ofChoice("kafka.listener.security.protocol",
            "plaintext", List.of("plaintext", "ssl", "sasl_plaintext", "sasl_ssl"), "Kafka's security protocol of"
                    + " the Kafka listener: PLAINTEXT, SSL (TLS; a client certificate, when one is shown, names the"
                    + " principal), SASL_PLAINTEXT or SASL_SSL (clients authenticate with sasl.enabled.mechanisms"
                    + " against the SCRAM credentials in the metadata). SSL and SASL_SSL use the node's ssl.keystore.*"
                    + " and ssl.truststore.* settings. Kafka clients set the same security.protocol.");
    public static final ConfigKey<List<String>> SASL_ENABLED_MECHANISMS = ConfigKey.ofList("sasl.enabled.mechanisms",
            SUPPORTED_MECHANISMS, "SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener offers: any of PLAIN,"
                    + " SCRAM-SHA-256, SCRAM-SHA-512. PLAIN checks the password against the user's SCRAM credential.");
    public static final ConfigKey<String> SSL_CLIENT_AUTH = ConfigKey.ofChoice("ssl.client.auth", "none",
            List.of("none", "requested", "required"), "Whether an SSL or SASL_SSL listener asks Kafka clients for a"
                    + " certificate signed by a CA of the truststore: none, requested (a client without one connects"
                    + " as ANONYMOUS) or required (a client without a valid one fails the TLS handshake).");
    public static final ConfigKey<String> SSL_PRINCIPAL_MAPPING_RULES = ConfigKey.ofString(
            "ssl.principal.mapping.rules", "DEFAULT", "Kafka's rules mapping a client certificate's subject DN to"
                    + " the principal's name (e.g. RULE:^CN=(.*?),.*$/$1/L,DEFAULT); DEFAULT: the whole DN, as"
                    + " User:CN=alice.");

    public static final List<ConfigKey<?>> KEYS = List.of(SECURITY_PROTOCOL, SASL_ENABLED_MECHANISMS,
            SSL_CLIENT_AUTH, SSL_PRINCIPAL_MAPPING_RULES);

    /** No TLS, no authentication: every connection is ANONYMOUS. */
    public static final ListenerSecurity PLAINTEXT = new ListenerSecurity(SecurityProtocol.PLAINTEXT, null,
            List.of(), SslPrincipalMapper.fromRules("DEFAULT"));

    private final SecurityProtocol protocol;
    /** Null unless the protocol is SSL or SASL_SSL. */
    private final SslContext sslContext;
    /** Empty unless the protocol is SASL_PLAINTEXT or SASL_SSL. */
    private final List<String> saslMechanisms;
    private final KafkaPrincipalBuilder principals;

    private ListenerSecurity(SecurityProtocol protocol, SslContext sslContext, List<String> saslMechanisms,
            SslPrincipalMapper mapper) {
        this.protocol = protocol;
        this.sslContext = sslContext;
        this.saslMechanisms = List.copyOf(saslMechanisms);
        this.principals = new DefaultKafkaPrincipalBuilder(null, mapper);
    }

    /**
     * The listener security the config sets; loads the node's keystore and truststore when the
     * protocol uses TLS.
     *
     * @throws ConfigException naming the setting at fault
     */
    public static ListenerSecurity from(Config config) {
        SecurityProtocol protocol = SecurityProtocol.forName(config.get(SECURITY_PROTOCOL).toUpperCase(Locale.ROOT));
        boolean tls = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
        boolean sasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
        if (tls && !NodeTls.isConfigured(config)) {
            throw new ConfigException(NodeTls.KEYSTORE_LOCATION.name(), "", "is required: "
                    + SECURITY_PROTOCOL.name() + " is " + protocol + " (make the files with deploy/certs.sh)");
        }
        return of(protocol, tls ? NodeTls.load(config) : null, config.get(SSL_CLIENT_AUTH),
                sasl ? config.get(SASL_ENABLED_MECHANISMS) : List.of(), config.get(SSL_PRINCIPAL_MAPPING_RULES));
    }

    /**
     * @param tls the node's TLS identity and trust; required for SSL and SASL_SSL, ignored otherwise
     * @param clientAuth none, requested or required
     * @param mechanisms SASL mechanisms offered (SASL protocols only; at least one)
     * @param mappingRules Kafka's ssl.principal.mapping.rules
     * @throws ConfigException naming the setting at fault
     */
    static ListenerSecurity of(SecurityProtocol protocol, NodeTls tls, String clientAuth, List<String> mechanisms,
            String mappingRules) {
        boolean usesTls = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
        boolean usesSasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
        List<String> offered = usesSasl ? SaslServers.enabled(SASL_ENABLED_MECHANISMS.name(), mechanisms,
                "a " + protocol + " listener") : List.of();
        SslPrincipalMapper mapper;
        try {
            mapper = SslPrincipalMapper.fromRules(mappingRules);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(SSL_PRINCIPAL_MAPPING_RULES.name(), mappingRules, e.getMessage());
        }
        return new ListenerSecurity(protocol, usesTls ? sslContext(tls, clientAuth) : null, offered, mapper);
    }

    private static SslContext sslContext(NodeTls tls, String clientAuth) {
        if (tls == null) {
            throw new ConfigException(NodeTls.KEYSTORE_LOCATION.name(), "", "is required for a TLS listener");
        }
        ClientAuth auth = switch (clientAuth.toLowerCase(Locale.ROOT)) {
            case "none" -> ClientAuth.NONE;
            case "requested" -> ClientAuth.OPTIONAL;
            case "required" -> ClientAuth.REQUIRE;
            default -> throw new ConfigException(SSL_CLIENT_AUTH.name(), clientAuth,
                    "expected none, requested or required");
        };
        try {
            // Kafka's default ssl.enabled.protocols; BoringSSL where it loads (TlsEngines).
            return SslContextBuilder.forServer(tls.keyManagers())
                    .trustManager(tls.trustManagers())
                    .clientAuth(auth)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .sslProvider(TlsEngines.provider())
                    .build();
        } catch (SSLException e) {
            throw new ConfigException(NodeTls.KEYSTORE_LOCATION.name(), "(the node's keystore)",
                    "cannot make a TLS server context of it: " + e.getMessage());
        }
    }

    public SecurityProtocol protocol() {
        return protocol;
    }

    /** The TLS context of SSL and SASL_SSL listeners; null otherwise. */
    SslContext sslContext() {
        return sslContext;
    }

    boolean usesSasl() {
        return !saslMechanisms.isEmpty();
    }

    /** The mechanisms a SASL listener offers (empty on other listeners). */
    List<String> saslMechanisms() {
        return saslMechanisms;
    }

    /** Kafka's principal builder, with this listener's ssl.principal.mapping.rules. */
    KafkaPrincipalBuilder principals() {
        return principals;
    }

    /** Kafka's principal of a TLS client: User:<mapped subject DN>, or ANONYMOUS without a certificate. */
    KafkaPrincipal tlsPrincipal(SSLSession session, InetAddress client) {
        return principals.build(new SslAuthenticationContext(session, client, protocol.name));
    }

    /** One line on why a TLS handshake or session failed: its root cause. */
    static String tlsFailure(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof NotSslRecordException) {
            return "the client does not speak TLS (a plaintext client?)";
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
