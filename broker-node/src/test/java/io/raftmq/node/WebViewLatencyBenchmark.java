package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.raftmq.protocol.broker.PartitionMetadata;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How soon the web view shows a {@code kill -9} of a partition leader: an event-stream client
 * (what a page holds) on another node, the active controller's when the killed node is not it;
 * per kill, from the node serving the stream applying the fencing batch (the event's own
 * timestamp) to the client reading the event, and from the kill to that. Three real node
 * processes on this machine. Prints figures; asserts nothing about them. Run with {@code mvn -B
 * -pl broker-node -am verify -Pbenchmark -Dit.test=WebViewLatencyBenchmark [-Dweb.trials=20]}.
 */
@Tag("benchmark")
class WebViewLatencyBenchmark {
    private static final Pattern EVENT_TIME = Pattern.compile("\"timeMs\":(\\d+)[^}]*\"text\":\"node (\\d+) fenced\"");

    @Test
    void fromTheFencingToThePage() throws Exception {
        int trials = Integer.getInteger("web.trials", 20);
        Path dir = Files.createTempDirectory("raftmq-web-view-bench");
        HttpClient http = HttpClient.newHttpClient();
        List<Long> applyToPage = new ArrayList<>();
        List<Long> killToPage = new ArrayList<>();
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir);
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            cluster.startAll();
            for (int trial = 1; trial <= trials; trial++) {
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                String topic = "web-" + trial;
                client.createTopic(topic, 1, 3, Map.of("min.insync.replicas", "2"));
                int leader = client.partition(topic, 0).getLeader();
                int controller = client.metadata().getControllerId();
                int watcher = controller != leader ? controller : leader % 3 + 1;
                List<String> lines = new CopyOnWriteArrayList<>();
                List<Long> arrivals = new CopyOnWriteArrayList<>();
                HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(URI.create("http://"
                        + cluster.node(watcher).httpAddress() + "/api/events")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                Thread reader = new Thread(() -> {
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(),
                            StandardCharsets.UTF_8))) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            arrivals.add(System.currentTimeMillis());
                            lines.add(line);
                        }
                    } catch (java.io.IOException e) {
                        // closed
                    }
                });
                reader.setDaemon(true);
                reader.start();
                await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("event: nodes"));
                int before = lines.size();
                long killMs = System.currentTimeMillis();
                cluster.node(leader).kill9();
                long[] seen = new long[2];
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                    for (int i = before; i < lines.size(); i++) {
                        Matcher m = EVENT_TIME.matcher(lines.get(i));
                        if (m.find() && Integer.parseInt(m.group(2)) == leader) {
                            seen[0] = Long.parseLong(m.group(1));
                            seen[1] = arrivals.get(i);
                            return true;
                        }
                    }
                    return false;
                });
                stream.body().close();
                applyToPage.add(seen[1] - seen[0]);
                killToPage.add(seen[1] - killMs);
                System.out.printf("trial %2d: killed node %d, stream from node %d%s: applied -> read %d ms,"
                        + " kill -> read %d ms%n", trial, leader, watcher, watcher == controller
                        ? " (the active controller)" : "", seen[1] - seen[0], seen[1] - killMs);
                cluster.node(leader).start();
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> {
                            PartitionMetadata p = client.refreshMetadata().getTopicsList().stream()
                                    .filter(t -> t.getName().equals(topic)).findFirst().orElseThrow()
                                    .getPartitions(0);
                            return p.getIsrList().contains(leader);
                        });
            }
        }
        System.out.printf("%nweb view after kill -9 of a partition leader, %d kills, 3 nodes on one machine:%n", trials);
        System.out.printf("  fencing batch applied on the stream's node -> event read: p50 %d ms, p99 %d ms, max %d ms%n",
                percentile(applyToPage, 50), percentile(applyToPage, 99), percentile(applyToPage, 100));
        System.out.printf("  kill -> event read:                                     p50 %d ms, p99 %d ms, max %d ms%n",
                percentile(killToPage, 50), percentile(killToPage, 99), percentile(killToPage, 100));
        System.out.println("  node logs: " + dir);
    }

    private static long percentile(List<Long> values, int p) {
        List<Long> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
