package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/** murmur2 and key -> partition agree with kafka-clients for a table of keys. */
class PartitionerTest {
    @Test
    void murmur2MatchesKafka() {
        String[] keys = {"", "a", "ab", "abc", "abcd", "abcde", "order-17", "user:42", "ünïcödé", "k".repeat(1000)};
        for (String k : keys) {
            byte[] bytes = k.getBytes(StandardCharsets.UTF_8);
            assertEquals(Utils.murmur2(bytes), Partitioner.murmur2(bytes), "murmur2(\"" + k + "\")");
        }
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[random.nextInt(40)];
            random.nextBytes(bytes);
            assertEquals(Utils.murmur2(bytes), Partitioner.murmur2(bytes), "random key " + i);
        }
    }

    @Test
    void keyedPartitionMatchesKafkaForEveryPartitionCount() {
        for (int n = 1; n <= 64; n++) {
            for (int i = 0; i < 100; i++) {
                byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
                assertEquals(Utils.toPositive(Utils.murmur2(key)) % n, Partitioner.partitionForKey(key, n));
            }
        }
    }
}
