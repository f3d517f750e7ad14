package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web view's server side on three combined nodes in this JVM: the page and its files from the
 * jar, the cluster snapshot with every node's own view merged in, the event stream (the state on
 * connect, then each metadata change and its timeline events), and the streams' own bound, which
 * leaves /health answering.
 */
@Timeout(120)
class WebViewIntegrationTest {
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
    void servesThePageTheSnapshotAndLiveEvents() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("http.max.event.streams", "1"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));

        HttpResponse<String> page = get(1, "/");
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElse(""));
        assertTrue(page.body().contains("<script src=\"/ui/lib/uPlot.iife.min.js\"></script>"), page.body());
        HttpResponse<String> uplot = get(1, "/ui/lib/uPlot.iife.min.js");
        assertEquals(200, uplot.statusCode());
        assertTrue(uplot.body().contains("uPlot"), "the library's code");
        assertEquals("public, max-age=86400", uplot.headers().firstValue("Cache-Control").orElse(""));
        assertEquals(200, get(1, "/ui/app.js").statusCode());
        assertEquals(200, get(1, "/ui/style.css").statusCode());
        assertEquals(404, get(1, "/ui/../../META-INF/MANIFEST.MF").statusCode());

        try (TestBrokerClient client = new TestBrokerClient(cluster.addresses())) {
            client.createTopic("web", 2, 3, Map.of());
        }
        // Every node's own view is polled into the snapshot: all three reachable, the topic's leaders'
        // high watermarks known.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonObject snapshot = json(get(2, "/api/cluster").body());
            assertEquals(3, snapshot.getAsJsonObject("quorum").getAsJsonArray("voters").size());
            JsonArray brokers = snapshot.getAsJsonArray("brokers");
            assertEquals(3, brokers.size());
            for (JsonElement b : brokers) {
                assertEquals("running", b.getAsJsonObject().get("state").getAsString());
                int id = b.getAsJsonObject().get("id").getAsInt();
                assertEquals(cluster.httpAddress(id).toString(), b.getAsJsonObject().getAsJsonObject("endpoints")
                        .get("http").getAsString());
            }
            JsonObject topic = snapshot.getAsJsonArray("topics").get(0).getAsJsonObject();
            assertEquals("web", topic.get("name").getAsString());
            assertEquals(3, topic.getAsJsonArray("partitions").get(1).getAsJsonObject().getAsJsonArray("isr").size());
            JsonArray nodes = snapshot.getAsJsonArray("nodes");
            assertEquals(3, nodes.size());
            int highWatermarks = 0;
            for (JsonElement n : nodes) {
                assertTrue(n.getAsJsonObject().get("reachable").getAsBoolean(), n.toString());
                highWatermarks += n.getAsJsonObject().getAsJsonObject("highWatermarks").size();
            }
            assertEquals(2, highWatermarks, nodes.toString());
        });
        String metrics = get(1, "/metrics").body();
        assertTrue(metrics.contains("\nraftmq_produce_requests_total ") && metrics.contains("\nraftmq_fetch_bytes_total "),
                metrics);
        JsonObject local = json(get(3, "/api/local").body());
        assertEquals(3, local.get("id").getAsInt());
        assertTrue(local.has("rates") && local.has("groups") && local.has("raftRole"), local.toString());

        // The event stream: the whole state on connect, then each change.
        List<String> lines = new CopyOnWriteArrayList<>();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(uri(1, "/api/events")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        assertEquals("text/event-stream; charset=utf-8", stream.headers().firstValue("Content-Type").orElse(""));
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // closed at the end of the test
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("event: hello")
                    && lines.contains("event: cluster") && lines.contains("event: nodes"));
            assertEquals("event: hello", lines.get(0));

            // A second stream is over http.max.event.streams = 1; /health is not affected.
            assertEquals(503, get(1, "/api/events").statusCode());
            assertEquals(200, get(1, "/health").statusCode());

            try (TestBrokerClient client = new TestBrokerClient(cluster.addresses())) {
                client.createTopic("live", 1, 3, Map.of());
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.stream().anyMatch(l -> l.startsWith("data: [")
                    && l.contains("topic live created: 1 partition(s), replication factor 3")));
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.stream().anyMatch(l -> l.startsWith("data: {")
                    && l.contains("\"name\":\"live\"")));
        } finally {
            stream.body().close();
        }
        // Once the stream is closed, a new one is admitted.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            HttpResponse<InputStream> again = http.sendAsync(HttpRequest.newBuilder(uri(1, "/api/events")).build(),
                    HttpResponse.BodyHandlers.ofInputStream()).get(5, TimeUnit.SECONDS);
            again.body().close();
            return again.statusCode() == 200;
        });
    }

    private URI uri(int node, String path) {
        return URI.create("http://" + cluster.httpAddress(node) + path);
    }

    private HttpResponse<String> get(int node, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(node, path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(String body) {
        return JsonParser.parseString(body).getAsJsonObject();
    }
}
