package io.raftmq.client;

import io.raftmq.client.ConfigDef.Type;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Admin client settings: bootstrap.servers, client.id, request.timeout.ms, default.api.timeout.ms. */
public final class AdminConfig {
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
    public static final String DEFAULT_API_TIMEOUT_MS = "default.api.timeout.ms";

    static final ConfigDef DEF = CommonConfigs.define(new ConfigDef())
            .define(DEFAULT_API_TIMEOUT_MS, Type.LONG, 60_000L, 1, Long.MAX_VALUE,
                    "how long one admin operation may take, retries included");

    final ConfigDef.Values values;
    final List<BrokerAddress> bootstrap;

    private AdminConfig(Map<String, ?> input) {
        this.values = DEF.parse(input);
        this.bootstrap = CommonConfigs.bootstrap(values);
    }

    public static AdminConfig fromProperties(Properties properties) {
        return new AdminConfig(CommonConfigs.fromProperties(properties));
    }

    public static AdminConfig fromMap(Map<String, ?> map) {
        return new AdminConfig(map);
    }

    /** Just the bootstrap servers, everything else at its default. */
    public static AdminConfig of(String bootstrapServers) {
        return new AdminConfig(Map.of(BOOTSTRAP_SERVERS, bootstrapServers));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Not thread-safe. */
    public static final class Builder {
        private final Map<String, Object> map = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder set(String key, Object value) {
            map.put(key, value);
            return this;
        }

        public Builder bootstrapServers(String servers) {
            return set(BOOTSTRAP_SERVERS, servers);
        }

        public Builder clientId(String id) {
            return set(CLIENT_ID, id);
        }

        public Builder requestTimeoutMs(int ms) {
            return set(REQUEST_TIMEOUT_MS, ms);
        }

        public Builder defaultApiTimeoutMs(long ms) {
            return set(DEFAULT_API_TIMEOUT_MS, ms);
        }

        public AdminConfig build() {
            return new AdminConfig(map);
        }
    }
}
