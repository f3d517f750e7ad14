package io.raftmq.cli;

import picocli.CommandLine.Option;

/** {@code --bootstrap-server}, shared by every command that talks to a cluster. */
final class ConnectionOptions {
    static final String DEFAULT_BOOTSTRAP = "localhost:9093";

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT[,HOST:PORT...]", defaultValue = DEFAULT_BOOTSTRAP,
            description = "Brokers to connect to first (default: ${DEFAULT-VALUE}).")
    String bootstrapServer = DEFAULT_BOOTSTRAP;
}
