package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.errors.ConfigException;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Config parsing and validation with Kafka's key names. */
class ConfigTest {
    private static void assertRejected(String fragment, Runnable build) {
        ConfigException e = assertThrows(ConfigException.class, build::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should mention " + fragment);
    }

    @Test
    void producerDefaultsAreKafkas() {
        ProducerConfig c = ProducerConfig.builder().bootstrapServers("a:9093,b:9093").build();
        assertTrue(c.idempotenceEnabled());
        assertEquals(-1, c.acks);
        assertEquals(131_072, c.values.intValue(ProducerConfig.BATCH_SIZE));
        assertEquals(33_554_432L, c.values.longValue(ProducerConfig.BUFFER_MEMORY));
        assertEquals(List.of(new BrokerAddress("a", 9093), new BrokerAddress("b", 9093)), c.bootstrap);
    }

    @Test
    void propertiesUseKafkasKeyNames() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "localhost:9093");
        p.setProperty("acks", "1");
        p.setProperty("linger.ms", "20");
        p.setProperty("compression.type", "ZSTD");
        ProducerConfig c = ProducerConfig.fromProperties(p);
        assertFalse(c.idempotenceEnabled(), "acks=1 turns default idempotence off");
        assertEquals(20L, c.values.longValue(ProducerConfig.LINGER_MS));
        assertEquals("zstd", c.values.string(ProducerConfig.COMPRESSION_TYPE));
    }

    @Test
    void badProducerSettingsNameTheKey() {
        assertRejected("bootstrap.servers", () -> ProducerConfig.builder().build());
        assertRejected("host:port", () -> ProducerConfig.builder().bootstrapServers("nohost").build());
        assertRejected("unknown config 'lingerms'", () -> ProducerConfig.builder().bootstrapServers("a:1")
                .set("lingerms", 5).build());
        assertRejected("acks", () -> ProducerConfig.builder().bootstrapServers("a:1").acks("2").build());
        assertRejected("batch.size", () -> ProducerConfig.builder().bootstrapServers("a:1").batchSize(0).build());
        assertRejected("must be a number", () -> ProducerConfig.builder().bootstrapServers("a:1")
                .set("linger.ms", "soon").build());
        assertRejected("compression.type", () -> ProducerConfig.builder().bootstrapServers("a:1")
                .compressionType("brotli").build());
        assertRejected("enable.idempotence=true needs acks must be all", () -> ProducerConfig.builder()
                .bootstrapServers("a:1").enableIdempotence(true).acks("1").build());
        assertRejected("at most 5", () -> ProducerConfig.builder().bootstrapServers("a:1").enableIdempotence(true)
                .maxInFlightRequestsPerConnection(6).build());
        assertRejected("delivery.timeout.ms", () -> ProducerConfig.builder().bootstrapServers("a:1")
                .deliveryTimeoutMs(1000).build());
    }

    @Test
    void consumerSettings() {
        ConsumerConfig c = ConsumerConfig.builder().bootstrapServers("a:1").groupId("g")
                .partitionAssignmentStrategy("roundrobin,org.apache.kafka.clients.consumer.RangeAssignor").build();
        assertEquals(List.of("roundrobin", "range"), c.assignors);
        assertTrue(c.autoCommit);
        ConsumerConfig noGroup = ConsumerConfig.builder().bootstrapServers("a:1").build();
        assertFalse(noGroup.autoCommit, "no group, no auto commit");
        assertRejected("needs a group.id", () -> ConsumerConfig.builder().bootstrapServers("a:1")
                .enableAutoCommit(true).build());
        assertRejected("auto.offset.reset", () -> ConsumerConfig.builder().bootstrapServers("a:1")
                .autoOffsetReset("smallest").build());
        assertRejected("heartbeat.interval.ms", () -> ConsumerConfig.builder().bootstrapServers("a:1")
                .sessionTimeoutMs(1000).heartbeatIntervalMs(1000).build());
        assertRejected("partition.assignment.strategy", () -> ConsumerConfig.builder().bootstrapServers("a:1")
                .partitionAssignmentStrategy("sticky").build());
    }
}
