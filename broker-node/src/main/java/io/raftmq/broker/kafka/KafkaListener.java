package io.raftmq.broker.kafka;

import io.raftmq.broker.sasl.ImageScramCredentials;
import io.raftmq.broker.sasl.ScramCredentials;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.common.Time;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's Kafka wire-protocol listener: a Netty server whose connections ({@link
 * KafkaConnection}) speak Kafka's framing and headers, answer ApiVersions, and hand every other
 * request to a {@link KafkaRequestHandler}. Epoll where the native transport loads (fetched
 * batches then leave with sendfile), NIO otherwise.
 *
 * <pre>
 *   NEW -start()-> LISTENING -close()-> CLOSED
 *   NEW -start() fails (IOException)-> FAILED -close()-> CLOSED
 *   NEW -close()-> CLOSED
 * </pre>
 *
 * <p>Threads: one acceptor thread ({@code kafka-acceptor-<brokerId>}) and {@code networkThreads}
 * event loops ({@code kafka-network-<brokerId>-<n>}); each connection lives on one event loop.
 * {@link #start} and {@link #close} may be called from any thread; they hold this object's lock
 * while binding or while waiting (bounded) for the event loops to stop.
 */
public final class KafkaListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaListener.class);
    /** Bound on each wait of {@link #start} and {@link #close}. */
    static final long SHUTDOWN_TIMEOUT_MS = 5_000;

    /**
     * @param host the address to bind ("0.0.0.0" for all)
     * @param port 0 for any free port (see {@link #boundAddress})
     * @param maxRequestBytes a request frame above this closes its connection (Kafka's
     *     socket.request.max.bytes, 104857600 by default)
     * @param connectionsMaxIdleMs a connection with nothing in flight and no traffic for this long
     *     is closed (connections.max.idle.ms, 600000 by default)
     * @param maxInflightRequestsPerConnection requests of one connection handed to the handler and
     *     not answered yet, at most; the connection is not read while at the bound
     * @param networkThreads event loops serving the connections (num.network.threads)
     */
    public record Options(int brokerId, String host, int port, int maxRequestBytes, long connectionsMaxIdleMs,
            int maxInflightRequestsPerConnection, int networkThreads) {

        public Options {
            if (host == null || host.isEmpty()) {
                throw new IllegalArgumentException("the Kafka listener needs a host to bind, got '" + host + "'");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("Kafka listener port " + port + " is not in 0..65535");
            }
            if (maxRequestBytes < 1) {
                throw new IllegalArgumentException("maxRequestBytes " + maxRequestBytes + " must be positive");
            }
            if (connectionsMaxIdleMs < 1) {
                throw new IllegalArgumentException("connectionsMaxIdleMs " + connectionsMaxIdleMs
                        + " must be positive");
            }
            if (maxInflightRequestsPerConnection < 1) {
                throw new IllegalArgumentException("maxInflightRequestsPerConnection "
                        + maxInflightRequestsPerConnection + " must be positive");
            }
            if (networkThreads < 1) {
                throw new IllegalArgumentException("networkThreads " + networkThreads + " must be positive");
            }
        }
    }

    private final Options options;
    private final KafkaRequestHandler handler;
    private final ListenerApis apis;
    private final Time time;
    private final boolean allowEpoll;
    private final String logPrefix;
    private final ListenerSecurity security;
    private final ScramCredentials credentials;
    private final KafkaListenerStats stats = new KafkaListenerStats();
    private final AtomicLong connectionCount = new AtomicLong();
    /** Set by close(), read by the network threads as they register accepted connections. */
    private volatile boolean closing;

    // Guarded by this.
    private EventLoopGroup acceptorGroup;
    private EventLoopGroup networkGroup;
    private ChannelGroup connections;
    private Channel serverChannel;
    private boolean started;
    private boolean closed;

    /**
     * The listener of a broker: every Kafka API of {@code api}'s broker and its {@code groups}
     * ({@link KafkaApis}), secured as {@code security} says; SASL checks the SCRAM credentials of
     * the broker's metadata.
     */
    public static KafkaListener forBroker(Options options, ListenerSecurity security, BrokerApi api,
            GroupCoordinator groups) {
        return new KafkaListener(options, new KafkaApis(api, groups), security,
                new ImageScramCredentials(api::image), Time.SYSTEM, true);
    }

    /**
     * Checks {@code handler.apis()} (once: it is constant) and builds nothing else; {@link #start}
     * binds.
     *
     * @throws IllegalArgumentException when the handler lists an API or version Kafka does not
     *     define
     */
    KafkaListener(Options options, KafkaRequestHandler handler) {
        this(options, handler, ListenerSecurity.PLAINTEXT, ScramCredentials.NONE, Time.SYSTEM, true);
    }

    /**
     * @param time stamps {@link KafkaRequest#receivedNs()}
     * @param allowEpoll false to use NIO even where epoll loads (tests of both transports)
     */
    KafkaListener(Options options, KafkaRequestHandler handler, Time time, boolean allowEpoll) {
        this(options, handler, ListenerSecurity.PLAINTEXT, ScramCredentials.NONE, time, allowEpoll);
    }

    /**
     * @param security TLS and authentication of the connections
     * @param credentials what SASL authentication checks (SASL listeners only)
     */
    KafkaListener(Options options, KafkaRequestHandler handler, ListenerSecurity security,
            ScramCredentials credentials, Time time, boolean allowEpoll) {
        this.options = options;
        this.security = security;
        this.credentials = credentials;
        this.handler = handler;
        this.apis = new ListenerApis(handler.apis());
        this.time = time;
        this.allowEpoll = allowEpoll;
        this.logPrefix = "[broker " + options.brokerId() + "]";
    }

    /**
     * Starts the event loops and binds.
     *
     * @throws IOException naming host:port when the address cannot be bound (the threads are
     *     stopped again)
     * @throws IllegalStateException when called twice or after {@link #close}
     */
    public synchronized void start() throws IOException {
        if (started || closed) {
            throw new IllegalStateException("the Kafka listener of broker " + options.brokerId() + " was "
                    + (closed ? "closed" : "started already"));
        }
        started = true;
        boolean epoll = allowEpoll && Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        int id = options.brokerId();
        acceptorGroup = new MultiThreadIoEventLoopGroup(1, threads("kafka-acceptor-" + id, false), io);
        networkGroup = new MultiThreadIoEventLoopGroup(options.networkThreads(), threads("kafka-network-" + id, true),
                io);
        connections = new DefaultChannelGroup("kafka-connections-" + id, ImmediateEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptorGroup, networkGroup)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        // Added before the check: close() sets the flag before closing the group,
                        // so a connection registered while it runs is closed by one or the other.
                        connections.add(channel);
                        if (closing) {
                            channel.close();
                            return;
                        }
                        InetSocketAddress client = channel.remoteAddress();
                        String connectionId = (client == null ? "?" : hostPort(client)) + "-"
                                + connectionCount.incrementAndGet();
                        if (security.sslContext() != null) {
                            // Fetched batches are copied into the stream then (KafkaConnection):
                            // sendfile cannot pass through the TLS engine.
                            channel.pipeline().addLast("tls", security.sslContext().newHandler(channel.alloc()));
                        }
                        channel.pipeline()
                                .addLast("idle", new IdleStateHandler(true, 0, 0, options.connectionsMaxIdleMs(),
                                        TimeUnit.MILLISECONDS))
                                .addLast("kafka", new KafkaConnection(id, connectionId, apis, handler, options, stats,
                                        time, security, credentials));
                    }
                });
        ChannelFuture bind = bootstrap.bind(new InetSocketAddress(options.host(), options.port()));
        if (!bind.awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS) || !bind.isSuccess()) {
            Throwable cause = bind.cause();
            bind.channel().close();
            stopEventLoops();
            throw new IOException("cannot listen for Kafka clients on " + options.host() + ":" + options.port() + ": "
                    + (cause == null ? "bind not done after " + SHUTDOWN_TIMEOUT_MS + " ms" : cause.toString()), cause);
        }
        serverChannel = bind.channel();
        LOG.info("{} Kafka listener on {} ({}, {}{})", logPrefix,
                hostPort((InetSocketAddress) serverChannel.localAddress()), security.protocol(),
                epoll ? "epoll" : "nio", security.usesSasl() ? ", SASL " + security.saslMechanisms() : "");
    }

    /** The address bound (with the actual port when {@code port} was 0). */
    public synchronized InetSocketAddress boundAddress() {
        if (serverChannel == null) {
            throw new IllegalStateException("the Kafka listener of broker " + options.brokerId() + " is not "
                    + (closed ? "listening any more" : "started"));
        }
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public KafkaListenerStats stats() {
        return stats;
    }

    /**
     * Stops accepting, closes every connection (answers not written yet are dropped; the
     * handler's futures are left to complete unseen) and stops the threads, waiting at most about
     * {@link #SHUTDOWN_TIMEOUT_MS} for each step. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        if (!started) {
            return;
        }
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS);
            connections.close().awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS);
        }
        boolean stopped = stopEventLoops();
        if (serverChannel != null) {
            InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
            LOG.info("{} Kafka listener on {} closed{}", logPrefix, hostPort(bound),
                    stopped ? "" : "; its threads did not stop within " + SHUTDOWN_TIMEOUT_MS + " ms");
            serverChannel = null;
        }
    }

    /** Returns whether both event-loop groups terminated within the bound. */
    private boolean stopEventLoops() {
        Future<?> acceptor = acceptorGroup.shutdownGracefully(0, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Future<?> network = networkGroup.shutdownGracefully(0, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        boolean acceptorDone = acceptor.awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS);
        boolean networkDone = network.awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS);
        return acceptorDone && networkDone;
    }

    private static String hostPort(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    /** Daemon threads named for thread dumps: "prefix", or "prefix-n" when {@code numbered}. */
    private static ThreadFactory threads(String prefix, boolean numbered) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new FastThreadLocalThread(runnable,
                    numbered ? prefix + "-" + count.getAndIncrement() : prefix);
            thread.setDaemon(true);
            return thread;
        };
    }
}
