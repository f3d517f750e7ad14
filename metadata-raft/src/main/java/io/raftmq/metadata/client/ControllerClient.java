package io.raftmq.metadata.client;

import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.HostPort;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.ControllerHint;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.DescribeAclsRequest;
import io.raftmq.protocol.controller.DescribeAclsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Calls the metadata quorum's Controller service the way a broker or an admin tool needs: writes
 * go to the active controller, found by following NOT_CONTROLLER hints and, when a voter is
 * unreachable or does not know the controller yet, by trying the next voter; reads go to any
 * voter. Every call retries with a short backoff until it gets an answer that is not about where
 * to send it, or until its overall timeout.
 *
 * <p>The answer is the response as the controller sent it (per-item errors included). A call that
 * times out completes with the last NOT_CONTROLLER response, or exceptionally with the last
 * transport error.
 *
 * <p>Thread-safe. {@link #close()} shuts the channels down.
 */
public final class ControllerClient implements AutoCloseable {

    /**
     * @param voters gRPC addresses of the controller voters
     * @param callTimeoutMs overall time a call may take, retries included
     * @param attemptTimeoutMs deadline of one attempt
     * @param retryBackoffMs wait before trying again
     */
    public record Options(List<HostPort> voters, long callTimeoutMs, long attemptTimeoutMs, long retryBackoffMs) {
        public Options {
            voters = List.copyOf(voters);
            if (voters.isEmpty()) {
                throw new IllegalArgumentException("no controller voters given");
            }
        }

        /** Overall time of a call by default. */
        public static final long DEFAULT_CALL_TIMEOUT_MS = 30_000;
        /** Deadline of one attempt by default. */
        public static final long DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
        /** Wait before trying again by default. */
        public static final long DEFAULT_RETRY_BACKOFF_MS = 20;

        public static Options defaults(List<HostPort> voters) {
            return new Options(voters, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_BACKOFF_MS);
        }
    }

    /** How long {@link #close()} waits for each channel to end its calls. */
    private static final long CLOSE_WAIT_MS = 5_000;

    private final Options options;
    private final List<ClientInterceptor> interceptors;
    private final NodeChannelCredentials credentials;
    private final Map<HostPort, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final List<Runnable> connectionLossListeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService retries;
    private final AtomicInteger nextVoter = new AtomicInteger();
    // Where the active controller was last seen, or null to try the voters in turn.
    private volatile HostPort controller;

    public ControllerClient(Options options) {
        this(options, List.of());
    }

    /** @param interceptors every call passes through these (a test's cut link) */
    public ControllerClient(Options options, List<ClientInterceptor> interceptors) {
        this(options, interceptors, NodeChannelCredentials.plaintext());
    }

    /**
     * @param interceptors every call passes through these (a test's cut link)
     * @param credentials how the channels to the voters are secured (a node's own TLS identity)
     */
    public ControllerClient(Options options, List<ClientInterceptor> interceptors,
            NodeChannelCredentials credentials) {
        this.options = options;
        this.interceptors = List.copyOf(interceptors);
        this.credentials = credentials;
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "controller-client-retry");
            t.setDaemon(true);
            return t;
        });
    }

    // ---- writes (to the active controller) ----

    public CompletableFuture<RegisterBrokerResponse> registerBroker(RegisterBrokerRequest request) {
        return callController((stub, obs) -> stub.registerBroker(request, obs),
                RegisterBrokerResponse::getError, RegisterBrokerResponse::getController);
    }

    public CompletableFuture<BrokerHeartbeatResponse> brokerHeartbeat(BrokerHeartbeatRequest request, long timeoutMs) {
        return call(true, timeoutMs, (stub, obs) -> stub.brokerHeartbeat(request, obs),
                BrokerHeartbeatResponse::getError, BrokerHeartbeatResponse::getController);
    }

    public CompletableFuture<AlterPartitionResponse> alterPartition(AlterPartitionRequest request) {
        return callController((stub, obs) -> stub.alterPartition(request, obs),
                AlterPartitionResponse::getError, AlterPartitionResponse::getController);
    }

    public CompletableFuture<AllocateProducerIdsResponse> allocateProducerIds(AllocateProducerIdsRequest request) {
        return callController((stub, obs) -> stub.allocateProducerIds(request, obs),
                AllocateProducerIdsResponse::getError, AllocateProducerIdsResponse::getController);
    }

    public CompletableFuture<CreateTopicsResponse> createTopics(CreateTopicsRequest request) {
        return callController((stub, obs) -> stub.createTopics(request, obs),
                CreateTopicsResponse::getError, CreateTopicsResponse::getController);
    }

    public CompletableFuture<DeleteTopicsResponse> deleteTopics(DeleteTopicsRequest request) {
        return callController((stub, obs) -> stub.deleteTopics(request, obs),
                DeleteTopicsResponse::getError, DeleteTopicsResponse::getController);
    }

    public CompletableFuture<CreatePartitionsResponse> createPartitions(CreatePartitionsRequest request) {
        return callController((stub, obs) -> stub.createPartitions(request, obs),
                CreatePartitionsResponse::getError, CreatePartitionsResponse::getController);
    }

    public CompletableFuture<AlterConfigsResponse> alterConfigs(AlterConfigsRequest request) {
        return callController((stub, obs) -> stub.alterConfigs(request, obs),
                AlterConfigsResponse::getError, AlterConfigsResponse::getController);
    }

    public CompletableFuture<AlterUserScramCredentialsResponse> alterUserScramCredentials(
            AlterUserScramCredentialsRequest request) {
        return callController((stub, obs) -> stub.alterUserScramCredentials(request, obs),
                AlterUserScramCredentialsResponse::getError, AlterUserScramCredentialsResponse::getController);
    }

    /**
     * Leader elections (PREFERRED or UNCLEAN) for the listed partitions, or every partition when
     * none is listed; per-partition outcomes are in the response's results.
     */
    public CompletableFuture<ElectLeadersResponse> electLeaders(ElectLeadersRequest request) {
        return callController((stub, obs) -> stub.electLeaders(request, obs),
                ElectLeadersResponse::getError, ElectLeadersResponse::getController);
    }

    public CompletableFuture<CreateAclsResponse> createAcls(CreateAclsRequest request) {
        return callController((stub, obs) -> stub.createAcls(request, obs),
                CreateAclsResponse::getError, CreateAclsResponse::getController);
    }

    public CompletableFuture<DeleteAclsResponse> deleteAcls(DeleteAclsRequest request) {
        return callController((stub, obs) -> stub.deleteAcls(request, obs),
                DeleteAclsResponse::getError, DeleteAclsResponse::getController);
    }

    // ---- reads (any voter) ----

    public CompletableFuture<DescribeAclsResponse> describeAcls(DescribeAclsRequest request) {
        return call(false, options.callTimeoutMs(), (stub, obs) -> stub.describeAcls(request, obs),
                DescribeAclsResponse::getError, DescribeAclsResponse::getController);
    }

    public CompletableFuture<DescribeClusterResponse> describeCluster(DescribeClusterRequest request) {
        return call(false, options.callTimeoutMs(), (stub, obs) -> stub.describeCluster(request, obs),
                DescribeClusterResponse::getError, DescribeClusterResponse::getController);
    }

    public CompletableFuture<DescribeTopicsResponse> describeTopics(DescribeTopicsRequest request) {
        return call(false, options.callTimeoutMs(), (stub, obs) -> stub.describeTopics(request, obs),
                DescribeTopicsResponse::getError, DescribeTopicsResponse::getController);
    }

    /**
     * Runs {@code listener} each time a connection to a voter that was ready is lost (closed or
     * reset by either side, or by the network), on a gRPC thread: it must only enqueue. The next
     * call over that channel opens a new connection at once.
     */
    public void onConnectionLost(Runnable listener) {
        connectionLossListeners.add(listener);
    }

    @Override
    public void close() {
        retries.shutdownNow();
        channels.values().forEach(ManagedChannel::shutdownNow);
        for (ManagedChannel channel : channels.values()) {
            try {
                channel.awaitTermination(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---- the retry loop ----

    private interface Invocation<R> {
        void invoke(ControllerGrpc.ControllerStub stub, StreamObserver<R> observer);
    }

    private <R> CompletableFuture<R> callController(Invocation<R> invocation,
            Function<R, Error> errorOf, Function<R, ControllerHint> hintOf) {
        return call(true, options.callTimeoutMs(), invocation, errorOf, hintOf);
    }

    private <R> CompletableFuture<R> call(boolean toController, long timeoutMs, Invocation<R> invocation,
            Function<R, Error> errorOf, Function<R, ControllerHint> hintOf) {
        CompletableFuture<R> result = new CompletableFuture<>();
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        attempt(new Call<>(toController, deadlineNs, invocation, errorOf, hintOf, result));
        return result;
    }

    private record Call<R>(boolean toController, long deadlineNs, Invocation<R> invocation,
            Function<R, Error> errorOf, Function<R, ControllerHint> hintOf, CompletableFuture<R> result) {}

    private <R> void attempt(Call<R> call) {
        HostPort target = call.toController() && controller != null ? controller : nextVoter();
        long remainingMs = TimeUnit.NANOSECONDS.toMillis(call.deadlineNs() - System.nanoTime());
        ManagedChannel channel = channel(target);
        // A voter that was down may be back: do not let gRPC's reconnect backoff (up to minutes)
        // hide it; this loop's own backoff bounds the connection attempts.
        channel.resetConnectBackoff();
        ControllerGrpc.ControllerStub stub = ControllerGrpc.newStub(channel)
                .withDeadlineAfter(Math.max(1, Math.min(remainingMs, options.attemptTimeoutMs())), TimeUnit.MILLISECONDS);
        call.invocation().invoke(stub, new StreamObserver<>() {
            private R response;

            @Override
            public void onNext(R value) {
                response = value;
            }

            @Override
            public void onError(Throwable t) {
                if (call.toController() && target.equals(controller)) {
                    controller = null;
                }
                Status status = Status.fromThrowable(t);
                boolean retriable = status.getCode() == Status.Code.UNAVAILABLE
                        || status.getCode() == Status.Code.DEADLINE_EXCEEDED
                        || status.getCode() == Status.Code.CANCELLED
                        || status.getCode() == Status.Code.RESOURCE_EXHAUSTED
                        // SASL_PLAINTEXT: the voter restarted and forgot this node's session.
                        || SaslSessionHeaders.isUnknownSession(t);
                if (!retriable || !retryLater(call)) {
                    call.result().completeExceptionally(new StatusRuntimeException(status.augmentDescription(
                            "calling the controller voter at " + target)));
                }
            }

            @Override
            public void onCompleted() {
                Error error = call.errorOf().apply(response);
                if (call.toController() && error.getCode() == ErrorCode.NOT_CONTROLLER) {
                    ControllerHint hint = call.hintOf().apply(response);
                    controller = hint.hasEndpoint()
                            ? new HostPort(hint.getEndpoint().getHost(), hint.getEndpoint().getPort()) : null;
                    if (retryLater(call)) {
                        return;
                    }
                } else if (call.toController()) {
                    controller = target;
                }
                call.result().complete(response);
            }
        });
    }

    /** Schedules another attempt if the call has time left; false when it has none. */
    private <R> boolean retryLater(Call<R> call) {
        long remainingNs = call.deadlineNs() - System.nanoTime();
        if (remainingNs <= TimeUnit.MILLISECONDS.toNanos(options.retryBackoffMs())) {
            return false;
        }
        try {
            retries.schedule(() -> attempt(call), options.retryBackoffMs(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return false;
        }
    }

    private HostPort nextVoter() {
        List<HostPort> voters = options.voters();
        return voters.get(Math.floorMod(nextVoter.getAndIncrement(), voters.size()));
    }

    private ManagedChannel channel(HostPort address) {
        return channels.computeIfAbsent(address, a -> {
            ManagedChannel channel = NettyChannelBuilder.forAddress(a.host(), a.port(), credentials.toAnyNode())
                    .keepAliveTime(10, TimeUnit.SECONDS)
                    .keepAliveTimeout(2, TimeUnit.SECONDS)
                    .intercept(credentials.authentication("controller voter " + a))
                    .intercept(interceptors)
                    .build();
            watchConnectivity(channel, ConnectivityState.IDLE);
            return channel;
        });
    }

    /**
     * Tells the listeners when {@code channel} leaves READY: a ready channel whose connection ends
     * goes IDLE, and the next call reconnects without a backoff (gRPC backs off only after a failed
     * connection attempt, and every attempt here resets that backoff first).
     */
    private void watchConnectivity(ManagedChannel channel, ConnectivityState seen) {
        channel.notifyWhenStateChanged(seen, () -> {
            ConnectivityState now = channel.getState(false);
            boolean lost = seen == ConnectivityState.READY && now != ConnectivityState.READY
                    && now != ConnectivityState.SHUTDOWN;
            if (lost) {
                connectionLossListeners.forEach(Runnable::run);
            }
            if (now != ConnectivityState.SHUTDOWN) {
                watchConnectivity(channel, now);
            }
        });
    }
}
