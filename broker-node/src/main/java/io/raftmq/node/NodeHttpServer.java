package io.raftmq.node;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.raftmq.common.HostPort;
import io.raftmq.node.ui.WebView;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP server ({@code http.listener}): {@code GET /health} answers 200 when the node is
 * ready and 503 with the reason when it is not, both with a short JSON description; {@code GET
 * /metrics} answers Prometheus text; the web view's paths ({@code /}, {@code /ui/...}, {@code
 * /api/...}, see {@link WebView}) are its. Anything else is 404 (unknown path) or 405 (not
 * GET/HEAD); a request that does not parse or is too large is 400.
 *
 * <p>Bounded so that no client can stall the health checks: one non-blocking Netty thread
 * ({@code http-N}) accepts and serves every connection, so a client that sends nothing, or half a
 * request, holds no thread; a connection must deliver its whole request within {@code
 * http.read.timeout.ms} of opening or it is closed; every answer closes its connection (no
 * keep-alive, so no connection idles between requests); at most {@code http.max.connections} are
 * open at once, and one more is closed as soon as it is accepted (counted, logged once per burst).
 * Requests are limited to a 4 KiB request line and 8 KiB of headers, with no body. A connection
 * that becomes an event stream ({@code GET /api/events}) stays open and leaves this count: the
 * streams have their own bound ({@code http.max.event.streams}), so open pages never starve
 * {@code /health}.
 *
 * <p>Life cycle: {@link #start()} once, {@link #close()} once, from the node's thread. All
 * connection state (the open count, each connection's deadline) is owned by the {@code http-N}
 * thread; handlers only read {@link NodeStatus}.
 */
final class NodeHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeHttpServer.class);
    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final int MAX_INITIAL_LINE_BYTES = 4096;
    private static final int MAX_HEADER_BYTES = 8192;

    /** What the server serves and its bounds. */
    interface Status {
        NodeStatus.Health health();

        String metrics();
    }

    private final int nodeId;
    private final HostPort listener;
    private final Status status;
    private final long readTimeoutMs;
    private final int maxConnections;
    /** The web view's routes, or null. */
    private final WebView web;
    private EventLoopGroup group;
    private Channel server;
    // Owned by the http-N thread.
    private int open;
    private long refused;
    private boolean refusing;

    NodeHttpServer(int nodeId, HostPort listener, NodeStatus status, long readTimeoutMs, int maxConnections,
            WebView web) {
        this(nodeId, listener, new Status() {
            @Override
            public NodeStatus.Health health() {
                return status.health();
            }

            @Override
            public String metrics() {
                return status.metrics();
            }
        }, readTimeoutMs, maxConnections, web);
    }

    NodeHttpServer(int nodeId, HostPort listener, Status status, long readTimeoutMs, int maxConnections) {
        this(nodeId, listener, status, readTimeoutMs, maxConnections, null);
    }

    NodeHttpServer(int nodeId, HostPort listener, Status status, long readTimeoutMs, int maxConnections,
            WebView web) {
        this.web = web;
        this.nodeId = nodeId;
        this.listener = listener;
        this.status = status;
        this.readTimeoutMs = readTimeoutMs;
        this.maxConnections = maxConnections;
    }

    void start() throws IOException {
        group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "http-" + nodeId);
            t.setDaemon(true);
            return t;
        }, NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 64)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accept(ch);
                    }
                });
        try {
            server = bootstrap.bind(new InetSocketAddress(listener.host(), listener.port())).syncUninterruptibly()
                    .channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot listen on " + listener + " (http.listener): " + e.getMessage(), e);
        }
        LOG.info("[node {}] HTTP health and metrics on {} (at most {} connections, {} ms to send a request)",
                nodeId, listener, maxConnections, readTimeoutMs);
    }

    /** On the http thread: admits the connection within the bound and gives it its deadline. */
    private void accept(SocketChannel ch) {
        if (open >= maxConnections) {
            refused++;
            if (!refusing) {
                refusing = true;
                LOG.warn("[node {}] HTTP connection from {} refused: {} connections open (http.max.connections);"
                        + " {} refused so far", nodeId, ch.remoteAddress(), open, refused);
            }
            ch.close();
            return;
        }
        if (refusing) {
            refusing = false;
            LOG.info("[node {}] HTTP connections accepted again; {} refused so far", nodeId, refused);
        }
        open++;
        ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
            if (ch.isOpen()) {
                LOG.debug("[node {}] HTTP connection from {} sent no whole request within {} ms; closed", nodeId,
                        ch.remoteAddress(), readTimeoutMs);
                ch.close();
            }
        }, readTimeoutMs, TimeUnit.MILLISECONDS);
        Handler handler = new Handler(deadline);
        ch.closeFuture().addListener(f -> {
            if (!handler.streaming) {
                open--;
            }
            deadline.cancel(false);
        });
        ch.pipeline().addLast(new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, 8192),
                new HttpObjectAggregator(0), handler);
    }

    /** Answers the one request of a connection, then closes it. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ScheduledFuture<?> deadline;
        /** The connection became an event stream: it no longer counts against http.max.connections. */
        boolean streaming;

        Handler(ScheduledFuture<?> deadline) {
            this.deadline = deadline;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            deadline.cancel(false);
            boolean head = request.method().equals(HttpMethod.HEAD);
            if (request.decoderResult().isFailure()) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request: "
                        + request.decoderResult().cause().getMessage() + "\n", false, null);
                return;
            }
            if (!request.method().equals(HttpMethod.GET) && !head) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, request.method() + " is not supported\n",
                        false, "GET, HEAD");
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            try {
                switch (path) {
                    case "/health" -> {
                        NodeStatus.Health health = status.health();
                        respond(ctx, health.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                                "application/json", health.json() + "\n", head, null);
                    }
                    case "/metrics" -> respond(ctx, HttpResponseStatus.OK, PROMETHEUS_CONTENT_TYPE, status.metrics(),
                            head, null);
                    default -> {
                        WebView.Routed routed = web == null ? WebView.Routed.NOT_MINE : web.route(ctx, path, head);
                        if (routed == WebView.Routed.STREAMING) {
                            streaming = true;
                            open--;
                        } else if (routed == WebView.Routed.NOT_MINE) {
                            respond(ctx, HttpResponseStatus.NOT_FOUND, TEXT, "no such path " + path
                                    + "; try /health, /metrics" + (web == null ? "" : " or /") + "\n", head, null);
                        }
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("[node {}] HTTP {} failed: {}", nodeId, request.uri(), e.toString());
                respond(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT, e + "\n", head, null);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("[node {}] HTTP connection from {} failed: {}", nodeId, ctx.channel().remoteAddress(),
                    cause.toString());
            ctx.close();
        }
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus code, String contentType, String body,
            boolean head, String allow) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, code,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (allow != null) {
            response.headers().set(HttpHeaderNames.ALLOW, allow);
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void close() {
        if (group != null) {
            if (server != null) {
                server.close().syncUninterruptibly();
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
