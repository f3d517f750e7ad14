package io.raftmq.node.ui;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open Server-Sent Events streams ({@code GET /api/events}) of the node's HTTP server. Bounded
 * apart from the request connections ({@code http.max.event.streams}): one more is answered 503.
 *
 * <p>A stream never buffers without bound: an event is written only while the connection is
 * writable (Netty's write buffer water marks); a stream that is not is marked stale and skips
 * events; when it drains it gets the whole state again (a resync), so the page is whole
 * after the gap. A stream stale for longer than {@link #STALE_LIMIT_MS} is closed. A comment line
 * every {@link #HEARTBEAT_MS} keeps proxies from closing an idle stream and finds dead peers.
 *
 * <p>Per stream: PENDING (opened, its first resync not written yet; events skipped: the resync
 * holds them) -> LIVE -(not writable)-> STALE -(writable again)-> PENDING; closed from any state.
 *
 * <p>Threads: every method runs on the HTTP server's event loop thread, which owns the streams;
 * other threads hand events over with {@link #broadcast} through {@code execute}.
 */
final class EventStreams {
    private static final Logger LOG = LoggerFactory.getLogger(EventStreams.class);
    static final long HEARTBEAT_MS = 15_000;
    static final long STALE_LIMIT_MS = 60_000;

    private enum State { PENDING, LIVE, STALE }

    private static final class Stream {
        State state = State.PENDING;
        long staleSinceNs;
    }

    private final int nodeId;
    private final int maxStreams;
    /** Asked for a stream's resync (the whole state, as events); calls back on the stream's event loop. */
    private final Consumer<Channel> resyncRequests;
    // Owned by the HTTP event loop thread.
    private final Map<Channel, Stream> streams = new HashMap<>();
    private ScheduledFuture<?> heartbeat;

    EventStreams(int nodeId, int maxStreams, Consumer<Channel> resyncRequests) {
        this.nodeId = nodeId;
        this.maxStreams = maxStreams;
        this.resyncRequests = resyncRequests;
    }

    /** Opens the stream of the connection's request, or answers 503 at the bound. */
    void open(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (streams.size() >= maxStreams) {
            HttpAnswers.text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, maxStreams + " event streams are open"
                    + " (http.max.event.streams); try another node or later\n", false);
            return;
        }
        if (heartbeat == null) {
            heartbeat = ch.eventLoop().scheduleAtFixedRate(this::heartbeat, HEARTBEAT_MS, HEARTBEAT_MS,
                    TimeUnit.MILLISECONDS);
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .set("X-Accel-Buffering", "no");
        HttpUtil.setTransferEncodingChunked(response, true);
        ch.writeAndFlush(response);
        streams.put(ch, new Stream());
        ch.closeFuture().addListener(f -> streams.remove(ch));
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext c) {
                Stream s = streams.get(c.channel());
                if (s != null && s.state == State.STALE && c.channel().isWritable()) {
                    s.state = State.PENDING;
                    resyncRequests.accept(c.channel());
                }
                c.fireChannelWritabilityChanged();
            }
        });
        LOG.debug("[node {}] event stream opened for {} ({} open)", nodeId, ch.remoteAddress(), streams.size());
        resyncRequests.accept(ch);
    }

    /** Writes a stream's resync (on its event loop); it is live from now on. */
    void resync(Channel ch, List<String> events) {
        Stream s = streams.get(ch);
        if (s == null || s.state != State.PENDING) {
            return;
        }
        s.state = State.LIVE;
        events.forEach(e -> write(ch, s, e));
        ch.flush();
    }

    /** Writes {@code event} to every live stream that can take it. */
    void broadcast(String event) {
        if (streams.isEmpty()) {
            return;
        }
        ByteBuf bytes = Unpooled.copiedBuffer(event, StandardCharsets.UTF_8);
        try {
            streams.forEach((ch, s) -> {
                if (s.state == State.LIVE) {
                    writeBytes(ch, s, bytes.retainedDuplicate());
                    ch.flush();
                }
            });
        } finally {
            bytes.release();
        }
    }

    int size() {
        return streams.size();
    }

    private void write(Channel ch, Stream s, String event) {
        writeBytes(ch, s, Unpooled.copiedBuffer(event, StandardCharsets.UTF_8));
    }

    private void writeBytes(Channel ch, Stream s, ByteBuf bytes) {
        if (!ch.isWritable()) {
            bytes.release();
            if (s.state != State.STALE) {
                s.state = State.STALE;
                s.staleSinceNs = System.nanoTime();
                LOG.debug("[node {}] event stream to {} is not draining; skipping events until it does", nodeId,
                        ch.remoteAddress());
            }
            return;
        }
        ch.write(new DefaultHttpContent(bytes));
    }

    private void heartbeat() {
        long now = System.nanoTime();
        for (Map.Entry<Channel, Stream> e : Map.copyOf(streams).entrySet()) {
            Channel ch = e.getKey();
            Stream s = e.getValue();
            if (s.state == State.STALE && now - s.staleSinceNs > TimeUnit.MILLISECONDS.toNanos(STALE_LIMIT_MS)) {
                LOG.info("[node {}] event stream to {} closed: it took nothing for {} ms", nodeId,
                        ch.remoteAddress(), STALE_LIMIT_MS);
                ch.close();
            } else if (s.state == State.LIVE) {
                write(ch, s, ": keep-alive\n\n");
                ch.flush();
            }
        }
    }

    /** Formats one event of the stream: its name and its one-line JSON. */
    static String event(String name, String json) {
        return "event: " + name + "\ndata: " + json + "\n\n";
    }
}
