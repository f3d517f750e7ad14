package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The health and metrics endpoints of three combined nodes in this JVM: 503 with the reason while a
 * lone node has no quorum, 200 once the cluster runs, gauges that follow topic creation and a node's
 * shutdown.
 */
@Timeout(120)
class NodeHttpServerTest {
    private static final Pattern SAMPLE = Pattern.compile("^(raftmq_[a-z_]+(?:\\{[a-z_]+=\"[A-Za-z]+\"})?) (-?\\d+)$",
            Pattern.MULTILINE);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    @Test
    void healthAndMetricsFollowTheClusterState() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of());
        cluster.start(1);

        // One voter of three: no leader can be elected, the broker cannot register.
        HttpResponse<String> alone = get(1, "/health");
        assertEquals(503, alone.statusCode(), alone.body());
        assertTrue(alone.body().contains("\"status\":\"unavailable\""), alone.body());
        assertTrue(alone.body().contains("the metadata quorum has no known leader"), alone.body());
        assertTrue(alone.body().contains("broker is not registered yet"), alone.body());
        assertEquals("application/json", alone.headers().firstValue("Content-Type").orElse(""));
        assertEquals(1, metrics(1).get("raftmq_broker_fenced"));
        assertEquals(-1, metrics(1).get("raftmq_metadata_quorum_leader"));

        cluster.start(2);
        cluster.start(3);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        for (int id = 1; id <= 3; id++) {
            int node = id;
            await().atMost(Duration.ofSeconds(10)).until(() -> get(node, "/health").statusCode() == 200);
            String body = get(node, "/health").body();
            assertTrue(body.startsWith("{\"status\":\"ok\",\"node_id\":" + node
                    + ",\"roles\":[\"broker\",\"controller\"],\"listeners\":{\"grpc\":\""
                    + cluster.addresses().get(node - 1) + "\",\"kafka\":\"" + cluster.kafkaAddresses().get(node - 1)
                    + "\"},\"broker_state\":\"running\""), body);
            assertTrue(body.matches(".*\"active_controller\":[123],\"metadata_offset\":\\d+}\\s*"), body);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sumOverNodes("raftmq_controller_active") == 1);
        Map<String, Long> m1 = metrics(1);
        assertEquals(0, m1.get("raftmq_broker_fenced"));
        assertTrue(m1.get("raftmq_metadata_offset") > 0, m1.toString());
        assertEquals(0, m1.get("raftmq_kafka_connections_refused_total"), "the Kafka listener's counters: " + m1);
        assertEquals(m1.get("raftmq_metadata_quorum_leader"), metrics(2).get("raftmq_metadata_quorum_leader"));

        try (TestBrokerClient client = new TestBrokerClient(cluster.addresses())) {
            client.createTopic("health", 3, 3, Map.of());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sumOverNodes("raftmq_partitions_led") == 3
                && sumOverNodes("raftmq_partitions") == 9 && sumOverNodes("raftmq_under_replicated_partitions") == 0);

        // A clean stop moves node 3's leaderships away and takes it out of every ISR.
        cluster.stop(3);
        await().atMost(Duration.ofSeconds(20)).until(() -> metrics(1).get("raftmq_partitions_led")
                + metrics(2).get("raftmq_partitions_led") == 3
                && metrics(1).get("raftmq_under_replicated_partitions")
                        + metrics(2).get("raftmq_under_replicated_partitions") == 3);
        assertEquals(200, get(1, "/health").statusCode());

        assertEquals(404, get(1, "/nothing").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri(1, "/health"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    private URI uri(int node, String path) {
        HostPort address = cluster.httpAddress(node);
        return URI.create("http://" + address + path);
    }

    private HttpResponse<String> get(int node, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(node, path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of a node's /metrics, checking the text format on the way. */
    private Map<String, Long> metrics(int node) throws Exception {
        HttpResponse<String> response = get(node, "/metrics");
        assertEquals(200, response.statusCode());
        assertEquals(NodeHttpServer.PROMETHEUS_CONTENT_TYPE, response.headers().firstValue("Content-Type").orElse(""));
        Map<String, Long> samples = new HashMap<>();
        for (String line : response.body().split("\n")) {
            if (line.startsWith("#")) {
                assertTrue(line.matches("# (HELP raftmq_[a-z_]+ .+|TYPE raftmq_[a-z_]+ (gauge|counter))"), line);
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            samples.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return samples;
    }

    private long sumOverNodes(String metric) throws Exception {
        long sum = 0;
        for (int id = 1; id <= 3; id++) {
            if (cluster.node(id) != null) {
                sum += metrics(id).getOrDefault(metric, 0L);
            }
        }
        return sum;
    }
}
