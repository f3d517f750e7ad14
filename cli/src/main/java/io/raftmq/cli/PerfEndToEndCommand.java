package io.raftmq.cli;

import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerConfig;
import io.raftmq.client.ConsumerRecord;
import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import java.io.PrintWriter;
import java.time.Duration;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Kafka's EndToEndLatency: sends one record at a time (waiting for its acknowledgement), then polls
 * a consumer positioned at the end of every partition until that record arrives; the latency is
 * from before the send to the record in hand. Prints the latency of every 1000th record, then the
 * average and the percentiles in whole milliseconds as Kafka does, and a microsecond line.
 */
@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = "End-to-end latency, one record at a time (Kafka's EndToEndLatency).")
final class PerfEndToEndCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = "--num-records", required = true)
    int numRecords;

    @Option(names = "--record-size", defaultValue = "100", paramLabel = "BYTES",
            description = "Bytes per record value (default: ${DEFAULT-VALUE}).")
    int recordSize;

    @Option(names = "--acks", defaultValue = "all", description = "all, 1 or 0 (default: ${DEFAULT-VALUE}).")
    String acks;

    @Option(names = "--timeout-ms", defaultValue = "10000",
            description = "Fail when a record does not arrive within this long (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--producer-props", arity = "1..*", paramLabel = "KEY=VALUE", description = "Producer configs.")
    List<String> producerProps;

    @Override
    public Integer call() throws Exception {
        if (numRecords <= 0) {
            throw new CliException("--num-records must be positive, got " + numRecords);
        }
        Map<String, String> pc = KeyValues.parse(producerProps, "--producer-props");
        pc.putIfAbsent(ProducerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(pc::putIfAbsent);
        pc.putIfAbsent(ProducerConfig.CLIENT_ID, "e2e-producer");
        pc.putIfAbsent(ProducerConfig.LINGER_MS, "0");
        pc.put(ProducerConfig.ACKS, acks);
        Map<String, String> cc = new java.util.HashMap<>();
        cc.put(ConsumerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(cc::putIfAbsent);
        cc.put(ConsumerConfig.CLIENT_ID, "e2e-consumer");
        cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT, "false");
        cc.put(ConsumerConfig.FETCH_MAX_WAIT_MS, "500");

        PrintWriter out = spec.commandLine().getOut();
        Histogram histogram = new Histogram(3_600_000_000L, 3);
        long[] latenciesMs = new long[numRecords];
        long totalNs = 0;
        Random random = new Random();
        Set<ByteBuffer> sent = new HashSet<>();
        try (Producer<byte[], byte[]> producer = new Producer<>(KeyValues.properties(pc), Serdes.byteArraySerializer(),
                Serdes.byteArraySerializer());
                Consumer<byte[], byte[]> consumer = new Consumer<>(KeyValues.properties(cc),
                        Serdes.byteArrayDeserializer(), Serdes.byteArrayDeserializer())) {
            List<TopicPartition> partitions = AdminCalls.partitionsOf(connection.bootstrapServer, connection.clientSettings(), topic);
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            for (TopicPartition tp : partitions) {
                consumer.position(tp); // resolve the end offsets now, not during the first measurement
            }
            for (int i = 0; i < numRecords; i++) {
                byte[] value = new byte[recordSize];
                random.nextBytes(value);
                sent.add(ByteBuffer.wrap(value));
                long begin = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, value)).get();
                boolean received = false;
                long deadline = System.currentTimeMillis() + timeoutMs;
                while (!received) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(timeoutMs))) {
                        ByteBuffer content = ByteBuffer.wrap(r.value());
                        if (Arrays.equals(r.value(), value)) {
                            received = true;
                        } else if (!sent.contains(content)) {
                            throw new CliException("record " + i + ": a record this test did not send arrived: is"
                                    + " another producer writing to " + topic + "?");
                        }
                        // else: a second copy of an earlier record (a retried send without broker-side
                        // idempotence), not a measurement
                    }
                    if (!received && System.currentTimeMillis() > deadline) {
                        throw new CliException("record " + i + " was acknowledged but not consumed within "
                                + timeoutMs + " ms");
                    }
                }
                long elapsedNs = System.nanoTime() - begin;
                if (i % 1000 == 0) {
                    out.printf(Locale.ROOT, "%d\t%s%n", i, elapsedNs / 1000.0 / 1000.0);
                    out.flush();
                }
                totalNs += elapsedNs;
                latenciesMs[i] = elapsedNs / 1_000_000;
                histogram.recordValue(Math.min(elapsedNs / 1000, histogram.getHighestTrackableValue()));
            }
        }
        Arrays.sort(latenciesMs);
        out.printf(Locale.ROOT, "Avg latency: %.4f ms%n%n", totalNs / (double) numRecords / 1000.0 / 1000.0);
        out.printf(Locale.ROOT, "Percentiles: 50th = %d, 99th = %d, 99.9th = %d%n", latenciesMs[(int) (numRecords * 0.5)],
                latenciesMs[(int) (numRecords * 0.99)], latenciesMs[(int) (numRecords * 0.999)]);
        out.printf(Locale.ROOT, "Percentiles (us): 50th = %d, 95th = %d, 99th = %d, 99.9th = %d, max = %d%n",
                histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(95),
                histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9), histogram.getMaxValue());
        out.flush();
        return 0;
    }
}
