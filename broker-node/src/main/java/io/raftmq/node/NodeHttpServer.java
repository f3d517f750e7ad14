package io.raftmq.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.raftmq.common.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP server ({@code http.listener}), on the JDK's built-in server: {@code GET /health}
 * answers 200 when the node is ready and 503 with the reason when it is not, both with a short JSON
 * description; {@code GET /metrics} answers Prometheus text. Anything else is 404 (unknown path) or
 * 405 (not GET/HEAD).
 *
 * <p>Life cycle: {@link #start()} once, {@link #close()} once, from the node's thread. Requests are
 * served one at a time on the server's own thread ({@code http-N}); they only read {@link NodeStatus}.
 */
final class NodeHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeHttpServer.class);
    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final int nodeId;
    private final HostPort listener;
    private final NodeStatus status;
    private HttpServer server;
    private ExecutorService executor;

    NodeHttpServer(int nodeId, HostPort listener, NodeStatus status) {
        this.nodeId = nodeId;
        this.listener = listener;
        this.status = status;
    }

    void start() throws IOException {
        try {
            server = HttpServer.create(new InetSocketAddress(listener.host(), listener.port()), 16);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + listener + " (http.listener): " + e.getMessage(), e);
        }
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "http-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        LOG.info("[node {}] HTTP health and metrics on {}", nodeId, listener);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", method + " is not supported\n");
                return;
            }
            switch (path) {
                case "/health" -> {
                    NodeStatus.Health health = status.health();
                    respond(exchange, health.ready() ? 200 : 503, "application/json", health.json() + "\n");
                }
                case "/metrics" -> respond(exchange, 200, PROMETHEUS_CONTENT_TYPE, status.metrics());
                default -> respond(exchange, 404, "text/plain; charset=utf-8",
                        "no such path " + path + "; try /health or /metrics\n");
            }
        } catch (RuntimeException e) {
            // The JDK server would drop the connection silently; say what went wrong.
            LOG.warn("[node {}] HTTP {} failed: {}", nodeId, exchange.getRequestURI(), e.toString());
            throw e;
        }
    }

    private static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
