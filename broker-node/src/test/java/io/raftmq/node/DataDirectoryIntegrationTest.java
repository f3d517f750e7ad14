package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.Record;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's data directory against three combined nodes in this JVM: a partition log that fails
 * (injected "No space left on device") hands the broker's leaderships to other replicas with every
 * acknowledged record, and /health says why; logs of a topic deleted while a broker was down are
 * removed when it comes back.
 */
@Timeout(180)
class DataDirectoryIntegrationTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessCluster cluster;
    private TestBrokerClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private void startCluster(FaultyLogFiles node1Files) throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("replica.lag.time.max.ms", "2000"));
        cluster.start(1, node1Files);
        cluster.start(2);
        cluster.start(3);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
    }

    /** Produces with acks=all until acknowledged, retrying what Kafka clients retry (also STORAGE_ERROR). */
    private long produce(String topic, int partition, String value) {
        ByteBuffer batch = TestBrokerClient.batch(List.of(value.getBytes(StandardCharsets.UTF_8)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        TestBrokerClient.ProduceOutcome last;
        do {
            last = client.produceOnce(topic, partition, -1, 10_000, batch);
            if (last.error() == ErrorCode.NONE) {
                return last.baseOffset();
            }
            if (!TestBrokerClient.RETRIABLE.contains(last.error()) && last.error() != ErrorCode.STORAGE_ERROR) {
                break;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        } while (System.nanoTime() < deadline);
        throw new IllegalStateException("produce to " + topic + "-" + partition + " failed: " + last);
    }

    private PartitionRegistration registration(int node, String topic, int partition) {
        return cluster.node(node).broker().image().topic(topic).partition(partition);
    }

    private HttpResponse<String> health(int node) throws Exception {
        return get(node, "/health");
    }

    private HttpResponse<String> get(int node, String path) throws Exception {
        URI uri = URI.create("http://" + cluster.httpAddress(node) + path);
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aFailedLogHandsItsLeadershipsToOtherReplicasWithEveryAcknowledgedRecord() throws Exception {
        FaultyLogFiles files = new FaultyLogFiles();
        startCluster(files);
        client.createTopic("orders", 3, 3, Map.of("min.insync.replicas", "2"));
        int led = -1;
        for (int p = 0; p < 3 && led < 0; p++) {
            if (registration(2, "orders", p).leader() == 1) {
                led = p;
            }
        }
        assertTrue(led >= 0, "node 1 leads no partition of orders");
        int partition = led;
        // offset -> value of every acknowledged record. A retry after a timed-out attempt may write a
        // record twice (no idempotence here), so offsets are checked, not counted.
        Map<Long, String> acknowledged = new TreeMap<>();
        for (int i = 0; i < 50; i++) {
            String value = "before-" + i;
            acknowledged.put(produce("orders", partition, value), value);
        }

        files.failLog("orders-" + partition);
        // Records keep being acknowledged: the first attempts meet the failed log, later ones the new leader.
        for (int i = 0; i < 50; i++) {
            String value = "after-" + i;
            acknowledged.put(produce("orders", partition, value), value);
        }
        assertEquals(100, acknowledged.size(), "two acknowledgements named the same offset: " + acknowledged);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int node = 2; node <= 3; node++) {
                PartitionRegistration reg = registration(node, "orders", partition);
                assertTrue(reg.leader() == 2 || reg.leader() == 3, "leader " + reg.leader() + " on node " + node);
                assertFalse(reg.isInIsr(1), "ISR " + reg.isr() + " on node " + node);
                for (int p = 0; p < 3; p++) {
                    // One data directory: every leadership of the broker moved, not only the failed log's.
                    assertTrue(registration(node, "orders", p).leader() != 1, "partition " + p + " still led by 1");
                }
            }
        });
        // It stopped heartbeating once its leaderships were gone: its session expires and it stays fenced.
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.node(2).broker().image().broker(1).state()
                == BrokerState.FENCED);
        List<String> read = client.readAll("orders", partition, 0).stream()
                .map(Record::valueBytes).map(v -> new String(v, StandardCharsets.UTF_8)).toList();
        acknowledged.forEach((offset, value) -> assertEquals(value, read.get(offset.intValue()),
                "the record acknowledged at offset " + offset));

        HttpResponse<String> health = health(1);
        assertEquals(503, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"status\":\"unavailable\""), health.body());
        assertTrue(health.body().contains("the data directory failed"), health.body());
        assertTrue(health.body().contains("{\"log\":\"orders-" + partition + "\",\"cause\":\"java.io.IOException: No"
                + " space left on device (injected)"), health.body());
        assertEquals(200, health(2).statusCode(), health(2).body());
        assertTrue(get(1, "/metrics").body().contains("\nraftmq_offline_logs 1\n"));
        assertTrue(get(2, "/metrics").body().contains("\nraftmq_offline_logs 0\n"));
    }

    @Test
    void logsOfATopicDeletedWhileTheBrokerWasDownAreRemovedWhenItComesBack() throws Exception {
        startCluster(new FaultyLogFiles());
        client.createTopic("gone", 2, 3, Map.of());
        client.createTopic("kept", 1, 3, Map.of());
        produce("gone", 0, "a");
        produce("kept", 0, "b");
        Path logs = dir.resolve("node-3").resolve("logs");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.isDirectory(logs.resolve("gone-0")));

        cluster.stop(3);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap()))) {
            admin.deleteTopics(List.of("gone")).all().get(30, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.node(1).broker().image().topic("gone") == null);
        assertTrue(Files.isDirectory(logs.resolve("gone-0")));

        cluster.start(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertEquals(null, cluster.node(3).broker().logManager().get(new TopicPartition("gone", 0)));
            assertEquals(List.of("kept-0"), entries(logs));
        });
    }

    private static List<String> entries(Path logs) throws Exception {
        try (Stream<Path> list = Files.list(logs)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("__")).sorted().toList();
        }
    }
}
