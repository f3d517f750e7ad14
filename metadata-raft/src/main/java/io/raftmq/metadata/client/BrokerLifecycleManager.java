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
import java.util.concurrent.CopyOnWriteArrayList;
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
 * <p>It also keeps the broker's {@link BrokerLease}: every answered registration or heartbeat
 * renews it from the time it was sent. When the lease runs out (no answer for the session timeout
 * minus the margin: the broker is cut off from the controller, or was paused) the {@link
 * LeaseListener} hears {@code leaseExpired}, and the broker stops acting as leader before the
 * controller fences it; the first answer after that brings {@code leaseRenewed} with the metadata
 * offset the controller had then, from which the broker may lead again.
 *
 * <p>When a connection of its {@link ControllerClient} breaks, it heartbeats at once rather than at
 * the next interval: the active controller fences a broker whose heartbeat connection closed unless
 * it heartbeats again within {@code broker.connection.loss.grace.ms}, so a live broker reconnects
 * without waiting.
 *
 * <p>Threads: all state is owned by the manager's scheduler thread ("broker-lifecycle-N"); public
 * methods enqueue or read volatile views. One heartbeat is in flight at a time, and at most one is
 * scheduled; likewise one lease check.
 */
public final class BrokerLifecycleManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerLifecycleManager.class);

    public enum State { REGISTERING, FENCED, RUNNING, SHUTTING_DOWN, STOPPED }

    /**
     * Told when the broker's lease ends and when it is renewed after that, on the lifecycle
     * thread: implementations only enqueue.
     */
    public interface LeaseListener {
        /** No answer from the controller for the lease's duration: stop acting as leader. */
        void leaseExpired(long silentMs);

        /**
         * The controller answered again after the lease had expired; the broker may lead again once
         * its metadata has reached {@code metadataOffset}.
         */
        void leaseRenewed(long metadataOffset);
    }

    /**
     * @param heartbeatIntervalMs time between heartbeats
     * @param sessionTimeoutMs the controller's session timeout; a heartbeat call gives up after it
     * @param leaseMarginMs how much earlier than the controller's session timeout the broker's
     *     lease ends (see {@link BrokerLease})
     */
    public record Options(int brokerId, UUID incarnationId, List<Endpoint> endpoints, String rack,
            long heartbeatIntervalMs, long sessionTimeoutMs, long leaseMarginMs) {
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
    private final BrokerLease lease;
    private final List<LeaseListener> leaseListeners = new CopyOnWriteArrayList<>();

    // Owned by the scheduler thread; volatile for readers.
    private volatile State state = State.REGISTERING;
    private volatile long brokerEpoch = -1;
    private boolean heartbeatInFlight;
    private ScheduledFuture<?> nextHeartbeat;
    private boolean wantShutDown;
    private ScheduledFuture<?> leaseCheck;
    /** Whether listeners were told the lease expired and not yet that it was renewed. */
    private boolean leaseExpired;
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
        this.lease = BrokerLease.of(options.sessionTimeoutMs(), options.leaseMarginMs());
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

    /** This broker's lease: whether it may act as leader now. */
    public BrokerLease lease() {
        return lease;
    }

    /** Adds a listener for the lease's expiry and renewal; add it before {@link #start()}. */
    public void addLeaseListener(LeaseListener listener) {
        leaseListeners.add(listener);
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
        long sentMs = time.monotonicMs();
        RegisterBrokerRequest request = RegisterBrokerRequest.newBuilder()
                .setBrokerId(options.brokerId())
                .setIncarnationId(Uuids.toProto(options.incarnationId()))
                .addAllEndpoints(options.endpoints())
                .setRack(options.rack() == null ? "" : options.rack())
                .build();
        client.registerBroker(request).whenComplete((response, error) -> run(() -> registered(sentMs, response,
                error)));
    }

    private void registered(long sentMs, RegisterBrokerResponse response, Throwable error) {
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
        // The registration starts the controller's session for this broker, as a heartbeat does.
        renewLease(sentMs, response.getRegistrationOffset());
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
        renewLease(sentMs, response.getMetadataOffset());
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

    /** The controller answered a request sent at {@code sentMs}; its committed offset was {@code metadataOffset}. */
    private void renewLease(long sentMs, long metadataOffset) {
        lease.renew(sentMs);
        long nowMs = time.monotonicMs();
        if (!lease.isHeld(nowMs)) {
            return; // answered too late to count: the lease stays as it was
        }
        if (leaseExpired) {
            leaseExpired = false;
            LOG.info("[broker {}] the controller answered again (metadata offset {}); leading again once metadata"
                    + " reaches it", options.brokerId(), metadataOffset);
            leaseListeners.forEach(l -> l.leaseRenewed(metadataOffset));
        }
        if (leaseCheck == null) {
            leaseCheck = schedule(this::checkLease, lease.expiresAtMs() - nowMs);
        }
    }

    /** Runs when the lease may have ended; follows the end while answers keep moving it. */
    private void checkLease() {
        leaseCheck = null;
        if (state == State.STOPPED) {
            return;
        }
        long nowMs = time.monotonicMs();
        if (lease.isHeld(nowMs)) {
            leaseCheck = schedule(this::checkLease, lease.expiresAtMs() - nowMs);
            return;
        }
        if (!leaseExpired) {
            leaseExpired = true;
            long silentMs = nowMs - (lease.expiresAtMs() - lease.durationMs());
            LOG.info("[broker {}] no answer from the controller to anything sent in the last {} ms (lease {} ms,"
                    + " session {} ms); acting as leader of nothing until it answers", options.brokerId(),
                    silentMs, lease.durationMs(), options.sessionTimeoutMs());
            leaseListeners.forEach(l -> l.leaseExpired(silentMs));
        }
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
