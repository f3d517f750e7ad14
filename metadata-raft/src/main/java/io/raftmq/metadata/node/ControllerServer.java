package io.raftmq.metadata.node;

import io.grpc.BindableService;
import io.grpc.ServerTransportFilter;
import io.raftmq.common.FaultHandler;
import io.raftmq.common.Time;
import io.raftmq.metadata.controller.ClusterIds;
import io.raftmq.metadata.controller.ControllerDecisions;
import io.raftmq.metadata.controller.QuorumController;
import io.raftmq.metadata.jraft.JRaftMetadataLog;
import io.raftmq.metadata.jraft.JRaftOptions;
import io.raftmq.metadata.loader.MetadataLoader;
import io.raftmq.metadata.service.ClientConnections;
import io.raftmq.metadata.service.ControllerGrpcService;
import io.raftmq.metadata.service.MetadataWatchService;
import io.raftmq.protocol.common.Endpoint;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;

/**
 * One voter of the metadata quorum, wired: the JRaft metadata log, the loader that replays it
 * into this node's image, the controller that acts when this voter leads, the watch streams and
 * the Controller gRPC service. The owner hosts {@link #services()} on its gRPC server, with
 * {@link #transportFilters()}.
 *
 * <p>Life cycle: construct, {@link #start()}, {@link #close()}, then the owner stops its gRPC
 * server. The order matters: a voter that kept leading the quorum after its gRPC server stopped
 * would hear no heartbeats and fence every broker. Not thread-safe itself; its parts are.
 */
public final class ControllerServer implements AutoCloseable {
    /** Timed snapshots are taken even after few changes: the image is small, restart is faster. */
    static final int SNAPSHOT_LOG_MARGIN = 0;
    /** Batches a metadata watcher may fall behind before its stream is ended. */
    static final int MAX_QUEUED_WATCH_BATCHES = 10_000;
    /** Batches appended by the controller allowed to wait for commit. */
    static final int MAX_INFLIGHT_BATCHES = 1_000;

    private final int nodeId;
    private final JRaftMetadataLog log;
    private final MetadataLoader loader;
    private final QuorumController controller;
    private final MetadataWatchService watches;
    private final ControllerGrpcService service;
    private final ClientConnections connections;

    /**
     * @param metadataDir where this voter keeps its Raft log and snapshots
     * @param endpoint where this voter's gRPC server is reached (announced when it leads)
     */
    public ControllerServer(int nodeId, Path metadataDir, Endpoint endpoint, ControllerConfig config, Time time,
            FaultHandler faultHandler) {
        this.nodeId = nodeId;
        this.log = new JRaftMetadataLog(new JRaftOptions(nodeId, config.voters(), metadataDir,
                config.electionTimeoutMs(), config.maxElectionDelayMs(), config.snapshotIntervalSecs(),
                SNAPSHOT_LOG_MARGIN, true, config.raftTls()), faultHandler);
        this.loader = new MetadataLoader(nodeId, faultHandler);
        SecureRandom random = new SecureRandom();
        ControllerDecisions decisions = new ControllerDecisions(config.numPartitions(),
                config.defaultReplicationFactor(), config.topicLimits(), () -> new UUID(random.nextLong(), random.nextLong()),
                ClusterIds::random);
        this.controller = new QuorumController(new QuorumController.Options(nodeId, endpoint,
                config.sessionTimeoutMs(), config.takeoverSessionMs(), MAX_INFLIGHT_BATCHES,
                config.leaderImbalanceCheckIntervalMs(), config.leaderImbalancePercentage(),
                config.connectionLossGraceMs()), log, decisions, time, faultHandler);
        this.watches = new MetadataWatchService(nodeId, loader, MAX_QUEUED_WATCH_BATCHES);
        this.service = new ControllerGrpcService(new ControllerGrpcService.Options(nodeId, config.voters(),
                config.requestTimeoutMs(), Math.min(config.requestTimeoutMs(), 5_000)), controller, loader, watches);
        this.connections = new ClientConnections(controller::connectionClosed);
        loader.subscribe(controller);
        loader.subscribe(watches);
    }

    /** Starts the controller and joins the quorum (loading the snapshot and log from disk). */
    public void start() throws Exception {
        controller.start();
        log.start(loader);
    }

    /** The services to host; their server must also have {@link #transportFilters()}. */
    public List<BindableService> services() {
        return List.of(connections.wrap(service));
    }

    /**
     * The transport filters the server hosting {@link #services()} must register: they tell the
     * controller when a broker's heartbeat connection closes. Without them the controller fences
     * only on session expiry.
     */
    public List<ServerTransportFilter> transportFilters() {
        return List.of(connections);
    }

    public int nodeId() {
        return nodeId;
    }

    public MetadataLoader loader() {
        return loader;
    }

    public QuorumController controller() {
        return controller;
    }

    public JRaftMetadataLog log() {
        return log;
    }

    public MetadataWatchService watches() {
        return watches;
    }

    /**
     * Stops deciding (waiting requests are answered NOT_CONTROLLER), leaves the quorum (a leader
     * hands leadership to the most up-to-date voter at once), then ends the watch streams so their
     * watchers move to another voter. Call before stopping the gRPC server.
     */
    @Override
    public void close() {
        controller.close();
        log.close();
        watches.close();
    }
}
