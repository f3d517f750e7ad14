package io.raftmq.client;

import java.util.List;
import java.util.Map;

/**
 * What the settings of every client kind share: the common keys under the names each public config
 * class shows (ProducerConfig.BOOTSTRAP_SERVERS and so on), the checked values, and the bootstrap
 * brokers. Package-private: users see only the subclasses. Immutable.
 */
abstract class ClientConfig {
    public static final String BOOTSTRAP_SERVERS = CommonConfigs.BOOTSTRAP_SERVERS;
    public static final String CLIENT_ID = CommonConfigs.CLIENT_ID;
    public static final String REQUEST_TIMEOUT_MS = CommonConfigs.REQUEST_TIMEOUT_MS;
    /**
     * PLAINTEXT (default), SSL (TLS to a cluster with grpc.listener.security.protocol=SSL) or SASL_SSL
     * (TLS, and SASL authentication with sasl.mechanism and sasl.jaas.config).
     */
    public static final String SECURITY_PROTOCOL = CommonConfigs.SECURITY_PROTOCOL;
    public static final String SSL_TRUSTSTORE_LOCATION = CommonConfigs.SSL_TRUSTSTORE_LOCATION;
    public static final String SSL_TRUSTSTORE_PASSWORD = CommonConfigs.SSL_TRUSTSTORE_PASSWORD;
    public static final String SSL_TRUSTSTORE_TYPE = CommonConfigs.SSL_TRUSTSTORE_TYPE;
    /** Optional: this client's certificate for mutual TLS. */
    public static final String SSL_KEYSTORE_LOCATION = CommonConfigs.SSL_KEYSTORE_LOCATION;
    public static final String SSL_KEYSTORE_PASSWORD = CommonConfigs.SSL_KEYSTORE_PASSWORD;
    public static final String SSL_KEYSTORE_TYPE = CommonConfigs.SSL_KEYSTORE_TYPE;
    public static final String SSL_KEY_PASSWORD = CommonConfigs.SSL_KEY_PASSWORD;
    /** With SASL_SSL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
    public static final String SASL_MECHANISM = CommonConfigs.SASL_MECHANISM;
    /** With SASL_SSL: Kafka's JAAS line naming the username and password. */
    public static final String SASL_JAAS_CONFIG = CommonConfigs.SASL_JAAS_CONFIG;
    /** With SASL_SSL: the username and password, instead of sasl.jaas.config. */
    public static final String SASL_USERNAME = CommonConfigs.SASL_USERNAME;
    public static final String SASL_PASSWORD = CommonConfigs.SASL_PASSWORD;

    final ConfigDef.Values values;
    final List<BrokerAddress> bootstrap;

    /** Checks {@code input} against {@code def} (every key of the client kind, common ones included). */
    ClientConfig(ConfigDef def, Map<String, ?> input) {
        this.values = def.parse(input);
        this.bootstrap = CommonConfigs.bootstrap(values);
    }
}
