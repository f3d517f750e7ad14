package io.raftmq.node.ui;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.raftmq.common.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks the other nodes what only they know (their rates, Raft role, the groups they coordinate,
 * the high watermarks of the partitions they lead): {@code GET /api/local} of each peer's HTTP
 * endpoint, once per {@link #poll} (a second), with the JDK's HTTP client, short timeouts and at
 * most one request in flight per peer. A peer that does not answer is reported unreachable with
 * the reason until it answers again.
 *
 * <p>Threads: {@link #poll} from the web view's thread; answers land on the HTTP client's threads
 * into a concurrent map; {@link #views} from any thread.
 */
final class PeerPoller {
    static final Duration TIMEOUT = Duration.ofMillis(900);

    private record Peer(HostPort address, JsonObject view) {}

    private final HttpClient client;
    /** Peer id to its newest view (its /api/local, or an unreachable marker). */
    private final Map<Integer, Peer> peers = new ConcurrentHashMap<>();
    /** Peers with a request in flight. */
    private final Set<Integer> inFlight = ConcurrentHashMap.newKeySet();

    PeerPoller() {
        this.client = HttpClient.newBuilder().connectTimeout(TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** Polls every peer in {@code addresses} (node id to HTTP address); forgets the others. */
    void poll(Map<Integer, HostPort> addresses) {
        peers.keySet().retainAll(addresses.keySet());
        addresses.forEach((id, address) -> {
            if (!inFlight.add(id)) {
                return;
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + "/api/local"))
                    .timeout(TIMEOUT).GET().build();
            client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((answer, error) -> {
                try {
                    JsonObject view;
                    if (error != null) {
                        view = unreachable(id, address, error.getClass().getSimpleName()
                                + (error.getMessage() == null ? "" : ": " + error.getMessage()));
                    } else if (answer.statusCode() != 200) {
                        view = unreachable(id, address, "HTTP " + answer.statusCode());
                    } else {
                        view = JsonParser.parseString(answer.body()).getAsJsonObject();
                        view.addProperty("reachable", true);
                    }
                    if (addresses.containsKey(id)) {
                        peers.put(id, new Peer(address, view));
                    }
                } catch (RuntimeException e) {
                    peers.put(id, new Peer(address, unreachable(id, address, "bad answer: " + e.getMessage())));
                } finally {
                    inFlight.remove(id);
                }
            });
        });
    }

    static JsonObject unreachable(int id, HostPort address, String reason) {
        JsonObject view = new JsonObject();
        view.addProperty("id", id);
        view.addProperty("http", address.toString());
        view.addProperty("reachable", false);
        view.addProperty("error", reason);
        return view;
    }

    /** The newest view of each peer polled so far; do not modify them. */
    Map<Integer, JsonObject> views() {
        Map<Integer, JsonObject> out = new HashMap<>();
        peers.forEach((id, peer) -> out.put(id, peer.view()));
        return out;
    }
}
