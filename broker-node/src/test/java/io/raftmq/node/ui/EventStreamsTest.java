package io.raftmq.node.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The event streams' bounds, on Netty's embedded channel: the whole state first, events only while
 * a stream is writable, a stalled stream skipping events and getting the whole state again once it
 * drains, and one stream past http.max.event.streams answered 503.
 */
class EventStreamsTest {
    private final List<Channel> resyncs = new ArrayList<>();
    private final EventStreams streams = new EventStreams(1, 1, resyncs::add);

    @Test
    void aStalledStreamSkipsEventsAndIsResyncedWhenItDrains() {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        streams.open(ch.pipeline().firstContext());
        HttpResponse head = ch.readOutbound();
        assertEquals(HttpResponseStatus.OK, head.status());
        assertEquals("text/event-stream; charset=utf-8", head.headers().get("Content-Type"));
        assertEquals(List.of(ch), resyncs);

        streams.broadcast(EventStreams.event("nodes", "{\"before\":1}"));
        assertEquals(List.of(), written(ch), "nothing before the stream's first whole state");
        streams.resync(ch, List.of(EventStreams.event("hello", "{}"), EventStreams.event("cluster", "{}")));
        assertEquals(List.of("event: hello\ndata: {}\n\n", "event: cluster\ndata: {}\n\n"), written(ch));
        streams.broadcast(EventStreams.event("nodes", "{\"n\":2}"));
        assertEquals(List.of("event: nodes\ndata: {\"n\":2}\n\n"), written(ch));

        // The browser stops reading: the connection is no longer writable.
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        assertFalse(ch.isWritable());
        streams.broadcast(EventStreams.event("nodes", "{\"n\":3}"));
        streams.broadcast(EventStreams.event("timeline", "[]"));
        assertEquals(List.of(), written(ch), "events skipped, not buffered");
        assertEquals(1, resyncs.size());

        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        ch.runPendingTasks();
        assertEquals(2, resyncs.size(), "drained: the whole state again");
        streams.broadcast(EventStreams.event("nodes", "{\"n\":4}"));
        assertEquals(List.of(), written(ch), "nothing before the resync");
        streams.resync(ch, List.of(EventStreams.event("hello", "{\"again\":true}")));
        streams.broadcast(EventStreams.event("nodes", "{\"n\":5}"));
        assertEquals(List.of("event: hello\ndata: {\"again\":true}\n\n", "event: nodes\ndata: {\"n\":5}\n\n"),
                written(ch));
        ch.finishAndReleaseAll();
    }

    @Test
    void oneStreamPastTheBoundIsAnswered503AndClosed() {
        EmbeddedChannel first = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        streams.open(first.pipeline().firstContext());
        EmbeddedChannel second = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        streams.open(second.pipeline().firstContext());
        FullHttpResponse refused = second.readOutbound();
        assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, refused.status());
        assertTrue(refused.content().toString(StandardCharsets.UTF_8).contains("http.max.event.streams"));
        refused.release();
        assertFalse(second.isOpen());
        assertEquals(1, streams.size());

        first.close();
        assertEquals(0, streams.size(), "a closed stream leaves the count");
        EmbeddedChannel third = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        streams.open(third.pipeline().firstContext());
        assertEquals(1, streams.size());
        first.finishAndReleaseAll();
        third.finishAndReleaseAll();
    }

    private static List<String> written(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        for (Object message = ch.readOutbound(); message != null; message = ch.readOutbound()) {
            if (message instanceof HttpContent content) {
                ByteBuf bytes = content.content();
                out.add(bytes.toString(StandardCharsets.UTF_8));
            }
            ReferenceCountUtil.release(message);
        }
        return out;
    }
}
