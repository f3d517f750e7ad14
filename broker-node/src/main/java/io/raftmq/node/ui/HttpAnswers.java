package io.raftmq.node.ui;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Whole answers of the web view's routes; each closes its connection, as every answer of the node's HTTP server. */
final class HttpAnswers {
    static final String JSON = "application/json; charset=utf-8";
    static final String TEXT = "text/plain; charset=utf-8";

    private HttpAnswers() {}

    static void send(ChannelHandlerContext ctx, HttpResponseStatus code, String contentType, String cacheControl,
            byte[] body, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, code,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set(HttpHeaderNames.CACHE_CONTROL, cacheControl)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set("X-Content-Type-Options", "nosniff")
                // Read-only data a client could ask any node for; pages served by another node of
                // the cluster read it when their own node is gone.
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    static void json(ChannelHandlerContext ctx, String json, boolean head) {
        send(ctx, HttpResponseStatus.OK, JSON, "no-store", (json + "\n").getBytes(StandardCharsets.UTF_8), head);
    }

    static void text(ChannelHandlerContext ctx, HttpResponseStatus code, String text, boolean head) {
        send(ctx, code, TEXT, "no-store", text.getBytes(StandardCharsets.UTF_8), head);
    }
}
