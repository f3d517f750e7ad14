package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.ConsumerRecords;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import java.io.PrintWriter;
import java.text.SimpleDateFormat;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * kafka-consumer-perf-test: reads --num-records records from the start of every partition of the
 * topic and prints Kafka's summary line (MB = 2^20 bytes of keys and values). Without --group the
 * consumer assigns itself every partition, so no rebalance is timed (rebalance.time.ms is 0);
 * with one it subscribes, and the time until the first records is the rebalance time.
 */
@Command(name = "consume", mixinStandardHelpOptions = true,
        description = "Consumer throughput (kafka-consumer-perf-test).")
final class PerfConsumeCommand implements Callable<Integer> {
    private static final String HEADER = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,"
            + " nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
    private static final double MB = 1024.0 * 1024.0;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = {"--num-records", "--messages"}, required = true, description = "How many records to read.")
    long numRecords;

    @Option(names = "--group", description = "Consume as a member of this group (default: assign every partition).")
    String group;

    @Option(names = "--timeout", defaultValue = "10000", paramLabel = "MS",
            description = "Give up after this long without a record (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--reporting-interval", defaultValue = "5000", paramLabel = "MS",
            description = "Progress line period (default: ${DEFAULT-VALUE}).")
    long reportingIntervalMs;

    @Option(names = "--consumer-props", arity = "1..*", paramLabel = "KEY=VALUE", description = "Consumer configs.")
    List<String> consumerProps;

    @Override
    public Integer call() {
        if (numRecords <= 0) {
            throw new CliException("--num-records must be positive, got " + numRecords);
        }
        Map<String, String> config = KeyValues.parse(consumerProps, "--consumer-props");
        config.putIfAbsent(ConsumerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(config::putIfAbsent);
        config.putIfAbsent(ConsumerConfig.CLIENT_ID, "perf-consumer");
        config.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET, "earliest");
        config.putIfAbsent(ConsumerConfig.ENABLE_AUTO_COMMIT, "false");
        if (group != null) {
            config.put(ConsumerConfig.GROUP_ID, group);
        }
        PrintWriter out = spec.commandLine().getOut();
        long count = 0;
        long bytes = 0;
        // Checked with --group too: a topic that does not exist is said at once, not after --timeout.
        List<TopicPartition> partitions = AdminCalls.partitionsOf(connection.bootstrapServer, connection.clientSettings(), topic);
        long startMs;
        long endMs;
        long firstRecordMs = -1;
        try (Consumer<byte[], byte[]> consumer = new Consumer<>(KeyValues.properties(config),
                Serdes.byteArrayDeserializer(), Serdes.byteArrayDeserializer())) {
            // As Kafka's consumer perf tool: the clock starts after the consumer is built, before it
            // subscribes (or is assigned) and fetches its first metadata.
            startMs = System.currentTimeMillis();
            if (group == null) {
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
            } else {
                consumer.subscribe(List.of(topic));
            }
            long lastRecordMs = startMs;
            long windowStartMs = startMs;
            long windowCount = 0;
            long windowBytes = 0;
            while (count < numRecords) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                long now = System.currentTimeMillis();
                if (records.isEmpty()) {
                    if (now - lastRecordMs > timeoutMs) {
                        throw new CliException("no record for " + timeoutMs + " ms after " + count
                                + " records; the topic holds fewer than " + numRecords + "?");
                    }
                    continue;
                }
                if (firstRecordMs < 0) {
                    firstRecordMs = now;
                }
                lastRecordMs = now;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    long size = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
                    count++;
                    bytes += size;
                    windowCount++;
                    windowBytes += size;
                }
                if (now - windowStartMs >= reportingIntervalMs) {
                    double s = (now - windowStartMs) / 1000.0;
                    out.printf(Locale.ROOT, "%d records consumed, %.1f records/sec (%.2f MB/sec), %.4f MB in total.%n",
                            windowCount, windowCount / s, windowBytes / MB / s, bytes / MB);
                    out.flush();
                    windowStartMs = now;
                    windowCount = 0;
                    windowBytes = 0;
                }
            }
            endMs = System.currentTimeMillis(); // before close, as Kafka's tool
        }
        double elapsedS = Math.max(1, endMs - startMs) / 1000.0;
        long rebalanceMs = group == null ? 0 : Math.max(0, firstRecordMs - startMs);
        long fetchMs = Math.max(1, endMs - startMs - rebalanceMs);
        double mb = bytes / MB;
        SimpleDateFormat time = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss:SSS", Locale.ROOT);
        out.println(HEADER);
        out.printf(Locale.ROOT, "%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f%n",
                time.format(new Date(startMs)), time.format(new Date(endMs)), mb, mb / elapsedS, count,
                count / elapsedS, rebalanceMs, fetchMs, mb / (fetchMs / 1000.0), count / (fetchMs / 1000.0));
        out.flush();
        return 0;
    }
}
