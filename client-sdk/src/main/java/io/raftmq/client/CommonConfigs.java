package io.raftmq.client;

import io.raftmq.client.ConfigDef.Type;
import io.raftmq.client.errors.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/** Keys every client kind shares, and the host:port parsing of bootstrap.servers. */
final class CommonConfigs {
    static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    static final String CLIENT_ID = "client.id";
    static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    static final String METADATA_MAX_AGE_MS = "metadata.max.age.ms";
    static final String SECURITY_PROTOCOL = "security.protocol";
    static final String SSL_TRUSTSTORE_LOCATION = "ssl.truststore.location";
    static final String SSL_TRUSTSTORE_PASSWORD = "ssl.truststore.password";
    static final String SSL_TRUSTSTORE_TYPE = "ssl.truststore.type";
    static final String SSL_KEYSTORE_LOCATION = "ssl.keystore.location";
    static final String SSL_KEYSTORE_PASSWORD = "ssl.keystore.password";
    static final String SSL_KEYSTORE_TYPE = "ssl.keystore.type";
    static final String SSL_KEY_PASSWORD = "ssl.key.password";
    static final String SASL_MECHANISM = "sasl.mechanism";
    static final String SASL_JAAS_CONFIG = "sasl.jaas.config";
    static final String SASL_USERNAME = "sasl.username";
    static final String SASL_PASSWORD = "sasl.password";

    private CommonConfigs() {
    }

    static ConfigDef define(ConfigDef def) {
        return def.define(BOOTSTRAP_SERVERS, Type.LIST, ConfigDef.REQUIRED,
                        "host:port of one or more brokers, comma-separated, used to find the cluster")
                .define(CLIENT_ID, Type.STRING, "", "a name for this client in broker logs and group descriptions")
                .define(REQUEST_TIMEOUT_MS, Type.INT, 30_000, 1, Integer.MAX_VALUE,
                        "how long one request to a broker may take before it counts as failed")
                .define(RETRY_BACKOFF_MS, Type.LONG, 100L, 0, Long.MAX_VALUE, "wait before retrying a failed request")
                .define(METADATA_MAX_AGE_MS, Type.LONG, 300_000L, 0, Long.MAX_VALUE,
                        "metadata older than this is refreshed even without an error")
                .defineChoice(SECURITY_PROTOCOL, ClientTls.PLAINTEXT,
                        Set.of(ClientTls.PLAINTEXT, ClientTls.SSL, ClientTls.SASL_SSL, ClientTls.SASL_PLAINTEXT),
                        "PLAINTEXT, SSL for a cluster whose gRPC port speaks TLS (grpc.listener.security.protocol"
                                + "=SSL), SASL_SSL: TLS and SASL authentication (grpc.listener.security.protocol"
                                + "=SASL_SSL), or SASL_PLAINTEXT: SASL authentication without TLS"
                                + " (grpc.listener.security.protocol=SASL_PLAINTEXT)")
                .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, "",
                        "with SSL: truststore holding the CA the brokers' certificates chain to (required)")
                .define(SSL_TRUSTSTORE_PASSWORD, Type.STRING, "", "password of ssl.truststore.location")
                .define(SSL_TRUSTSTORE_TYPE, Type.STRING, "PKCS12", "PKCS12 or JKS")
                .define(SSL_KEYSTORE_LOCATION, Type.STRING, "",
                        "with SSL: keystore holding this client's key and certificate, shown to the brokers"
                                + " (mutual TLS; the principal is User:<subject>); empty: none")
                .define(SSL_KEYSTORE_PASSWORD, Type.STRING, "", "password of ssl.keystore.location")
                .define(SSL_KEYSTORE_TYPE, Type.STRING, "PKCS12", "PKCS12 or JKS")
                .define(SSL_KEY_PASSWORD, Type.STRING, "", "password of the key in the keystore; default: the"
                        + " keystore's")
                .define(SASL_MECHANISM, Type.STRING, ClientSasl.GSSAPI, "with SASL_SSL or SASL_PLAINTEXT: PLAIN,"
                        + " SCRAM-SHA-256 or SCRAM-SHA-512 (Kafka's default, GSSAPI, is not served: set one)")
                .define(SASL_JAAS_CONFIG, Type.STRING, "", "with SASL_SSL or SASL_PLAINTEXT: Kafka's form, e.g."
                        + " org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\""
                        + " password=\"secret\"; (PlainLoginModule for PLAIN); only username and password are read")
                .define(SASL_USERNAME, Type.STRING, "", "with SASL_SSL or SASL_PLAINTEXT: the user, instead of"
                        + " sasl.jaas.config")
                .define(SASL_PASSWORD, Type.STRING, "", "with SASL_SSL or SASL_PLAINTEXT: the password, instead of"
                        + " sasl.jaas.config");
    }

    /** bootstrap.servers as host/port pairs; fails naming the entry that is not host:port. */
    static List<BrokerAddress> bootstrap(ConfigDef.Values values) {
        List<String> entries = values.list(BOOTSTRAP_SERVERS);
        if (entries.isEmpty()) {
            throw new ConfigException("config " + BOOTSTRAP_SERVERS + " is empty: give at least one host:port");
        }
        List<BrokerAddress> out = new ArrayList<>();
        for (String entry : entries) {
            int colon = entry.lastIndexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new ConfigException("invalid value '" + entry + "' in config " + BOOTSTRAP_SERVERS
                        + ": must be host:port");
            }
            int port;
            try {
                port = Integer.parseInt(entry.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException("invalid port in '" + entry + "' in config " + BOOTSTRAP_SERVERS);
            }
            if (port < 1 || port > 65535) {
                throw new ConfigException("invalid port " + port + " in '" + entry + "' in config "
                        + BOOTSTRAP_SERVERS + ": must be 1..65535");
            }
            String host = entry.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(new BrokerAddress(host, port));
        }
        return out;
    }

    static Map<String, Object> fromProperties(Properties properties) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (String name : properties.stringPropertyNames()) {
            map.put(name, properties.getProperty(name));
        }
        properties.forEach((k, v) -> map.putIfAbsent(k.toString(), v));
        return map;
    }
}
