package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.error.InvokeTimeoutException;
import com.alipay.sofa.jraft.error.RemotingException;
import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.InvokeContext;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcUtils;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A voter's client side of the Raft transport: one gRPC channel with mutual TLS per other voter,
 * presenting this voter's certificate and accepting only the called voter's ({@code CN=node-N}
 * for voter N). Calls to an endpoint that is no voter's fail at once.
 *
 * <p>The TLS material comes from the node options JRaft passes to {@link #init} (a {@link
 * RaftTransportNodeOptions}); the factory that made this client is shared by every node of the JVM.
 * A channel that could not connect retries at once on the next call rather than after gRPC's
 * growing back-off (up to two minutes): a voter that restarts must be reached again within an
 * election timeout. Thread-safe: channels live in a concurrent map.
 */
final class TlsRaftRpcClient implements RpcClient {
    private static final Logger LOG = LoggerFactory.getLogger(TlsRaftRpcClient.class);
    /** Status description of an ABORTED answer that tells the client to reconnect ({@link RaftConnection#close}). */
    static final String CONNECTION_RESET = "Raft connection reset by the peer; reconnect";

    private final Map<Endpoint, ManagedChannel> channels = new ConcurrentHashMap<>();
    // Set by init / registerConnectEventListener before the node sends anything.
    private volatile RaftTransportOptions options;
    private volatile ReplicatorGroup replicators;

    /**
     * @throws IllegalArgumentException if {@code rpcOptions} are not {@link RaftTransportNodeOptions}:
     *     the transport has no certificate to present otherwise
     */
    @Override
    public boolean init(RpcOptions rpcOptions) {
        if (!(rpcOptions instanceof RaftTransportNodeOptions nodeOptions)) {
            throw new IllegalArgumentException("the Raft transport needs the node's TLS identity: start the JRaft"
                    + " node with " + RaftTransportNodeOptions.class.getSimpleName() + ", not "
                    + (rpcOptions == null ? "null" : rpcOptions.getClass().getSimpleName()));
        }
        RaftTransportOptions transport = nodeOptions.transport();
        this.options = transport;
        // Connect to every other voter now: an election should not wait for TLS handshakes between
        // followers that have not spoken yet.
        transport.voters().forEach((id, endpoint) -> {
            if (id != transport.nodeId()) {
                channel(endpoint).getState(true);
            }
        });
        return true;
    }

    @Override
    public void shutdown() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }

    @Override
    public boolean checkConnection(Endpoint endpoint) {
        return checkConnection(endpoint, false);
    }

    @Override
    public boolean checkConnection(Endpoint endpoint, boolean createIfAbsent) {
        ManagedChannel channel = createIfAbsent ? channel(endpoint) : channels.get(endpoint);
        if (channel == null) {
            return false;
        }
        ConnectivityState state = channel.getState(true);
        return state != ConnectivityState.TRANSIENT_FAILURE && state != ConnectivityState.SHUTDOWN;
    }

    @Override
    public void closeConnection(Endpoint endpoint) {
        ManagedChannel channel = channels.remove(endpoint);
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    @Override
    public void registerConnectEventListener(ReplicatorGroup replicatorGroup) {
        this.replicators = replicatorGroup;
    }

    @Override
    public Object invokeSync(Endpoint endpoint, Object request, InvokeContext context, long timeoutMs)
            throws InterruptedException, RemotingException {
        CompletableFuture<Object> answer = new CompletableFuture<>();
        invokeAsync(endpoint, request, context, new InvokeCallback() {
            @Override
            public void complete(Object result, Throwable error) {
                if (error == null) {
                    answer.complete(result);
                } else {
                    answer.completeExceptionally(error);
                }
            }

            @Override
            public Executor executor() {
                return null; // complete on the transport thread: it only completes a future
            }
        }, timeoutMs);
        try {
            return answer.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new InvokeTimeoutException("no answer from " + endpoint + " within " + timeoutMs + " ms");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RemotingException remoting ? remoting
                    : new RemotingException(e.getCause());
        }
    }

    @Override
    public void invokeAsync(Endpoint endpoint, Object request, InvokeContext context, InvokeCallback callback,
            long timeoutMs) {
        Executor executor = callback.executor() != null ? callback.executor() : Runnable::run;
        MethodDescriptor<Message, Message> method = request instanceof Message
                ? RaftMessages.method(request.getClass().getName()).orElse(null) : null;
        if (method == null) {
            deliver(executor, () -> callback.complete(null, new RemotingException("the Raft transport does not carry "
                    + request.getClass().getName())));
            return;
        }
        ManagedChannel channel = channel(endpoint);
        if (channel == null) {
            deliver(executor, () -> callback.complete(null, new RemotingException(endpoint
                    + " is not a voter's Raft endpoint")));
            return;
        }
        if (channel.getState(true) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
        }
        ClientCalls.asyncUnaryCall(channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(timeoutMs,
                TimeUnit.MILLISECONDS)), (Message) request, new StreamObserver<>() {
                    @Override
                    public void onNext(Message response) {
                        deliver(executor, () -> callback.complete(response, null));
                    }

                    @Override
                    public void onError(Throwable error) {
                        Status status = Status.fromThrowable(error);
                        if (status.getCode() == Status.Code.ABORTED && CONNECTION_RESET.equals(status.getDescription())) {
                            closeConnection(endpoint);
                        }
                        RemotingException failure = status.getCode() == Status.Code.DEADLINE_EXCEEDED
                                ? new InvokeTimeoutException(endpoint + ": " + status)
                                : new RemotingException(endpoint + ": " + status, error);
                        deliver(executor, () -> callback.complete(null, failure));
                    }

                    @Override
                    public void onCompleted() {
                        // the answer came with onNext
                    }
                });
    }

    /** Runs an answer's callback on its executor; JRaft's executors refuse once the node is stopping. */
    private void deliver(Executor executor, Runnable completion) {
        try {
            executor.execute(completion);
        } catch (RejectedExecutionException stopping) {
            LOG.debug("[node {}] Raft answer dropped, its node is stopping: {}", options.nodeId(), stopping.toString());
        }
    }

    /** The channel to the voter at {@code endpoint}, made on first use; null if no voter is there. */
    private ManagedChannel channel(Endpoint endpoint) {
        RaftTransportOptions current = options;
        if (current == null) {
            throw new IllegalStateException("the Raft client is not initialised");
        }
        Integer peer = current.voterAt(endpoint).orElse(null);
        if (peer == null) {
            return null;
        }
        return channels.computeIfAbsent(endpoint, at -> newChannel(current, peer, at));
    }

    private ManagedChannel newChannel(RaftTransportOptions current, int peer, Endpoint endpoint) {
        try {
            ManagedChannel channel = NettyChannelBuilder.forAddress(endpoint.getIp(), endpoint.getPort())
                    .sslContext(RaftTlsContexts.client(current, peer))
                    .directExecutor()
                    .disableRetry() // Raft retries itself, with the state it knows
                    // Followers may not call each other for hours; keep their connections for the next election.
                    .idleTimeout(1, TimeUnit.DAYS)
                    .maxInboundMessageSize(TlsRaftRpcServer.MAX_MESSAGE_BYTES)
                    .build();
            watch(channel, endpoint, ConnectivityState.IDLE);
            return channel;
        } catch (SSLException e) {
            throw new IllegalStateException("node " + current.nodeId() + " cannot set up TLS to node " + peer + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Follows a channel's state: when it connects, JRaft's replicator of that peer is restarted if
     * it had stopped (as bolt's connect event does).
     */
    private void watch(ManagedChannel channel, Endpoint endpoint, ConnectivityState from) {
        channel.notifyWhenStateChanged(from, () -> {
            ConnectivityState state = channel.getState(false);
            if (state == ConnectivityState.SHUTDOWN) {
                return;
            }
            if (state == ConnectivityState.READY) {
                ReplicatorGroup group = replicators;
                if (group != null) {
                    RpcUtils.runInThread(() -> group.checkReplicator(new PeerId(endpoint, 0), true));
                }
                LOG.debug("[node {}] Raft channel to {} connected", options.nodeId(), endpoint);
            }
            watch(channel, endpoint, state);
        });
    }
}
