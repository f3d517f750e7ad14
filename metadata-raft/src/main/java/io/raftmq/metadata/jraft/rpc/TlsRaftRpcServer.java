package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.Connection;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.ConnectionClosedEventListener;
import com.alipay.sofa.jraft.rpc.impl.PingRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.AppendEntriesRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.GetFileRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.InstallSnapshotRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.RequestVoteRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.TimeoutNowRequestProcessor;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A voter's Raft server: gRPC on Netty with mutual TLS, bound to the voter's own Raft endpoint
 * (its host from {@code controller.quorum.voters}, not every interface), serving only the quorum's
 * Raft messages ({@link RaftMessages}) to the other voters.
 *
 * <p>Who may call: the TLS handshake requires a client certificate of the cluster's CA naming a
 * voter ({@link VoterTrustManager}); every request that names its sender ({@code serverId}) must
 * name the Raft endpoint of the voter whose certificate the connection presented, or it is
 * answered PERMISSION_DENIED before any JRaft processor sees it (logged once per connection).
 *
 * <p>Threads: calls arrive on the transport's event loop in the order they were sent ({@code
 * directExecutor}); each is handed to its processor's executor: AppendEntries to the executor
 * JRaft selects per (leader, follower) pair, so the replicator pipeline stays in order; the others
 * to a bounded pool ({@value #MAX_HANDLER_THREADS} threads). Life cycle: construct, register
 * processors, {@link #init}, {@link #shutdown}.
 */
public final class TlsRaftRpcServer implements RpcServer {
    private static final Logger LOG = LoggerFactory.getLogger(TlsRaftRpcServer.class);
    /** Largest Raft message: an AppendEntries batch (entries of up to a metadata batch each) or a snapshot chunk. */
    static final int MAX_MESSAGE_BYTES = 64 << 20;
    static final int MAX_HANDLER_THREADS = 32;
    private static final Context.Key<RaftConnection> CALLER = Context.key("raftmq.raft.caller");

    private final RaftTransportOptions options;
    private final List<ConnectionClosedEventListener> closedListeners = new CopyOnWriteArrayList<>();
    private final VoterConnections voterConnections = new VoterConnections(() -> System.nanoTime() / 1_000_000L);
    // Filled by registerProcessor before init, on the starting thread; read by init.
    private final ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(RaftMessages.SERVICE);
    private final ThreadPoolExecutor handlers;
    // Set by init, read by any thread.
    private volatile Server server;

    public TlsRaftRpcServer(RaftTransportOptions options) {
        this.options = options;
        this.handlers = new ThreadPoolExecutor(0, MAX_HANDLER_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                new ThreadFactoryBuilder().setNameFormat("raft-rpc-" + options.nodeId() + "-%d").setDaemon(true)
                        .build());
    }

    /** The other voters' connections to this server: which are open, when each voter's last closed. */
    public VoterConnections voterConnections() {
        return voterConnections;
    }

    /** A server with the processors of every message the quorum needs, and no others. */
    public static TlsRaftRpcServer forQuorum(RaftTransportOptions options) {
        TlsRaftRpcServer server = new TlsRaftRpcServer(options);
        AppendEntriesRequestProcessor appendEntries = new AppendEntriesRequestProcessor(null);
        server.registerConnectionClosedEventListener(appendEntries);
        server.registerProcessor(appendEntries);
        server.registerProcessor(new RequestVoteRequestProcessor(null));
        server.registerProcessor(new InstallSnapshotRequestProcessor(null));
        server.registerProcessor(new GetFileRequestProcessor(null));
        server.registerProcessor(new TimeoutNowRequestProcessor(null));
        server.registerProcessor(new PingRequestProcessor(null));
        return server;
    }

    /**
     * Starts listening.
     *
     * @throws IllegalStateException if the endpoint cannot be bound (e.g. still held by a
     *     previous process) or the TLS material cannot be used; the server can be initialised again
     */
    @Override
    public boolean init(Void unused) {
        if (server != null) {
            throw new IllegalStateException("the Raft server of node " + options.nodeId() + " is already started");
        }
        Endpoint self = options.self();
        try {
            Server started = NettyServerBuilder.forAddress(new InetSocketAddress(self.getIp(), self.getPort()))
                    .sslContext(RaftTlsContexts.server(options))
                    .addService(ServerInterceptors.intercept(service.build(), new CallerInterceptor()))
                    .addTransportFilter(new RaftConnectionFilter(options.voters().keySet(), closedListeners,
                            voterConnections))
                    .directExecutor()
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                    .build()
                    .start();
            server = started;
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + self + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void shutdown() {
        Server current = server;
        if (current != null) {
            current.shutdownNow();
            try {
                current.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Never interrupt a request in progress: JRaft may be fsyncing its term and vote on that
        // thread, and an interrupted FileChannel.force is an I/O error that stops the node.
        handlers.shutdown();
    }

    @Override
    public void registerConnectionClosedEventListener(ConnectionClosedEventListener listener) {
        closedListeners.add(listener);
    }

    /**
     * Serves a processor's requests.
     *
     * @throws IllegalArgumentException for a processor of a message the quorum does not need
     *     (JRaft's administrative requests among them)
     */
    @Override
    @SuppressWarnings("unchecked")
    public void registerProcessor(RpcProcessor<?> processor) {
        if (server != null) {
            throw new IllegalStateException("processors are registered before the server starts");
        }
        MethodDescriptor<Message, Message> method = RaftMessages.method(processor.interest())
                .orElseThrow(() -> new IllegalArgumentException("the Raft transport does not serve "
                        + processor.interest()));
        Message responseType = RaftMessages.responseType(processor.interest());
        RpcProcessor<Message> typed = (RpcProcessor<Message>) processor;
        service.addMethod(method, ServerCalls.asyncUnaryCall(
                (request, observer) -> dispatch(typed, responseType, request, observer)));
    }

    @Override
    public int boundPort() {
        Server current = server;
        return current == null ? -1 : current.getPort();
    }

    /** The addresses the server listens on. */
    public List<? extends SocketAddress> listenAddresses() {
        Server current = server;
        return current == null ? List.of() : current.getListenSockets();
    }

    @Override
    public boolean isStarted() {
        Server current = server;
        return current != null && !current.isShutdown();
    }

    /** On the transport's event loop: checks the caller, then hands the request to its processor's executor. */
    private void dispatch(RpcProcessor<Message> processor, Message responseType, Message request,
            StreamObserver<Message> observer) {
        RaftConnection connection = CALLER.get();
        if (connection == null || connection.peerNodeId() < 0) {
            observer.onError(Status.UNAUTHENTICATED.withDescription("not a voter").asRuntimeException());
            return;
        }
        if (connection.isClosed()) {
            observer.onError(Status.ABORTED.withDescription(TlsRaftRpcClient.CONNECTION_RESET).asRuntimeException());
            return;
        }
        Endpoint expected = options.voters().get(connection.peerNodeId());
        PeerId claimed = RaftMessages.claimedSender(request).orElse(null);
        if (claimed != null && !expected.equals(claimed.getEndpoint())) {
            if (connection.firstRefusal()) {
                LOG.warn("[node {}] refusing Raft requests on the connection from {}: they say they come from {},"
                        + " but its certificate is node {}'s, at {}", options.nodeId(), connection.remoteAddress(),
                        claimed, connection.peerNodeId(), expected);
            }
            observer.onError(Status.PERMISSION_DENIED.withDescription("node " + connection.peerNodeId()
                    + " may only send as " + expected + ", not as " + claimed).asRuntimeException());
            return;
        }
        Executor executor = executorFor(processor, request);
        RpcContext context = new CallContext(connection, responseType, observer);
        try {
            executor.execute(() -> processor.handleRequest(context, request));
        } catch (RejectedExecutionException e) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("node " + options.nodeId()
                    + " has " + MAX_HANDLER_THREADS + " Raft requests in progress").asRuntimeException());
        }
    }

    private Executor executorFor(RpcProcessor<Message> processor, Message request) {
        Executor executor = null;
        RpcProcessor.ExecutorSelector selector = processor.executorSelector();
        if (selector != null && request instanceof RpcRequests.AppendEntriesRequest append) {
            executor = selector.select(processor.interest(), RpcRequests.AppendEntriesRequestHeader.newBuilder()
                    .setGroupId(append.getGroupId())
                    .setServerId(append.getServerId())
                    .setPeerId(append.getPeerId())
                    .build());
        } else {
            executor = processor.executor();
        }
        return executor != null ? executor : handlers;
    }

    /** Puts the call's connection in its context, for {@link #dispatch}. */
    private static final class CallerInterceptor implements ServerInterceptor {
        @Override
        public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                ServerCallHandler<ReqT, RespT> next) {
            Context context = Context.current().withValue(CALLER, call.getAttributes().get(
                    RaftConnectionFilter.CONNECTION));
            return Contexts.interceptCall(context, call, headers, next);
        }
    }

    /** One call as JRaft's processors see it: its connection and where its single answer goes. */
    private static final class CallContext implements RpcContext {
        private final RaftConnection connection;
        private final Message responseType;
        private final StreamObserver<Message> observer;

        CallContext(RaftConnection connection, Message responseType, StreamObserver<Message> observer) {
            this.connection = connection;
            this.responseType = responseType;
            this.observer = observer;
        }

        @Override
        public void sendResponse(Object response) {
            Message answer = response instanceof Message message ? RaftResponseFactory.as(responseType, message)
                    : null;
            try {
                if (answer == null) {
                    observer.onError(Status.INTERNAL.withDescription("no answer of type "
                            + responseType.getDescriptorForType().getName()).asRuntimeException());
                } else {
                    observer.onNext(answer);
                    observer.onCompleted();
                }
            } catch (RuntimeException alreadyCancelled) {
                // The caller went away (deadline, closed connection): nobody to answer.
                LOG.debug("Raft answer to {} dropped: {}", connection, alreadyCancelled.toString());
            }
        }

        @Override
        public Connection getConnection() {
            return connection;
        }

        @Override
        public String getRemoteAddress() {
            return connection.remoteAddress();
        }
    }
}
