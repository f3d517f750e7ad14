package io.raftmq.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * {@code --bootstrap-server} and {@code --command-config}, shared by every command that talks to a
 * cluster.
 */
final class ConnectionOptions {
    static final String DEFAULT_BOOTSTRAP = "localhost:9093";

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT[,HOST:PORT...]", defaultValue = DEFAULT_BOOTSTRAP,
            description = "Brokers to connect to first (default: ${DEFAULT-VALUE}).")
    String bootstrapServer = DEFAULT_BOOTSTRAP;

    @Option(names = "--command-config", paramLabel = "FILE",
            description = "Client settings in Kafka's names from a properties file, e.g. for a cluster whose gRPC"
                    + " port speaks TLS: security.protocol=SSL, ssl.truststore.location, ssl.truststore.password,"
                    + " and for mutual TLS ssl.keystore.location, ssl.keystore.password; for a SASL_SSL port"
                    + " security.protocol=SASL_SSL, sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512),"
                    + " sasl.jaas.config (or sasl.username, sasl.password) and ssl.truststore.*; for a"
                    + " SASL_PLAINTEXT port the same without ssl.*.")
    Path commandConfig;

    private Map<String, String> clientSettings;

    /** An admin client for these options (the caller closes it). */
    AdminCalls admin() {
        return new AdminCalls(bootstrapServer, clientSettings());
    }

    /** The settings of {@code --command-config} (empty without it), for every client a command makes. */
    Map<String, String> clientSettings() {
        if (clientSettings == null) {
            Map<String, String> settings = new LinkedHashMap<>();
            if (commandConfig != null) {
                Properties properties = new Properties();
                try (InputStream in = Files.newInputStream(commandConfig)) {
                    properties.load(in);
                } catch (IOException e) {
                    throw new CliException("cannot read --command-config " + commandConfig + ": " + e.getMessage());
                }
                properties.stringPropertyNames().forEach(name -> settings.put(name, properties.getProperty(name)));
            }
            clientSettings = Map.copyOf(settings);
        }
        return clientSettings;
    }
}
