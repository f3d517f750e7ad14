package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP server's bounds: a client that sends nothing, or half a request, does not stall
 * /health and is cut off after http.read.timeout.ms; connections past http.max.connections are
 * closed at once.
 */
@Timeout(60)
class NodeHttpServerLimitsTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Socket> sockets = new ArrayList<>();
    private InProcessCluster cluster;
    private int port;

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    /** One combined node with these HTTP bounds, answering /health with 200. */
    private void start(long readTimeoutMs, int maxConnections) throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of("http.read.timeout.ms", Long.toString(readTimeoutMs),
                "http.max.connections", Integer.toString(maxConnections)));
        cluster.start(1);
        port = cluster.httpAddress(1).port();
        await().atMost(Duration.ofSeconds(30)).until(() -> health().statusCode() == 200);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout(100);
        return s;
    }

    /** Whether the server closed {@code s} (a read sees the end of the stream). */
    private static boolean closedByServer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private HttpResponse<String> health() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void slowClientsDoNotStallHealthAndAreCutOff() throws Exception {
        start(1500, 32);
        Socket silent = connect();
        Socket half = connect();
        half.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        half.getOutputStream().flush();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> ok = health();
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(ok.body().startsWith("{\"status\":\"ok\""), ok.body());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> closedByServer(silent) && closedByServer(half));
    }

    @Test
    void connectionsPastTheBoundAreClosedAtOnce() throws Exception {
        start(2000, 3);
        List<Socket> held = List.of(connect(), connect(), connect());
        Socket extra = connect();
        await().atMost(Duration.ofSeconds(1)).until(() -> closedByServer(extra));
        for (Socket s : held) {
            assertTrue(!closedByServer(s), "held connections stay until their deadline");
        }
        // Their deadline frees the server again.
        for (Socket s : held) {
            await().atMost(Duration.ofSeconds(10)).until(() -> closedByServer(s));
        }
        assertEquals(200, health().statusCode());
    }
}
