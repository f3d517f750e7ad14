package io.raftmq.cli;

import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.protocol.Failures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * kafka-console-producer: one record per line of standard input. With parse.key=true (or
 * --key-separator) the text before the first separator is the key. Sends are asynchronous; a
 * failed send is reported on stderr as it happens, and the exit code is 1 when any failed.
 */
@Command(name = "console-producer", mixinStandardHelpOptions = true,
        description = "Sends each line of standard input as a record (kafka-console-producer).")
final class ConsoleProducerCommand implements Callable<Integer> {
    @ParentCommand
    RaftmqCli root;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true, description = "The topic to produce to.")
    String topic;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "Line reader properties: parse.key=true|false, key.separator=SEP (default TAB),"
                    + " ignore.error=true|false.")
    List<String> properties;

    @Option(names = "--key-separator", paramLabel = "SEP", description = "Parse a key before SEP on each line.")
    String keySeparator;

    @Option(names = {"--acks", "--request-required-acks"}, defaultValue = "all",
            description = "all, 1 or 0 (default: ${DEFAULT-VALUE}).")
    String acks;

    @Option(names = "--producer-property", paramLabel = "KEY=VALUE", description = "A producer config, e.g. linger.ms=0.")
    List<String> producerProperties;

    @Override
    public Integer call() throws IOException {
        Map<String, String> reader = KeyValues.parse(properties, "--property");
        boolean parseKey = Boolean.parseBoolean(reader.getOrDefault("parse.key", "false")) || keySeparator != null;
        String separator = keySeparator != null ? keySeparator : reader.getOrDefault("key.separator", "\t");
        if (parseKey && separator.isEmpty()) {
            throw new CliException("the key separator must not be empty");
        }
        boolean ignoreError = Boolean.parseBoolean(reader.getOrDefault("ignore.error", "false"));

        Map<String, String> config = KeyValues.parse(producerProperties, "--producer-property");
        config.put(ProducerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(config::putIfAbsent);
        config.put(ProducerConfig.ACKS, acks);
        config.putIfAbsent(ProducerConfig.LINGER_MS, "0");
        config.putIfAbsent(ProducerConfig.CLIENT_ID, "console-producer");

        // An unknown topic is said before the first line is read, not after max.block.ms.
        AdminCalls.partitionsOf(connection.bootstrapServer, connection.clientSettings(), topic);
        PrintWriter err = spec.commandLine().getErr();
        AtomicLong failed = new AtomicLong();
        try (Producer<String, String> producer = new Producer<>(KeyValues.properties(config),
                Serdes.stringSerializer(), Serdes.stringSerializer());
                BufferedReader lines = new BufferedReader(new InputStreamReader(root.in(), StandardCharsets.UTF_8))) {
            String line;
            long lineNumber = 0;
            while ((line = lines.readLine()) != null) {
                lineNumber++;
                String key = null;
                String value = line;
                if (parseKey) {
                    int at = line.indexOf(separator);
                    if (at < 0) {
                        failed.incrementAndGet();
                        synchronized (err) {
                            err.println("Error: no key separator '" + separator + "' on line " + lineNumber + ": " + line);
                        }
                        if (!ignoreError) {
                            break;
                        }
                        continue;
                    }
                    key = line.substring(0, at);
                    value = line.substring(at + separator.length());
                }
                long n = lineNumber;
                producer.send(new ProducerRecord<>(topic, key, value), (metadata, exception) -> {
                    if (exception != null) {
                        failed.incrementAndGet();
                        synchronized (err) {
                            err.println("Error: line " + n + " was not sent: "
                                    + Failures.unwrap(exception).getMessage());
                            err.flush();
                        }
                    }
                });
            }
            producer.flush();
        }
        err.flush();
        return failed.get() == 0 ? 0 : RaftmqCli.EXIT_ERROR;
    }
}
