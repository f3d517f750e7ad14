package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.ConsumerRecords;
import io.raftmq.client.errors.CommitFailedException;
import io.raftmq.client.errors.RebalanceInProgressException;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import io.raftmq.client.errors.WakeupException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * kafka-console-consumer: prints each record's value (optionally key, partition, offset, time) on a
 * line of its own. Without --group it assigns itself every partition (or --partition); with
 * --group it joins the group and commits, for every partition assigned to it, where it stopped
 * ({@link GroupResumePoints}: after the last record printed, never past one it did not print), so
 * a restart with the same group resumes after the last record printed.
 * Stops after --max-messages, after --timeout-ms without a record, or on Ctrl-C, and then prints
 * "Processed a total of N messages" on stderr.
 */
@Command(name = "console-consumer", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints records of a topic (kafka-console-consumer).")
final class ConsoleConsumerCommand implements Callable<Integer> {
    private static final long COMMIT_INTERVAL_MS = 1_000;
    /** How long a group member may wait for its first assignment before giving up. */
    private static final long JOIN_TIMEOUT_MS = 60_000;
    /** The start position "the beginning of each partition" (not an offset). */
    private static final long START_EARLIEST = -2;
    /** The start position "the end of each partition" (not an offset). */
    private static final long START_LATEST = -1;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = "--from-beginning", description = "Start at the earliest record (when the group has no"
            + " committed offset, with --group).")
    boolean fromBeginning;

    @Option(names = "--group", description = "Consume as a member of this group, committing what was printed.")
    String group;

    @Option(names = "--partition", description = "Read only this partition.")
    Integer partition;

    @Option(names = "--offset", defaultValue = "latest", paramLabel = "OFFSET|earliest|latest",
            description = "Where to start in --partition (default: ${DEFAULT-VALUE}).")
    String offset;

    @Option(names = "--max-messages", description = "Stop after this many records.")
    Long maxMessages;

    @Option(names = "--timeout-ms", description = "Stop when no record arrives for this long.")
    Long timeoutMs;

    @Option(names = "--print-key", description = "Print the key before the value (same as --property print.key=true).")
    boolean printKey;

    @Option(names = "--property", paramLabel = "KEY=VALUE", description = "Formatter properties: print.key,"
            + " print.partition, print.offset, print.timestamp (true|false), key.separator (default TAB).")
    List<String> properties;

    @Option(names = "--consumer-property", paramLabel = "KEY=VALUE", description = "A consumer config.")
    List<String> consumerProperties;

    @Override
    public Integer call() throws InterruptedException {
        RecordFormatter formatter = new RecordFormatter(KeyValues.parse(properties, "--property"), printKey);
        boolean explicitOffset = spec.commandLine().getParseResult().hasMatchedOption("--offset");
        if (explicitOffset && partition == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--offset needs --partition");
        }
        if (partition != null && group != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--partition cannot be used with --group");
        }
        long startOffset = parseOffset();
        Map<String, String> config = KeyValues.parse(consumerProperties, "--consumer-property");
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(config::putIfAbsent);
        config.putIfAbsent(ConsumerConfig.CLIENT_ID, "console-consumer");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT, "false");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET, fromBeginning ? "earliest" : "latest");
        if (group != null) {
            config.put(ConsumerConfig.GROUP_ID, group);
        }

        // The topic's partitions, before anything is consumed: a topic that does not exist is said at
        // once (with --group too, rather than after the group's join wait).
        List<TopicPartition> all = AdminCalls.partitionsOf(connection.bootstrapServer, connection.clientSettings(), topic);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long printed = 0;
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = null;
        try (Consumer<String, String> consumer = new Consumer<>(KeyValues.properties(config),
                Serdes.stringDeserializer(), Serdes.stringDeserializer())) {
            Consumer<String, String> forHook = consumer;
            hook = new Thread(() -> {
                forHook.wakeup();
                awaitQuietly(done);
            }, "console-consumer-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            GroupResumePoints resume = group == null ? null : new GroupResumePoints(consumer);
            position(consumer, startOffset, all, resume);

            long startMs = System.currentTimeMillis();
            long lastRecordMs = startMs;
            long lastCommitMs = startMs;
            try {
                while (maxMessages == null || printed < maxMessages) {
                    long pollMs = timeoutMs == null ? 500 : Math.max(1, Math.min(500, timeoutMs));
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(pollMs));
                    long now = System.currentTimeMillis();
                    for (ConsumerRecord<String, String> r : records) {
                        if (maxMessages != null && printed >= maxMessages) {
                            if (resume != null) {
                                resume.notPrinted(r);
                            }
                            continue;
                        }
                        out.println(formatter.format(r));
                        printed++;
                        if (resume != null) {
                            resume.printed(r);
                        }
                    }
                    if (!records.isEmpty()) {
                        out.flush();
                        lastRecordMs = now;
                    } else if (consumer.assignment().isEmpty()) {
                        // Still joining the group: --timeout-ms counts idle time once partitions are assigned.
                        lastRecordMs = now;
                        if (now - startMs > JOIN_TIMEOUT_MS) {
                            throw new CliException("no partitions of " + topic + " were assigned to this consumer"
                                    + " within " + JOIN_TIMEOUT_MS + " ms (group " + group + ")");
                        }
                    } else if (timeoutMs != null && now - lastRecordMs >= timeoutMs) {
                        break;
                    }
                    if (resume != null && now - lastCommitMs >= COMMIT_INTERVAL_MS) {
                        lastCommitMs = now;
                        try {
                            resume.commit();
                        } catch (RebalanceInProgressException | CommitFailedException e) {
                            // The group is moving partitions: the callbacks commit, or the next round does.
                        }
                    }
                }
            } catch (WakeupException e) {
                // Ctrl-C: stop reading, commit what was printed, report below.
            }
            if (resume != null) {
                resume.commit();
            }
        } finally {
            out.flush();
            err.println("Processed a total of " + printed + " messages");
            err.flush();
            done.countDown();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down: the hook is running and waits for `done`
                }
            }
        }
        return 0;
    }

    private long parseOffset() {
        if (offset.equals("earliest")) {
            return START_EARLIEST;
        }
        if (offset.equals("latest")) {
            return fromBeginning ? START_EARLIEST : START_LATEST;
        }
        try {
            long o = Long.parseLong(offset);
            if (o < 0) {
                throw new NumberFormatException();
            }
            return o;
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "invalid --offset '" + offset + "': a non-negative offset, earliest or latest");
        }
    }

    /**
     * {@link #START_EARLIEST}, {@link #START_LATEST}, or the offset in --partition. {@code all}: the
     * topic's partitions.
     */
    private void position(Consumer<String, String> consumer, long startOffset, List<TopicPartition> all,
            GroupResumePoints resume) {
        if (group != null) {
            consumer.subscribe(List.of(topic), resume);
            return;
        }
        List<TopicPartition> partitions;
        if (partition != null) {
            if (partition < 0 || partition >= all.size()) {
                throw new CliException("topic " + topic + " has no partition " + partition + " (it has "
                        + all.size() + ")");
            }
            partitions = List.of(new TopicPartition(topic, partition));
        } else {
            partitions = all;
        }
        consumer.assign(partitions);
        if (startOffset == START_EARLIEST) {
            consumer.seekToBeginning(partitions);
        } else if (startOffset == START_LATEST) {
            consumer.seekToEnd(partitions);
        } else {
            consumer.seek(partitions.get(0), startOffset);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kafka's DefaultMessageFormatter: [CreateTime:t] [Partition:p] [Offset:o] [key] value, TAB-separated. */
    static final class RecordFormatter {
        private final boolean printKey;
        private final boolean printPartition;
        private final boolean printOffset;
        private final boolean printTimestamp;
        private final String separator;

        RecordFormatter(Map<String, String> props, boolean printKey) {
            this.printKey = printKey || Boolean.parseBoolean(props.getOrDefault("print.key", "false"));
            this.printPartition = Boolean.parseBoolean(props.getOrDefault("print.partition", "false"));
            this.printOffset = Boolean.parseBoolean(props.getOrDefault("print.offset", "false"));
            this.printTimestamp = Boolean.parseBoolean(props.getOrDefault("print.timestamp", "false"));
            this.separator = props.getOrDefault("key.separator", "\t");
        }

        String format(ConsumerRecord<String, String> r) {
            StringBuilder b = new StringBuilder();
            if (printTimestamp) {
                b.append("CreateTime:").append(r.timestamp()).append(separator);
            }
            if (printPartition) {
                b.append("Partition:").append(r.partition()).append(separator);
            }
            if (printOffset) {
                b.append("Offset:").append(r.offset()).append(separator);
            }
            if (printKey) {
                b.append(r.key()).append(separator);
            }
            b.append(r.value());
            return b.toString();
        }
    }
}
