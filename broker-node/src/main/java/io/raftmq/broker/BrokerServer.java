package io.raftmq.broker;

import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.broker.kafka.KafkaListener;
import io.raftmq.broker.kafka.KafkaListenerStats;
import io.raftmq.common.FaultHandler;
import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.metadata.client.BrokerLifecycleManager;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.replication.ReplicaGrpcService;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.LogManager;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker role of a node: partition logs, replicas (leaders and followers), the client API
 * ({@link BrokerApi}) and its two front ends (the Broker gRPC service and the Kafka listener), the
 * Replica gRPC service, and the broker's place in the cluster (registration, heartbeats, the
 * metadata watch).
 *
 * <pre>
 *   MetadataWatcher --image--> BrokerMetadataPublisher --assignments--> ReplicaManager --> LogManager
 *        ^                                                                  |  ^
 *   (controller voters)              BrokerLifecycleManager  <--applied offset-+  |
 *                                    ControllerAlterPartitionClient <--ISR------+  |
 *   Broker gRPC (clients) ----+                                                    |
 *   Kafka listener (clients) -+--> BrokerApi -------------------------------------+
 *   Replica gRPC (followers) ------------------------------------------------------+
 * </pre>
 *
 * <p>A partition log that goes offline after an I/O error means the node's one data directory
 * failed: {@link LogDirFailureHandler} asks the controller to move every leadership and ISR
 * membership of this broker away (a controlled shutdown), and it stays out until restarted.
 *
 * <p>Start: load every partition log (recovering after a crash), start the replica manager, follow
 * metadata, open the Kafka listener, register (with the gRPC and Kafka endpoints). The gRPC
 * services can be added to the node's gRPC server before {@link #start()} (they refuse what this
 * broker does not serve yet). Stop: controlled shutdown (leaderships move away, clients still
 * served), close the Kafka listener, stop the lifecycle and the watch, stop replicas (answering
 * waiting requests), close logs.
 *
 * <p>A broker the controller stops answering (cut off, or paused) stops leading on its own when
 * its lease ends ({@code BrokerLease}, kept by the lifecycle): the metadata publisher withholds its
 * leaderships and {@link BrokerApi} turns clients away, until the controller answers again.
 *
 * <p>Life cycle methods are called from one thread (the node's).
 */
public final class BrokerServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerServer.class);
    /**
     * A call to the controller quorum (registration, heartbeats, AlterPartition, admin requests)
     * keeps retrying for this many session timeouts, so it outlives a change of active controller.
     */
    private static final int CONTROLLER_CALL_TIMEOUT_SESSIONS = 10;
    /** The shortest deadline of one attempt of such a call; it is one session timeout otherwise. */
    private static final long MIN_CONTROLLER_ATTEMPT_TIMEOUT_MS = 500;
    /** The wait before such a call tries again (the next voter, or the one named as controller). */
    private static final long CONTROLLER_RETRY_BACKOFF_MS = 20;

    /**
     * @param advertised where clients and followers reach this broker's gRPC server
     * @param kafkaListener where the Kafka listener binds; null: no Kafka listener
     * @param kafkaAdvertised where Kafka clients reach it (registered as the "kafka" endpoint)
     * @param controllerBootstrap gRPC addresses of the controller voters
     * @param leaseMarginMs how much earlier than the controller's session timeout this broker stops
     *     leading when the controller does not answer (see {@code BrokerLease})
     * @param dataDir the node's data directory; partition logs go under {@code logs/}
     * @param httpAdvertised where browsers and other nodes reach this node's HTTP server (registered as
     *     the "http" endpoint); null: none
     */
    public record Options(int brokerId, HostPort advertised, HostPort kafkaListener, HostPort kafkaAdvertised,
            List<HostPort> controllerBootstrap, String rack, long heartbeatIntervalMs, long sessionTimeoutMs,
            long leaseMarginMs, long controlledShutdownTimeoutMs, Path dataDir, BrokerConfig config,
            HostPort httpAdvertised) {
        /** Without an HTTP endpoint. */
        public Options(int brokerId, HostPort advertised, HostPort kafkaListener, HostPort kafkaAdvertised,
                List<HostPort> controllerBootstrap, String rack, long heartbeatIntervalMs, long sessionTimeoutMs,
                long leaseMarginMs, long controlledShutdownTimeoutMs, Path dataDir, BrokerConfig config) {
            this(brokerId, advertised, kafkaListener, kafkaAdvertised, controllerBootstrap, rack, heartbeatIntervalMs,
                    sessionTimeoutMs, leaseMarginMs, controlledShutdownTimeoutMs, dataDir, config, null);
        }
    }

    private final Options options;
    private final UUID incarnationId = UUID.randomUUID();
    private final ScheduledExecutorService ioScheduler;
    private final ScheduledExecutorService scheduler;
    private final ControllerClient controllerClient;
    private final MetadataWatcher watcher;
    private final BrokerLifecycleManager lifecycle;
    private final LogManager logs;
    private final LogDirFailureHandler logDirFailures;
    private final ReplicaManager replicas;
    private final BrokerMetadataPublisher publisher;
    private final GroupCoordinator groupCoordinator;
    private final BrokerApi api;
    private final List<BindableService> services;
    private final List<Consumer<MetadataImage>> metadataListeners = new CopyOnWriteArrayList<>();
    /** Null when the Kafka listener is off. */
    private final KafkaListener kafkaListener;

    public BrokerServer(Options options, Time time, FaultHandler faultHandler) {
        this(options, time, faultHandler, FileChannel::open, null);
    }

    /**
     * @param files opens the partition logs' files: a test seam for I/O faults
     * @param controllerLink every call this broker makes to the controller quorum passes through
     *     it (a test seam: a cut-off link); null: none
     */
    public BrokerServer(Options options, Time time, FaultHandler faultHandler, LogEnvironment.FileOpener files,
            ClientInterceptor controllerLink) {
        this(options, time, faultHandler, files, controllerLink, NodeChannelCredentials.plaintext());
    }

    /**
     * As above, with the channels this broker opens to other nodes (the controllers, the leaders it
     * follows) secured by {@code nodeChannels} (grpc.listener.security.protocol).
     */
    public BrokerServer(Options options, Time time, FaultHandler faultHandler, LogEnvironment.FileOpener files,
            ClientInterceptor controllerLink, NodeChannelCredentials nodeChannels) {
        this.options = options;
        int id = options.brokerId();
        List<ClientInterceptor> link = controllerLink == null ? List.of() : List.of(controllerLink);
        this.ioScheduler = scheduler("log-io-" + id, 4);
        this.scheduler = scheduler("broker-scheduler-" + id, 1);
        this.controllerClient = new ControllerClient(new ControllerClient.Options(options.controllerBootstrap(),
                options.sessionTimeoutMs() * CONTROLLER_CALL_TIMEOUT_SESSIONS,
                Math.max(MIN_CONTROLLER_ATTEMPT_TIMEOUT_MS, options.sessionTimeoutMs()), CONTROLLER_RETRY_BACKOFF_MS),
                link, nodeChannels);
        this.logDirFailures = new LogDirFailureHandler(id, this::leaveAfterLogDirFailure);
        this.logs = new LogManager(options.dataDir().resolve("logs"), new LogEnvironment(time, ioScheduler,
                logDirFailures, files));
        List<Endpoint> endpoints = new ArrayList<>();
        endpoints.add(Endpoint.newBuilder()
                .setListener(BrokerRegistration.GRPC_LISTENER)
                .setHost(options.advertised().host())
                .setPort(options.advertised().port())
                .build());
        if (options.kafkaListener() != null) {
            endpoints.add(Endpoint.newBuilder()
                    .setListener(BrokerRegistration.KAFKA_LISTENER)
                    .setHost(options.kafkaAdvertised().host())
                    .setPort(options.kafkaAdvertised().port())
                    .build());
        }
        if (options.httpAdvertised() != null) {
            endpoints.add(Endpoint.newBuilder()
                    .setListener(BrokerRegistration.HTTP_LISTENER)
                    .setHost(options.httpAdvertised().host())
                    .setPort(options.httpAdvertised().port())
                    .build());
        }
        // Heartbeats report the metadata offset the replicas have applied: the controller unfences
        // this broker only once its partitions reflect the cluster's state.
        this.lifecycle = new BrokerLifecycleManager(new BrokerLifecycleManager.Options(id, incarnationId,
                endpoints, options.rack(), options.heartbeatIntervalMs(), options.sessionTimeoutMs(),
                options.leaseMarginMs()),
                controllerClient, this::appliedMetadataOffset, time, faultHandler);
        this.replicas = new ReplicaManager(id, lifecycle::brokerEpoch, this::currentEpoch, this::isEligible, logs,
                options.config().replication(), new ControllerAlterPartitionClient(id, lifecycle::brokerEpoch,
                        controllerClient), time, scheduler, nodeChannels);
        // FindCoordinator answers from what clients may be told: a broker cut off from the
        // controller names no coordinator.
        this.groupCoordinator = new GroupCoordinator(id, options.config().groupCoordinator(), replicas,
                this::clientImage,
                new GroupCoordinator.TopicCreator() {
                    @Override
                    public CompletableFuture<CreateTopicsResponse> createTopics(CreateTopicsRequest request) {
                        return controllerClient.createTopics(request);
                    }

                    @Override
                    public CompletableFuture<MetadataImage> whenApplied(long metadataOffset) {
                        return watcher.whenApplied(metadataOffset);
                    }
                }, time, options.config().queuedMaxRequests());
        this.publisher = new BrokerMetadataPublisher(id, incarnationId, options.config(), replicas, logs, faultHandler,
                image -> {
                    groupCoordinator.onMetadata(image);
                    metadataListeners.forEach(l -> l.accept(image));
                });
        this.watcher = new MetadataWatcher(new MetadataWatcher.Options(id, options.controllerBootstrap(), 50),
                publisher, faultHandler, link, nodeChannels);
        // A broker the controller stopped answering stops leading before the controller fences it.
        lifecycle.addLeaseListener(new BrokerLifecycleManager.LeaseListener() {
            @Override
            public void leaseExpired(long silentMs) {
                publisher.leaseExpired();
            }

            @Override
            public void leaseRenewed(long metadataOffset) {
                publisher.leaseRenewed(metadataOffset);
            }
        });
        this.api = new BrokerApi(id, watcher, replicas, controllerClient, options.config(),
                new InitProducerIdHandler(new ProducerIdManager(id, lifecycle::brokerEpoch,
                        controllerClient::allocateProducerIds)), logs,
                lifecycle.lease(), time);
        this.kafkaListener = options.kafkaListener() == null ? null : KafkaListener.forBroker(
                new KafkaListener.Options(id, options.kafkaListener().host(), options.kafkaListener().port(),
                        options.config().socketRequestMaxBytes(), options.config().connectionsMaxIdleMs(),
                        options.config().kafkaMaxInflightRequests(), options.config().kafkaNetworkThreads()),
                options.config().listenerSecurity(), api, groupCoordinator);
        this.services = List.of(
                BrokerGrpcService.bindable(api),
                new ReplicaGrpcService(replicas, options.config().fetchMaxWaitCapMs()),
                groupCoordinator.grpcService(api.authorization()));
    }

    // Read through methods: the replica manager and the lifecycle each need the other.
    private long appliedMetadataOffset() {
        return replicas.appliedMetadataOffset();
    }

    private void leaveAfterLogDirFailure() {
        lifecycle.controlledShutdown(); // enqueued; the lifecycle's thread sends the request
    }

    /** The metadata as clients may be told it ({@link BrokerApi#image()}). */
    private MetadataImage clientImage() {
        return api.image();
    }

    private boolean isEligible(int brokerId) {
        return watcher.image().isEligible(brokerId);
    }

    /** A broker's current registration epoch in the newest metadata, or -1. */
    private long currentEpoch(int brokerId) {
        BrokerRegistration broker = watcher.image().broker(brokerId);
        return broker == null ? -1 : broker.epoch();
    }

    /**
     * Tells {@code listener} of every metadata image once this broker has applied it, on the
     * broker's metadata thread (it must return quickly and not throw). Add before {@link #start()}.
     */
    public void addMetadataListener(Consumer<MetadataImage> listener) {
        metadataListeners.add(listener);
    }

    /** The Broker, Replica and GroupCoordinator gRPC services, for the node's server. */
    public List<BindableService> services() {
        return services;
    }

    public void start() throws IOException {
        logs.setProducerIdExpirationMs(options.config().producerIdExpirationMs());
        logs.startup(tp -> options.config().logConfig(Map.of()), options.config().retentionCheckIntervalMs());
        replicas.startup();
        groupCoordinator.start();
        publisher.start();
        watcher.start();
        if (kafkaListener != null) {
            // Before registering: the endpoint the registration names answers from the start.
            try {
                kafkaListener.start();
            } catch (IOException e) {
                throw new IOException(e.getMessage() + " (kafka.listener)", e);
            }
        }
        lifecycle.start();
    }

    /** The Kafka listener's counters, or null when it is off. */
    public KafkaListenerStats kafkaStats() {
        return kafkaListener == null ? null : kafkaListener.stats();
    }

    /** The protocol-neutral client API both front ends call. */
    public BrokerApi api() {
        return api;
    }

    public ReplicaManager replicaManager() {
        return replicas;
    }

    /** The logs this broker has open; DataDirectoryIntegrationTest checks a deleted topic's is gone. */
    public LogManager logManager() {
        return logs;
    }

    public MetadataImage image() {
        return watcher.image();
    }

    /** This broker's group coordinator (the Kafka listener serves it too). */
    public GroupCoordinator groupCoordinator() {
        return groupCoordinator;
    }

    public BrokerLifecycleManager lifecycle() {
        return lifecycle;
    }

    /**
     * The partition logs that went offline after an I/O error (directory name to cause), sorted;
     * empty while the data directory works. Once one is offline this broker has asked the
     * controller to move its leaderships and ISR memberships away.
     */
    public Map<String, String> offlineLogs() {
        return logDirFailures.offlineLogs();
    }

    /** Asks the controller to move this broker's leaderships away and waits (bounded) for it. */
    public void controlledShutdown() {
        long timeoutMs = options.controlledShutdownTimeoutMs();
        if (timeoutMs == 0 || lifecycle.state() == BrokerLifecycleManager.State.REGISTERING) {
            return;
        }
        LOG.info("[broker {}] controlled shutdown: asking the controller to move this broker's leaderships",
                options.brokerId());
        try {
            lifecycle.controlledShutdown().get(timeoutMs, TimeUnit.MILLISECONDS);
            LOG.info("[broker {}] controlled shutdown complete", options.brokerId());
        } catch (TimeoutException e) {
            LOG.warn("[broker {}] controlled shutdown did not complete within {} ms; stopping anyway",
                    options.brokerId(), timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("[broker {}] controlled shutdown failed: {}; stopping anyway", options.brokerId(), e.toString());
        }
    }

    @Override
    public void close() {
        // Kafka clients are served until the controlled shutdown has moved the leaderships away.
        if (kafkaListener != null) {
            kafkaListener.close();
        }
        lifecycle.close();
        watcher.close();
        publisher.close();
        groupCoordinator.close();
        replicas.close();
        scheduler.shutdownNow();
        logs.close();
        ioScheduler.shutdown();
        try {
            ioScheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        controllerClient.close();
    }

    private static ScheduledExecutorService scheduler(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, threads == 1 ? name : name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor executor = (ScheduledThreadPoolExecutor) Executors.newScheduledThreadPool(threads,
                factory);
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
