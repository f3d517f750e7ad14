package io.raftmq.node.ui;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.raftmq.broker.BrokerServer;
import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.Voter;
import io.raftmq.metadata.node.ControllerServer;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.replication.Partition;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live web view of the cluster, served by the node's HTTP server: {@code GET /} the page and
 * {@code GET /ui/...} its files ({@link StaticFiles}); {@code GET /api/cluster} the cluster as this
 * node's metadata shows it with every node's own view merged in; {@code GET /api/local} what only
 * this node knows (its rates, Raft role, the groups it coordinates, the high watermarks of the
 * partitions it leads), which the other nodes poll; {@code GET /api/events} Server-Sent Events:
 * on connect a {@code hello} (the timeline and the rate history), {@code cluster} and {@code
 * nodes}; then {@code cluster} at every change of the applied metadata or the quorum leader,
 * {@code timeline} with each change's events, and {@code nodes} every second.
 *
 * <p>Path of a change: the metadata is applied (broker's metadata thread, or a controller-only
 * node's loader) -> {@link #onMetadata} hands the image to the web view's thread -> {@link
 * MetadataTimeline} diffs it with the previous one -> the {@code cluster} and {@code timeline}
 * events go to the HTTP thread -> every live stream. A check every second catches what a listener
 * did not say (a quorum leader change).
 *
 * <p>Threads: the web view's own thread ({@code web-view-N}) owns the timeline, the rate
 * history and the last published state, and is the only one that builds events; the HTTP thread
 * owns the streams ({@link EventStreams}) and answers requests from immutable, volatile
 * published state. Life cycle: construct, {@link #start} once, {@link #close} once.
 */
public final class WebView implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebView.class);
    /** The rate history kept per node: the page's charts span this many seconds. */
    static final int HISTORY_SECONDS = 300;

    /** What a request became. */
    public enum Routed { NOT_MINE, ANSWERED, STREAMING }

    private final int nodeId;
    private final Set<String> roles;
    private final List<Voter> voters;
    private final HostPort httpAdvertised;
    private final ControllerServer controller;
    private final BrokerServer broker;
    private final Time time;
    private final StaticFiles files = new StaticFiles();
    private final TrafficRates rates;
    private final CoordinatedGroups groups;
    private final PeerPoller peers = new PeerPoller();
    private final EventStreams streams;
    private ScheduledExecutorService thread;
    /** The HTTP server's event loop, which owns {@link #streams}; set at the first stream. */
    private volatile Channel anyStream;

    // Owned by the web view's thread.
    private final MetadataTimeline timeline = new MetadataTimeline();
    private final Map<Integer, ArrayDeque<JsonObject>> history = new TreeMap<>();
    private MetadataImage lastImage;
    private LeaderAndEpoch lastQuorumLeader;
    // Published by the web view's thread, read by any.
    private volatile JsonObject cluster;
    private volatile JsonArray nodes = new JsonArray();

    /**
     * @param voters the metadata quorum as this node's config names it (empty on a broker-only node)
     * @param httpAdvertised where this node's HTTP server is reached
     * @param controller the controller role, or null; @param broker the broker role, or null
     */
    public WebView(int nodeId, java.util.Collection<String> roles, List<Voter> voters, HostPort httpAdvertised,
            ControllerServer controller, BrokerServer broker, int maxEventStreams, Time time) {
        this.nodeId = nodeId;
        this.roles = Set.copyOf(roles);
        this.voters = List.copyOf(voters);
        this.httpAdvertised = httpAdvertised;
        this.controller = controller;
        this.broker = broker;
        this.time = time;
        this.rates = new TrafficRates(broker == null ? null : broker.api().traffic());
        this.groups = new CoordinatedGroups(broker == null ? null : broker.groupCoordinator());
        this.streams = new EventStreams(nodeId, maxEventStreams, this::requestResync);
        this.cluster = ClusterSnapshot.of(nodeId, MetadataImage.EMPTY, voters, null, time.milliseconds());
    }

    public void start() {
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "web-view-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        thread.scheduleAtFixedRate(this::everySecond, 0, 1, TimeUnit.SECONDS);
        LOG.info("[node {}] web view on http://{}/", nodeId, httpAdvertised);
    }

    /** Told of each applied image (any thread; returns at once). */
    public void onMetadata(MetadataImage image) {
        long appliedMs = time.milliseconds();
        runOnThread(() -> metadataChanged(image, quorumLeader(), appliedMs));
    }

    /** Told that the metadata quorum's leader changed (any thread; returns at once). */
    public void onQuorumLeaderChange() {
        long nowMs = time.milliseconds();
        runOnThread(() -> metadataChanged(lastImage == null ? image() : lastImage, quorumLeader(), nowMs));
    }

    private void runOnThread(Runnable task) {
        ScheduledExecutorService t = thread;
        if (t == null) {
            return; // before start: the first check reads the image
        }
        try {
            t.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.warn("[node {}] web view update failed: {}", nodeId, e.toString(), e);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    /**
     * Answers the web view's paths, on the HTTP thread.
     *
     * @return STREAMING when the connection became an event stream (it stays open)
     */
    public Routed route(ChannelHandlerContext ctx, String path, boolean head) {
        StaticFiles.File file = files.get(path);
        if (file != null) {
            HttpAnswers.send(ctx, HttpResponseStatus.OK, file.contentType(), file.cacheControl(), file.bytes(), head);
            return Routed.ANSWERED;
        }
        switch (path) {
            case "/api/cluster" -> {
                JsonObject out = cluster.deepCopy();
                out.add("nodes", nodes);
                HttpAnswers.json(ctx, out.toString(), head);
                return Routed.ANSWERED;
            }
            case "/api/local" -> {
                HttpAnswers.json(ctx, local().toString(), head);
                return Routed.ANSWERED;
            }
            case "/api/events" -> {
                if (head) {
                    HttpAnswers.text(ctx, HttpResponseStatus.OK, "", true);
                    return Routed.ANSWERED;
                }
                anyStream = ctx.channel();
                int before = streams.size();
                streams.open(ctx);
                return streams.size() > before ? Routed.STREAMING : Routed.ANSWERED;
            }
            default -> {
                return Routed.NOT_MINE;
            }
        }
    }

    /** This node's own view ({@code /api/local}), from published state; any thread. */
    JsonObject local() {
        JsonObject out = new JsonObject();
        out.addProperty("id", nodeId);
        out.addProperty("http", httpAdvertised.toString());
        out.addProperty("reachable", true);
        out.addProperty("timeMs", time.milliseconds());
        out.add("roles", strings(new TreeSet<>(roles)));
        LeaderAndEpoch leader = quorumLeader();
        if (controller != null) {
            out.addProperty("raftRole", leader.isLeader(nodeId) ? "leader" : leader.hasLeader() ? "follower"
                    : "no leader known");
            out.addProperty("quorumLeader", leader.leaderId());
            out.addProperty("quorumEpoch", leader.epoch());
        } else {
            out.addProperty("raftRole", "observer");
        }
        if (broker != null) {
            out.addProperty("brokerState", broker.lifecycle().state().name().toLowerCase(java.util.Locale.ROOT));
            JsonObject highWatermarks = new JsonObject();
            for (Partition p : broker.replicaManager().partitions()) {
                if (p.isLeader()) {
                    highWatermarks.addProperty(p.topicPartition().topic() + "-" + p.topicPartition().partition(),
                            p.highWatermark());
                }
            }
            out.add("highWatermarks", highWatermarks);
        }
        out.add("rates", rates.latest());
        out.add("groups", groups.latest());
        return out;
    }

    private LeaderAndEpoch quorumLeader() {
        return controller == null ? null : controller.loader().leader();
    }

    private MetadataImage image() {
        return broker != null ? broker.image() : controller.loader().image();
    }

    // ---- on the web view's thread ----

    private void everySecond() {
        try {
            long nowMs = time.milliseconds();
            metadataChanged(image(), quorumLeader(), nowMs);
            rates.sample(nowMs, time.nanoseconds());
            groups.refresh();
            MetadataImage image = lastImage;
            Map<Integer, HostPort> peerAddresses = new HashMap<>();
            for (BrokerRegistration b : image.brokersSorted()) {
                Optional<Endpoint> http = b.endpoint(BrokerRegistration.HTTP_LISTENER);
                if (b.id() != nodeId && http.isPresent()) {
                    peerAddresses.put(b.id(), new HostPort(http.get().getHost(), http.get().getPort()));
                }
            }
            peers.poll(peerAddresses);
            Map<Integer, JsonObject> views = new TreeMap<>(peers.views());
            views.put(nodeId, local());
            Set<Integer> known = new TreeSet<>(views.keySet());
            image.brokers().keySet().forEach(known::add);
            voters.forEach(v -> known.add(v.nodeId()));
            JsonArray all = new JsonArray();
            for (int id : known) {
                JsonObject view = views.get(id);
                if (view == null) {
                    view = new JsonObject();
                    view.addProperty("id", id);
                    view.addProperty("reachable", false);
                    view.addProperty("error", "no HTTP endpoint known (a controller-only node registers none)");
                }
                all.add(view);
                if (view.has("rates") && view.getAsJsonObject("rates").get("timeMs").getAsLong() > 0) {
                    ArrayDeque<JsonObject> samples = history.computeIfAbsent(id, k -> new ArrayDeque<>());
                    JsonObject sample = view.getAsJsonObject("rates");
                    if (samples.isEmpty() || !samples.getLast().get("timeMs").equals(sample.get("timeMs"))) {
                        samples.addLast(sample);
                        while (samples.size() > HISTORY_SECONDS) {
                            samples.removeFirst();
                        }
                    }
                }
            }
            nodes = all;
            JsonObject event = new JsonObject();
            event.addProperty("timeMs", nowMs);
            event.add("nodes", all);
            publish(EventStreams.event("nodes", event.toString()));
        } catch (RuntimeException e) {
            LOG.warn("[node {}] web view update failed: {}", nodeId, e.toString(), e);
        }
    }

    private void metadataChanged(MetadataImage image, LeaderAndEpoch quorumLeader, long appliedMs) {
        if (image == lastImage && java.util.Objects.equals(quorumLeader, lastQuorumLeader)) {
            return;
        }
        List<MetadataTimeline.Event> changes = image == lastImage ? List.of() : timeline.apply(image, appliedMs);
        lastImage = image;
        lastQuorumLeader = quorumLeader;
        JsonObject snapshot = ClusterSnapshot.of(nodeId, image, voters, quorumLeader, appliedMs);
        cluster = snapshot;
        publish(EventStreams.event("cluster", snapshot.toString()));
        if (!changes.isEmpty()) {
            publish(EventStreams.event("timeline", timelineJson(changes).toString()));
        }
    }

    private void publish(String event) {
        Channel ch = anyStream;
        if (ch != null) {
            ch.eventLoop().execute(() -> streams.broadcast(event));
        }
    }

    /** On the HTTP thread: a stream needs the whole state; built on the web view's thread, written back on the HTTP one. */
    private void requestResync(Channel ch) {
        runOnThread(() -> {
            JsonObject hello = new JsonObject();
            hello.addProperty("node", nodeId);
            hello.add("timeline", timelineJson(timeline.events()));
            JsonObject rateHistory = new JsonObject();
            history.forEach((id, samples) -> {
                JsonArray list = new JsonArray();
                samples.forEach(list::add);
                rateHistory.add(Integer.toString(id), list);
            });
            hello.add("history", rateHistory);
            JsonObject nodesEvent = new JsonObject();
            nodesEvent.addProperty("timeMs", time.milliseconds());
            nodesEvent.add("nodes", nodes);
            List<String> events = List.of(EventStreams.event("hello", hello.toString()),
                    EventStreams.event("cluster", cluster.toString()), EventStreams.event("nodes",
                            nodesEvent.toString()));
            ch.eventLoop().execute(() -> streams.resync(ch, events));
        });
    }

    private static JsonArray timelineJson(List<MetadataTimeline.Event> events) {
        JsonArray out = new JsonArray();
        for (MetadataTimeline.Event e : events) {
            JsonObject event = new JsonObject();
            event.addProperty("timeMs", e.timeMs());
            event.addProperty("offset", e.metadataOffset());
            event.addProperty("kind", e.kind());
            event.addProperty("severity", e.severity());
            event.addProperty("text", e.text());
            out.add(event);
        }
        return out;
    }

    private static JsonArray strings(Iterable<String> values) {
        JsonArray out = new JsonArray();
        values.forEach(out::add);
        return out;
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
    }
}
