package io.raftmq.metadata.client;

import io.raftmq.common.FaultHandler;
import io.raftmq.common.Time;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker's membership in the cluster, from the broker's side: registers with the active
 * controller, heartbeats every interval with the metadata offset it has applied (which gets it
 * unfenced once caught up), and drives a controlled shutdown.
 *
 * <pre>
 *   REGISTERING -(registered)-> FENCED -(heartbeat: unfenced)-> RUNNING
 *   RUNNING -(heartbeat: fenced, e.g. session expired)-> FENCED
 *   FENCED | RUNNING -(controlledShutdown())-> SHUTTING_DOWN -(should_shut_down)-> STOPPED
 *   any -(STALE_BROKER_EPOCH: another process holds this broker id)-> STOPPED (fault)
 * </pre>
 *
 * <p>When a connection of its {@link ControllerClient} breaks, it heartbeats at once rather than at
 * the next interval: the active controller fences a broker whose heartbeat connection closed unless
 * it heartbeats again within {@code broker.connection.loss.grace.ms}, so a live broker reconnects
 * without waiting.
 *
 * <p>Threads: all state is owned by the manager's scheduler thread ("broker-lifecycle-N"); public
 * methods enqueue or read volatile views. One heartbeat is in flight at a time, and at most one is
 * scheduled.
 */
public final class BrokerLifecycleManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerLifecycleManager.class);

    public enum State { REGISTERING, FENCED, RUNNING, SHUTTING_DOWN, STOPPED }

    /**
     * @param heartbeatIntervalMs time between heartbeats
     * @param sessionTimeoutMs the controller's session timeout; a heartbeat call gives up after it
     */
    public record Options(int brokerId, UUID incarnationId, List<Endpoint> endpoints, String rack,
            long heartbeatIntervalMs, long sessionTimeoutMs) {
        public Options {
            endpoints = List.copyOf(endpoints);
        }
    }

    private final Options options;
    private final ControllerClient client;
    private final LongSupplier appliedMetadataOffset;
    private final Time time;
    private final FaultHandler faultHandler;
    private final ScheduledExecutorService scheduler;

    // Owned by the scheduler thread; volatile for readers.
    private volatile State state = State.REGISTERING;
    private volatile long brokerEpoch = -1;
    private boolean heartbeatInFlight;
    private ScheduledFuture<?> nextHeartbeat;
    private boolean wantShutDown;
    private final CompletableFuture<Long> registered = new CompletableFuture<>();
    private final CompletableFuture<Void> unfenced = new CompletableFuture<>();
    private final CompletableFuture<Void> shutDown = new CompletableFuture<>();

    public BrokerLifecycleManager(Options options, ControllerClient client, LongSupplier appliedMetadataOffset,
            Time time, FaultHandler faultHandler) {
        this.options = options;
        this.client = client;
        this.appliedMetadataOffset = appliedMetadataOffset;
        this.time = time;
        this.faultHandler = faultHandler;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "broker-lifecycle-" + options.brokerId());
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        client.onConnectionLost(() -> run(this::heartbeatNow));
        run(this::register);
    }

    public State state() {
        return state;
    }

    /** The broker epoch of the current registration, -1 before it registered. */
    public long brokerEpoch() {
        return brokerEpoch;
    }

    /** Completes with the broker epoch once registered. */
    public CompletableFuture<Long> registered() {
        return registered;
    }

    /** Completes the first time the controller unfences this broker. */
    public CompletableFuture<Void> unfenced() {
        return unfenced;
    }

    /**
     * Asks the controller to move this broker's leaderships away; completes when the controller
     * says the broker may stop. The caller bounds the wait.
     */
    public CompletableFuture<Void> controlledShutdown() {
        run(() -> {
            if (state == State.STOPPED) {
                shutDown.complete(null);
                return;
            }
            wantShutDown = true;
            if (state != State.REGISTERING) {
                changeState(State.SHUTTING_DOWN, "controlled shutdown requested");
                heartbeat();
            }
        });
        return shutDown;
    }

    @Override
    public void close() {
        run(() -> changeState(State.STOPPED, "closed"));
        scheduler.shutdown();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run(Runnable task) {
        try {
            scheduler.execute(task);
        } catch (RejectedExecutionException closed) {
            // Closed.
        }
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        try {
            return scheduler.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            return null;
        }
    }

    // ---- scheduler thread ----

    private void register() {
        if (state == State.STOPPED) {
            return;
        }
        RegisterBrokerRequest request = RegisterBrokerRequest.newBuilder()
                .setBrokerId(options.brokerId())
                .setIncarnationId(Uuids.toProto(options.incarnationId()))
                .addAllEndpoints(options.endpoints())
                .setRack(options.rack() == null ? "" : options.rack())
                .build();
        client.registerBroker(request).whenComplete((response, error) -> run(() -> registered(response, error)));
    }

    private void registered(RegisterBrokerResponse response, Throwable error) {
        if (state == State.STOPPED) {
            return;
        }
        if (error != null || response.getError().getCode() != ErrorCode.NONE) {
            String why = error != null ? error.toString()
                    : response.getError().getCode() + ": " + response.getError().getMessage();
            LOG.info("[broker {}] registration not accepted yet ({}); retrying", options.brokerId(), why);
            schedule(this::register, options.heartbeatIntervalMs());
            return;
        }
        brokerEpoch = response.getBrokerEpoch();
        LOG.info("[broker {}] registered at epoch {} (registration offset {})", options.brokerId(), brokerEpoch,
                response.getRegistrationOffset());
        changeState(wantShutDown ? State.SHUTTING_DOWN : State.FENCED, "registered");
        registered.complete(brokerEpoch);
        scheduleHeartbeat(0);
    }

    /** Replaces the scheduled heartbeat, so that one heartbeat sent early does not start a second series. */
    private void scheduleHeartbeat(long delayMs) {
        cancelScheduledHeartbeat();
        nextHeartbeat = schedule(this::heartbeat, delayMs);
    }

    private void cancelScheduledHeartbeat() {
        if (nextHeartbeat != null) {
            nextHeartbeat.cancel(false);
            nextHeartbeat = null;
        }
    }

    /**
     * A connection to a voter broke: heartbeat now over a new one. A heartbeat in flight is retried
     * by the client on its own; without a registration there is no session to keep.
     */
    private void heartbeatNow() {
        if (state == State.STOPPED || state == State.REGISTERING || heartbeatInFlight) {
            return;
        }
        LOG.debug("[broker {}] a connection to the controller quorum was lost; heartbeating now", options.brokerId());
        heartbeat();
    }

    private void heartbeat() {
        if (state == State.STOPPED || state == State.REGISTERING || heartbeatInFlight) {
            return;
        }
        cancelScheduledHeartbeat();
        heartbeatInFlight = true;
        long sentMs = time.monotonicMs();
        BrokerHeartbeatRequest request = BrokerHeartbeatRequest.newBuilder()
                .setBrokerId(options.brokerId())
                .setBrokerEpoch(brokerEpoch)
                .setMetadataOffset(appliedMetadataOffset.getAsLong())
                .setWantShutDown(wantShutDown)
                .build();
        client.brokerHeartbeat(request, options.sessionTimeoutMs())
                .whenComplete((response, error) -> run(() -> heartbeatAnswered(sentMs, response, error)));
    }

    private void heartbeatAnswered(long sentMs, BrokerHeartbeatResponse response, Throwable error) {
        heartbeatInFlight = false;
        if (state == State.STOPPED) {
            return;
        }
        long nextInMs = Math.max(0, options.heartbeatIntervalMs() - (time.monotonicMs() - sentMs));
        if (error != null) {
            LOG.debug("[broker {}] heartbeat failed: {}", options.brokerId(), error.toString());
            scheduleHeartbeat(nextInMs);
            return;
        }
        ErrorCode code = response.getError().getCode();
        if (code == ErrorCode.STALE_BROKER_EPOCH || code == ErrorCode.BROKER_ID_NOT_REGISTERED) {
            changeState(State.STOPPED, response.getError().getMessage());
            faultHandler.handleFault("broker " + options.brokerId() + " lost its registration (epoch " + brokerEpoch
                    + "): " + response.getError().getMessage() + "; another process may hold this broker id");
            return;
        }
        if (code != ErrorCode.NONE) {
            LOG.debug("[broker {}] heartbeat answered {}: {}", options.brokerId(), code,
                    response.getError().getMessage());
            scheduleHeartbeat(nextInMs);
            return;
        }
        if (response.getShouldShutDown()) {
            changeState(State.STOPPED, "the controller moved every leadership away");
            shutDown.complete(null);
            return;
        }
        if (state != State.SHUTTING_DOWN) {
            if (!response.getIsFenced() && state == State.FENCED) {
                changeState(State.RUNNING, "unfenced by the controller");
                unfenced.complete(null);
            } else if (response.getIsFenced() && state == State.RUNNING) {
                changeState(State.FENCED, "fenced by the controller");
            }
        }
        scheduleHeartbeat(nextInMs);
    }

    private void changeState(State next, String why) {
        State old = state;
        if (old == next) {
            return;
        }
        state = next;
        LOG.info("[broker {}] {} -> {}: {}", options.brokerId(), old, next, why);
    }
}
