import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Kafka's consumer reading a topic from the beginning, as ConsumerPerformance
 * (kafka-consumer-perf-test) does, but with assign() instead of a consumer group, so that the
 * rate measured is the fetch rate without a group's join (STEPS=groups runs Kafka's own tool, which
 * subscribes). The consumer's
 * settings are ConsumerPerformance's (Kafka's defaults; byte-array deserializers, the bytes are not
 * decoded), so both brokers are measured with the same client doing the same work. Reports the
 * fetch-only rate: from the first poll to the last record, as ConsumerPerformance's fetch.MB.sec.
 *
 * <p>Usage: AssignedConsumerPerformance BOOTSTRAP TOPIC MESSAGES TIMEOUT_MS [consumer.prop=value ...]
 */
public class AssignedConsumerPerformance {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        long messages = Long.parseLong(args[2]);
        long timeoutMs = Long.parseLong(args[3]);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        props.put("enable.auto.commit", "false");
        props.put("check.crcs", "false"); // ConsumerPerformance's default
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long records = 0;
            long bytes = 0;
            long start = System.nanoTime();
            long lastRecordAt = start;
            long idleSince = start;
            while (records < messages) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
                long now = System.nanoTime();
                if (batch.isEmpty()) {
                    if ((now - idleSince) / 1_000_000 > timeoutMs) {
                        System.err.printf("no record for %d ms; stopping at %d of %d%n", timeoutMs, records, messages);
                        break;
                    }
                    continue;
                }
                idleSince = now;
                lastRecordAt = now;
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    records++;
                    bytes += r.serializedValueSize() + Math.max(0, r.serializedKeySize());
                }
            }
            double seconds = (lastRecordAt - start) / 1e9;
            double mb = bytes / (1024.0 * 1024.0);
            System.out.printf("%d records, %.4f MB in %.3f s: %.4f MB/s, %.1f records/s (fetch only, assign())%n",
                    records, mb, seconds, mb / seconds, records / seconds);
        }
    }
}
