package io.raftmq.node;

import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.raftmq.broker.BrokerServer;
import io.raftmq.broker.sasl.ImageScramCredentials;
import io.raftmq.broker.sasl.NodeUsers;
import io.raftmq.broker.sasl.ScramCredentials;
import io.raftmq.common.FaultHandler;
import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.loader.MetadataSubscriber;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.node.ControllerServer;
import io.raftmq.metadata.node.GrpcServers;
import io.raftmq.node.grpc.GrpcListenerSecurity;
import io.raftmq.node.grpc.GrpcSessions;
import io.raftmq.node.grpc.SaslAuthenticateService;
import io.raftmq.node.ui.WebView;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.replica.ReplicaGrpc;
import io.raftmq.storage.LogEnvironment;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One raftmq node: the roles its config names, on one gRPC server.
 *
 * <p>Start: lock the data directory; check it is this node's and has not lost a voter's Raft state
 * ({@link DataDirIdentity}: meta.properties); start the controller role (join the metadata quorum); start
 * the gRPC server; start the broker role (register, heartbeat, follow metadata); start the HTTP
 * server (health, metrics and the web view), if configured. Stop, the reverse,
 * so that nothing is cut off while others still depend on it: the broker asks for a controlled
 * shutdown (its leaderships move away), the controller leaves the quorum (handing over leadership
 * if it has it), then the gRPC server stops.
 *
 * <p>Life cycle methods are called from one thread (main, then the shutdown hook).
 */
public final class RaftmqServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftmqServer.class);

    /**
     * How long a voter with an empty data directory waits for the other voters to say whether they
     * already form a cluster; a new cluster's voters are not up yet and refuse at once.
     */
    static final long VOTER_PROBE_TIMEOUT_MS = 3_000;

    private final NodeConfig config;
    private final Time time;
    private final FaultHandler faultHandler;
    private final LogEnvironment.FileOpener logFiles;
    private final ClientInterceptor controllerLink;
    private DataDirLock lock;
    private ControllerServer controller;
    private BrokerServer broker;
    private Server grpc;
    /** Ends SASL exchanges that run too long (SASL_SSL gRPC port on a broker); null otherwise. */
    private ScheduledExecutorService saslTimer;
    private NodeHttpServer http;
    /** The web view the HTTP server serves; null without an HTTP server. */
    private WebView web;
    private boolean closed;

    public RaftmqServer(NodeConfig config, Time time, FaultHandler faultHandler) {
        this(config, time, faultHandler, FileChannel::open, null);
    }

    /**
     * The test seams for a failing disk and for a broker cut off from the controller quorum.
     *
     * @param logFiles opens the partition logs' files (I/O faults)
     * @param controllerLink every call the broker role makes to the controller quorum (heartbeats,
     *     the metadata watch, forwarded admin calls) passes through it; null: none
     */
    RaftmqServer(NodeConfig config, Time time, FaultHandler faultHandler, LogEnvironment.FileOpener logFiles,
            ClientInterceptor controllerLink) {
        this.config = config;
        this.time = time;
        this.faultHandler = faultHandler;
        this.logFiles = logFiles;
        this.controllerLink = controllerLink;
    }

    public void start() throws Exception {
        lock = DataDirLock.acquire(config.dataDir());
        DataDirIdentity identity = new DataDirIdentity(config.nodeId(), config.dataDir(), faultHandler);
        GrpcSessions saslSessions = config.grpcSaslMechanisms().isEmpty() ? null
                : new GrpcSessions(time, config.grpcSaslSessionLifetimeMs());
        GrpcListenerSecurity grpcSecurity = GrpcListenerSecurity.of(config.grpcTls(), saslSessions,
                config.grpcNodeLogin());
        List<HostPort> otherVoters = config.controllerBootstrap().stream()
                .filter(a -> !a.equals(config.advertisedListener()) && !a.equals(config.listener())).toList();
        try {
            identity.verifyAtStart(config.isController(), config.isBroker(), config.dataDir().resolve("metadata"),
                    config.metadataRecoveryAllowEmpty(), VoterProbe.grpc(otherVoters, VOTER_PROBE_TIMEOUT_MS,
                            grpcSecurity.nodeChannels()));
        } catch (IOException e) {
            lock.close();
            lock = null;
            throw e;
        }
        List<BindableService> services = new ArrayList<>();
        List<ServerTransportFilter> transportFilters = new ArrayList<>();
        if (config.isController()) {
            Endpoint endpoint = Endpoint.newBuilder()
                    .setListener(BrokerRegistration.GRPC_LISTENER)
                    .setHost(config.advertisedListener().host())
                    .setPort(config.advertisedListener().port())
                    .build();
            controller = new ControllerServer(config.nodeId(), config.dataDir().resolve("metadata"), endpoint,
                    config.controllerConfig(), time, faultHandler);
            controller.loader().subscribe(new MetadataSubscriber() {
                @Override
                public void onSnapshot(MetadataImage image) {
                    identity.onImage(image);
                }

                @Override
                public void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta,
                        MetadataImage image) {
                    identity.onImage(image);
                }
            });
            controller.start();
            services.addAll(controller.services());
            transportFilters.addAll(controller.transportFilters());
        }
        if (config.isBroker()) {
            broker = new BrokerServer(new BrokerServer.Options(config.nodeId(), config.advertisedListener(),
                    config.kafkaListener(), config.kafkaAdvertisedListener(), config.controllerBootstrap(),
                    config.rack(), config.heartbeatIntervalMs(), config.sessionTimeoutMs(), config.leaseMarginMs(),
                    config.controlledShutdownTimeoutMs(), config.dataDir(), config.brokerConfig(),
                    config.httpAdvertisedListener()), time, faultHandler,
                    logFiles, controllerLink, grpcSecurity.nodeChannels());
            broker.addMetadataListener(identity::onImage);
            if (config.httpListener() != null) {
                web = new WebView(config.nodeId(), config.roles(), config.voters(), config.httpAdvertisedListener(),
                        controller, broker, config.httpMaxEventStreams(), time);
                broker.addMetadataListener(web::onMetadata);
            }
            services.addAll(broker.services());
        }
        if (saslSessions != null) {
            saslTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "grpc-sasl-timer-" + config.nodeId());
                thread.setDaemon(true);
                return thread;
            });
            // The users of the node's own metadata: the broker's image, or a controller-only node's.
            BrokerServer brokerRole = broker;
            ControllerServer controllerRole = controller;
            ScramCredentials users = new ImageScramCredentials(brokerRole != null ? brokerRole::image
                    : () -> controllerRole.loader().image());
            services.add(new SaslAuthenticateService(config.nodeId(), config.grpcSaslMechanisms(),
                    config.grpcNodeLogin() == null ? users : new NodeUsers(config.grpcNodeLogin().password(), users),
                    saslSessions, saslTimer));
        }
        try {
            // Produce (unary and stream) runs inline so that a producer's pipelined requests are
            // appended in the order sent; followers' fetch streams run inline to save a thread hop
            // per fetch (a fetch reads recent records, from the page cache, or parks in the purgatory).
            grpc = GrpcServers.start(config.listener().host(), config.listener().port(),
                    grpcSecurity.serverCredentials(), services,
                    broker == null ? Set.of() : Set.of(BrokerGrpc.getProduceMethod().getFullMethodName(),
                            BrokerGrpc.getProduceStreamMethod().getFullMethodName(),
                            ReplicaGrpc.getReplicaFetchStreamMethod().getFullMethodName()), transportFilters,
                    grpcSecurity.interceptors());
        } catch (IOException e) {
            throw new IOException("cannot listen on " + config.listener() + " (grpc.listener): " + e.getMessage(), e);
        }
        if (broker != null) {
            broker.start();
        }
        if (config.httpListener() != null) {
            if (web == null) { // a controller-only node: the metadata its controller role applies
                web = new WebView(config.nodeId(), config.roles(), config.voters(), config.httpAdvertisedListener(),
                        controller, null, config.httpMaxEventStreams(), time);
            }
            if (controller != null) {
                WebView view = web;
                boolean brokerTells = broker != null;
                controller.loader().subscribe(new MetadataSubscriber() {
                    @Override
                    public void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta,
                            MetadataImage image) {
                        if (!brokerTells) {
                            view.onMetadata(image);
                        }
                    }

                    @Override
                    public void onLeaderChange(LeaderAndEpoch leader, MetadataImage image) {
                        view.onQuorumLeaderChange();
                    }
                });
            }
            http = new NodeHttpServer(config.nodeId(), config.httpListener(),
                    new NodeStatus(config, controller, broker), config.httpReadTimeoutMs(),
                    config.httpMaxConnections(), web);
            http.start();
            web.start();
        }
        LOG.info("[node {}] started: roles {}, gRPC on {} (advertised as {}), data in {}{}", config.nodeId(),
                config.roles(), config.listener(), config.advertisedListener(), config.dataDir().toAbsolutePath(),
                config.isController() ? ", metadata voters " + config.voters() : "");
    }

    public NodeConfig config() {
        return config;
    }

    /** The broker role, or null. */
    public BrokerServer broker() {
        return broker;
    }

    /** The controller role, or null. */
    public ControllerServer controller() {
        return controller;
    }

    /** Stops cleanly: controlled shutdown, leave the quorum, stop serving. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("[node {}] shutting down", config.nodeId());
        if (http != null) {
            http.close(); // first: a node that is stopping is no longer healthy
        }
        if (web != null) {
            web.close();
        }
        if (broker != null) {
            broker.controlledShutdown();
            broker.close();
        }
        if (controller != null) {
            controller.close();
        }
        if (grpc != null) {
            GrpcServers.stop(grpc);
        }
        if (saslTimer != null) {
            saslTimer.shutdownNow();
        }
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException e) {
                LOG.warn("[node {}] could not release the data directory lock: {}", config.nodeId(), e.toString());
            }
        }
        LOG.info("[node {}] stopped", config.nodeId());
    }
}
