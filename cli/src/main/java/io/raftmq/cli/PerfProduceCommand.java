package io.raftmq.cli;

import io.raftmq.client.Producer;
import io.raftmq.client.ProducerConfig;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.protocol.Failures;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * kafka-producer-perf-test: sends --num-records records of --record-size random bytes (no key, so
 * the sticky partitioner fills batches), measuring each from the send call to its acknowledgement.
 */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = "Producer throughput and latency (kafka-producer-perf-test).")
final class PerfProduceCommand implements Callable<Integer> {
    static final long REPORTING_INTERVAL_MS = 5_000;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = "--num-records", required = true, description = "How many records to send.")
    long numRecords;

    @Option(names = "--record-size", required = true, paramLabel = "BYTES", description = "Bytes per record value.")
    int recordSize;

    @Option(names = "--throughput", defaultValue = "-1",
            description = "At most this many records per second; -1: as fast as possible (default).")
    double throughput;

    @Option(names = "--acks", description = "all, 1 or 0 (default: the producer's, all).")
    String acks;

    @Option(names = "--producer-props", arity = "1..*", paramLabel = "KEY=VALUE",
            description = "Producer configs, e.g. linger.ms=5 batch.size=65536.")
    List<String> producerProps;

    @Override
    public Integer call() throws Exception {
        if (numRecords <= 0) {
            throw new CliException("--num-records must be positive, got " + numRecords);
        }
        if (recordSize <= 0) {
            throw new CliException("--record-size must be positive, got " + recordSize);
        }
        Map<String, String> config = KeyValues.parse(producerProps, "--producer-props");
        config.putIfAbsent(ProducerConfig.BOOTSTRAP_SERVERS, connection.bootstrapServer);
        connection.clientSettings().forEach(config::putIfAbsent);
        config.putIfAbsent(ProducerConfig.CLIENT_ID, "perf-producer");
        if (acks != null) {
            config.put(ProducerConfig.ACKS, acks);
        }
        // As perf consume and e2e do: an unknown topic is said at once, not after max.block.ms per record.
        AdminCalls.partitionsOf(config.get(ProducerConfig.BOOTSTRAP_SERVERS), connection.clientSettings(), topic);
        PrintWriter out = spec.commandLine().getOut();
        byte[] payload = new byte[recordSize];
        Random random = new Random(); // the payload's content does not matter; random like Kafka's
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) ('A' + random.nextInt(26));
        }
        ProducePerfStats stats = new ProducePerfStats(out, System::currentTimeMillis, REPORTING_INTERVAL_MS);
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        try (Producer<byte[], byte[]> producer = new Producer<>(KeyValues.properties(config),
                Serdes.byteArraySerializer(), Serdes.byteArraySerializer())) {
            Throttler throttler = new Throttler(throughput, System.nanoTime());
            for (long i = 0; i < numRecords; i++) {
                throttler.await(i, System.nanoTime());
                long sentNs = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, payload), (metadata, exception) -> {
                    if (exception != null) {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, exception);
                    } else {
                        stats.record((System.nanoTime() - sentNs) / 1000, recordSize);
                    }
                });
            }
            producer.flush();
            out.println(stats.summary());
            out.flush();
        }
        if (failed.get() > 0) {
            throw new CliException(failed.get() + " of " + numRecords + " records failed; the first: "
                    + Failures.unwrap(firstError.get()).getMessage());
        }
        return 0;
    }
}
