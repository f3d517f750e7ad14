package io.raftmq.broker.kafka;

import io.raftmq.broker.sasl.ScramCredentials;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.raftmq.broker.BrokerApi;
import io.raftmq.common.Time;
import io.raftmq.protocol.Failures;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka client connection: cuts the bytes read into frames, parses each request, answers
 * ApiVersions, hands every other request to the {@link KafkaRequestHandler} in arrival order, and
 * writes the answers in that same order.
 *
 * <p>Threads: one instance per channel; every field is owned by the channel's event loop, which
 * runs every method here. The handler's futures complete on any thread; their completion only
 * schedules {@link #process} on the event loop.
 *
 * <pre>
 *   OPEN -(bad input)-> REFUSED -(every earlier answer written)-> CLOSING
 *   OPEN -(a Close answer or a failed request reaches the head)-> CLOSING
 *   CLOSING -(the answers written are flushed)-> closed
 *   any -(idle with nothing in flight, I/O error, listener closed)-> closed at once
 * </pre>
 *
 * <p>Authentication ({@link ListenerSecurity}): on a TLS listener the {@link SslHandler} before
 * this handler completes the handshake first (a client that fails it, plaintext or with a
 * certificate the truststore does not accept, is closed with one INFO line); the client
 * certificate, if any, names the principal. On a SASL listener every frame goes to the {@link
 * SaslAuthenticator} until the exchange completes; its principal then stamps every request. A
 * failed authentication is counted ({@link KafkaListenerStats#authenticationsFailed()}).
 *
 * <p>Bad input (a size out of bounds, a header or body that does not parse, an API or version not
 * served) is refused as Kafka does, with one WARN line and the connection closed; nothing more is
 * read or handed to the handler. Requests accepted before it are still answered first: Kafka's
 * broker reads a connection's next request only once the previous one is answered, so its clients
 * get those answers too.
 *
 * <p>Flow: a frame is read into a heap array of its own (the size is checked before anything is
 * allocated), parsed, and queued as in flight. While {@code maxInflight} requests are in flight or
 * the channel is not writable (its outbound buffer is above the high water mark: a slow reader),
 * no further frame is taken from the bytes already read and the socket is not read
 * ({@code autoRead} off); both resume once the condition clears. Answers leave the head of the
 * queue as soon as they are done; the ones done together are flushed together.
 */
final class KafkaConnection extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);
    private static final int SIZE_FIELD_BYTES = 4;

    /** A request whose answer is not written yet. */
    private record InFlight(int correlationId, ApiKeys apiKey, short answerVersion,
            CompletableFuture<KafkaResponse> answer) {}

    /** Queued after the last request accepted before bad input: reaching it closes, silently. */
    private static final InFlight REFUSAL = new InFlight(-1, ApiKeys.API_VERSIONS, (short) 0,
            CompletableFuture.completedFuture(new KafkaResponse.Close("refused")));

    private final String logPrefix;
    private final String connectionId;
    private final ListenerApis apis;
    private final KafkaRequestHandler handler;
    private final int maxRequestBytes;
    private final int maxInflight;
    private final long idleMs;
    private final KafkaListenerStats stats;
    private final Time time;
    private final ListenerSecurity security;
    private final ScramCredentials credentials;

    private ChannelHandlerContext ctx;
    /** Who the connection is: ANONYMOUS without TLS or SASL; null until the TLS handshake or SASL sets it. */
    private KafkaPrincipal principal;
    /** The SASL exchange on a SASL listener; null elsewhere. */
    private SaslAuthenticator authenticator;
    /** The TLS handshake failed and was logged: the exception that follows is not logged again. */
    private boolean tlsFailed;
    private InetSocketAddress clientAddress;
    private boolean copySlices;
    /** Bytes read but not cut into frames yet (requests waiting for room); null when none. */
    private ByteBuf held;
    /** The frame being read: null while its size field is (sizeBytesRead bytes of it so far). */
    private byte[] frame;
    private int frameFilled;
    private int sizeBytesRead;
    private int size;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private boolean needsFlush;
    private boolean processing;
    private boolean processAgain;
    /** REFUSED: nothing more is read or dispatched; the answers queued before go out. */
    private boolean refused;
    /** CLOSING or closed: nothing more is read, dispatched or answered. */
    private boolean closing;

    KafkaConnection(int brokerId, String connectionId, ListenerApis apis, KafkaRequestHandler handler,
            KafkaListener.Options options, KafkaListenerStats stats, Time time, ListenerSecurity security,
            ScramCredentials credentials) {
        this.logPrefix = "[broker " + brokerId + "]";
        this.connectionId = connectionId;
        this.apis = apis;
        this.handler = handler;
        this.maxRequestBytes = options.maxRequestBytes();
        this.maxInflight = options.maxInflightRequestsPerConnection();
        this.idleMs = options.connectionsMaxIdleMs();
        this.stats = stats;
        this.time = time;
        this.security = security;
        this.credentials = credentials;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        clientAddress = (InetSocketAddress) ctx.channel().remoteAddress();
        copySlices = ctx.pipeline().get(SslHandler.class) != null;
        if (security.usesSasl()) {
            authenticator = new SaslAuthenticator(security, credentials, clientAddress.getAddress(), this::tlsSession);
        } else if (security.sslContext() == null) {
            principal = KafkaPrincipal.ANONYMOUS;
        }
        stats.connectionOpened();
        LOG.debug("{} connection {} from {} opened", logPrefix, connectionId, clientAddress);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stats.connectionClosed();
        LOG.debug("{} connection {} closed", logPrefix, connectionId);
        stopProcessing();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopProcessing();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        stats.bytesIn(in.readableBytes());
        if (closing || refused) {
            in.release();
            return;
        }
        held = held == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), held, in);
        process();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        process();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent handshake) {
            if (handshake.isSuccess()) {
                if (authenticator == null) {
                    principal = security.tlsPrincipal(tlsSession().orElseThrow(), clientAddress.getAddress());
                    LOG.debug("{} connection {} from {} is {}", logPrefix, connectionId, clientAddress, principal);
                }
            } else {
                tlsFailed = true;
                stats.authenticationFailed();
                LOG.info("{} TLS handshake with {} (connection {}) failed: {}; closing it", logPrefix, clientAddress,
                        connectionId, ListenerSecurity.tlsFailure(handshake.cause()));
                closeNow();
            }
            return;
        }
        if (event instanceof IdleStateEvent) {
            // A request in flight (a long poll, an acks=all produce) is not idleness. A connection
            // already closing (its last answers not taken by the client) has nothing in flight.
            if (inFlight.isEmpty()) {
                LOG.debug("{} connection {} idle for {} ms; closing it", logPrefix, connectionId, idleMs);
                closeNow();
            }
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (tlsFailed || cause instanceof SSLException || cause.getCause() instanceof SSLException) {
            // A TLS failure: the handshake event logged it, or the client broke the session.
            LOG.debug("{} connection {}: TLS: {}; closing it", logPrefix, connectionId,
                    ListenerSecurity.tlsFailure(cause));
        } else if (cause instanceof IOException) {
            LOG.debug("{} connection {}: {}; closing it", logPrefix, connectionId, cause.toString());
        } else {
            // Not the client's doing: a fault here or in Netty, worth its stack trace.
            LOG.warn("{} unexpected error on connection {}; closing it", logPrefix, connectionId, cause);
        }
        closeNow();
    }

    /**
     * Writes the answers that are ready, cuts and dispatches frames while there is room, flushes
     * what was written, and sets whether to read the socket.
     *
     * <p>Not reentrant: Netty reports a writability change from inside a write or flush (the
     * outbound buffer crossing a water mark), which calls here again; that call only asks for
     * another round, so that the pieces of one answer are never split by another answer.
     */
    private void process() {
        if (processing) {
            processAgain = true;
            return;
        }
        processing = true;
        try {
            do {
                processAgain = false;
                processOnce();
            } while (processAgain && !closing);
        } finally {
            processing = false;
        }
    }

    private void processOnce() {
        if (closing) {
            return;
        }
        writeReadyAnswers();
        while (!closing && !refused && held != null && held.isReadable() && hasRoom()) {
            readFrom(held);
            writeReadyAnswers();
        }
        if (held != null && !held.isReadable()) {
            held.release();
            held = null;
        }
        if (needsFlush) {
            needsFlush = false;
            ctx.flush();
        }
        if (closing || refused) {
            return;
        }
        boolean read = hasRoom();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    private boolean hasRoom() {
        return inFlight.size() < maxInflight && ctx.channel().isWritable();
    }

    /** Reads from {@code in} the size field or the rest of the current frame; handles a full one. */
    private void readFrom(ByteBuf in) {
        if (frame == null) {
            while (sizeBytesRead < SIZE_FIELD_BYTES && in.isReadable()) {
                size = (size << 8) | in.readUnsignedByte();
                sizeBytesRead++;
            }
            if (sizeBytesRead < SIZE_FIELD_BYTES) {
                return;
            }
            if (size < 0 || size > maxRequestBytes) {
                refuse(size < 0 ? "request size " + size + " is negative"
                        : "request size " + size + " is above socket.request.max.bytes " + maxRequestBytes);
                return;
            }
            if (authenticating() && size > SaslAuthenticator.MAX_RECEIVE_BYTES) {
                failAuthentication("a frame of " + size + " bytes before authentication (at most "
                        + SaslAuthenticator.MAX_RECEIVE_BYTES + ")");
                return;
            }
            frame = new byte[size];
            frameFilled = 0;
        }
        int n = Math.min(in.readableBytes(), frame.length - frameFilled);
        in.readBytes(frame, frameFilled, n);
        frameFilled += n;
        if (frameFilled == frame.length) {
            byte[] complete = frame;
            frame = null;
            sizeBytesRead = 0;
            size = 0;
            onFrame(complete);
        }
    }

    private void onFrame(byte[] bytes) {
        long receivedNs = time.nanoseconds();
        if (authenticating()) {
            onAuthenticationFrame(bytes);
            return;
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        RequestHeader header;
        try {
            header = RequestHeader.parse(buffer);
        } catch (RuntimeException e) {
            refuse("cannot parse a request header (" + bytes.length + " bytes): " + e.getMessage());
            return;
        }
        ApiKeys key = header.apiKey();
        short version = header.apiVersion();
        if (key == ApiKeys.API_VERSIONS) {
            answerApiVersions(header, buffer);
            return;
        }
        if ((key == ApiKeys.SASL_HANDSHAKE || key == ApiKeys.SASL_AUTHENTICATE) && key.isVersionSupported(version)) {
            answerSaslOutOfTurn(header);
            return;
        }
        if (!apis.isHandled(key, version)) {
            refuse("received request api key " + key.id + " (" + key.name + ") with version " + version
                    + " which is not enabled");
            return;
        }
        ApiMessage body;
        try {
            body = key.messageType.newRequest();
            body.read(new ByteBufferAccessor(buffer), version);
        } catch (RuntimeException e) {
            refuse("cannot parse a " + key.name + " v" + version + " request (correlation id "
                    + header.correlationId() + ", " + bytes.length + " bytes): " + e);
            return;
        }
        stats.requestHandled(key);
        CompletableFuture<KafkaResponse> answer;
        try {
            answer = handler.handle(new KafkaRequest(header, body, connectionId, clientAddress, receivedNs,
                    ctx.channel().eventLoop(), principal()));
            if (answer == null) {
                answer = CompletableFuture.failedFuture(new NullPointerException("the handler returned no future"));
            }
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        inFlight.add(new InFlight(header.correlationId(), key, version, answer));
        if (!answer.isDone()) {
            answer.whenComplete((response, error) -> answerReady());
        }
    }

    /**
     * SaslHandshake or SaslAuthenticate on a listener without SASL or after authentication:
     * ILLEGAL_SASL_STATE, as Kafka's KafkaApis answers (the body is not needed for that).
     */
    private void answerSaslOutOfTurn(RequestHeader header) {
        ApiMessage answer = SaslAuthenticator.outOfTurnAnswer(header.apiKey());
        stats.requestHandled(header.apiKey());
        inFlight.add(new InFlight(header.correlationId(), header.apiKey(), header.apiVersion(),
                CompletableFuture.completedFuture(KafkaResponse.send(answer))));
    }

    private boolean authenticating() {
        return authenticator != null && !authenticator.isComplete();
    }

    /** A frame before the SASL exchange completed: the authenticator decides. */
    private void onAuthenticationFrame(byte[] bytes) {
        SaslAuthenticator.Outcome outcome = authenticator.onFrame(bytes);
        if (outcome.apiVersions()) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            answerApiVersions(RequestHeader.parse(buffer), buffer);
            return;
        }
        if (outcome.answer() != null) {
            stats.requestHandled(outcome.key());
            inFlight.add(new InFlight(outcome.correlationId(), outcome.key(), outcome.version(),
                    CompletableFuture.completedFuture(outcome.answer())));
        }
        if (outcome.failure() != null) {
            failAuthentication(outcome.failure());
        } else if (authenticator.isComplete()) {
            principal = authenticator.principal();
            LOG.debug("{} connection {} from {} authenticated with {} as {}", logPrefix, connectionId, clientAddress,
                    authenticator.mechanism(), principal);
        }
    }

    /**
     * Kafka's end of a failed authentication: one INFO line, the answers queued so far (the
     * error answer) written, then the connection closed; nothing more is read.
     */
    private void failAuthentication(String why) {
        stats.authenticationFailed();
        LOG.info("{} failed authentication of {} (connection {}{}): {}; closing it", logPrefix, clientAddress,
                connectionId, authenticator == null || authenticator.mechanism() == null ? ""
                        : ", " + authenticator.mechanism(), why);
        refused = true;
        frame = null;
        releaseHeld();
        if (ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
        }
        inFlight.add(REFUSAL);
    }

    /** The principal requests carry: set by TLS or SASL once the connection is authenticated. */
    private KafkaPrincipal principal() {
        if (principal == null) {
            // A TLS listener's handshake event comes before any decrypted byte; never null then.
            throw new IllegalStateException("connection " + connectionId + " has no principal yet");
        }
        return principal;
    }

    private Optional<SSLSession> tlsSession() {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        return tls == null ? Optional.empty() : Optional.of(tls.engine().getSession());
    }

    /**
     * ApiVersions, answered here as Kafka's broker does: a version this release does not know gets
     * the v0 answer UNSUPPORTED_VERSION without its body being parsed; a known one is parsed (and
     * refused like any request if it does not parse) and answered from the listener's APIs.
     */
    private void answerApiVersions(RequestHeader header, ByteBuffer buffer) {
        short version = header.apiVersion();
        ApiVersionsResponseData answer;
        short answerVersion;
        if (!ApiKeys.API_VERSIONS.isVersionSupported(version)) {
            answer = ListenerApis.unsupportedVersionAnswer();
            answerVersion = 0;
        } else {
            ApiVersionsRequestData request;
            try {
                request = new ApiVersionsRequestData(new ByteBufferAccessor(buffer), version);
            } catch (RuntimeException e) {
                refuse("cannot parse an ApiVersions v" + version + " request (correlation id "
                        + header.correlationId() + "): " + e);
                return;
            }
            answer = apis.answer(request, version);
            answerVersion = version;
        }
        stats.requestHandled(ApiKeys.API_VERSIONS);
        inFlight.add(new InFlight(header.correlationId(), ApiKeys.API_VERSIONS, answerVersion,
                CompletableFuture.completedFuture(KafkaResponse.send(answer))));
    }

    /** From any thread: an answer is done; the event loop writes what is ready. */
    private void answerReady() {
        try {
            ctx.executor().execute(this::process);
        } catch (RejectedExecutionException e) {
            // The listener is shutting down; its connections are being closed.
        }
    }

    /** Writes, in order, the answers at the head of the queue that are done (no flush). */
    private void writeReadyAnswers() {
        while (!closing && !inFlight.isEmpty() && inFlight.peek().answer().isDone()) {
            InFlight head = inFlight.poll();
            if (head == REFUSAL) {
                closeAfterWrites();
                return;
            }
            KafkaResponse response;
            try {
                response = head.answer().join();
            } catch (CompletionException | CancellationException e) {
                fail(head, "failed: " + Failures.unwrap(e));
                return;
            }
            if (response instanceof KafkaResponse.Send send) {
                write(head, send);
            } else if (response instanceof KafkaResponse.SaslToken token) {
                ByteBuf out = ctx.alloc().ioBuffer(SIZE_FIELD_BYTES + token.token().length);
                out.writeInt(token.token().length).writeBytes(token.token());
                stats.bytesOut(out.readableBytes());
                ctx.write(out, ctx.voidPromise());
                needsFlush = true;
            } else if (response instanceof KafkaResponse.Close close) {
                LOG.info("{} closing connection {} after {} (correlation id {}): {}", logPrefix, connectionId,
                        head.apiKey().name, head.correlationId(), close.reason());
                closeAfterWrites();
            } else if (response == null) {
                fail(head, "was answered with null");
            }
            // NoResponse: nothing to write; the next answer follows.
        }
    }

    private void write(InFlight head, KafkaResponse.Send send) {
        ResponseFrameWriter.Frame frame;
        try {
            frame = ResponseFrameWriter.encode(ctx.alloc(), copySlices, head.correlationId(), head.apiKey(),
                    head.answerVersion(), send.body());
        } catch (RuntimeException e) {
            fail(head, "could not be encoded: " + e);
            return;
        }
        for (Object piece : frame.pieces()) {
            ctx.write(piece, ctx.voidPromise());
        }
        stats.bytesOut(frame.sizeInBytes());
        needsFlush = true;
    }

    /** The broker's side failed a request: the earlier answers go out, then the connection closes. */
    private void fail(InFlight head, String what) {
        stats.requestFailed();
        LOG.warn("{} {} v{} request (correlation id {}) on connection {} {}; closing the connection", logPrefix,
                head.apiKey().name, head.answerVersion(), head.correlationId(), connectionId, what);
        closeAfterWrites();
    }

    /**
     * Refuses bad input as Kafka does: one line naming the client; nothing more is read or
     * handled, and the connection closes once the requests accepted before are answered.
     */
    private void refuse(String why) {
        stats.closedForBadInput();
        LOG.warn("{} closing connection {} from {}: {}", logPrefix, connectionId, clientAddress, why);
        refused = true;
        frame = null;
        releaseHeld();
        if (ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
        }
        inFlight.add(REFUSAL);
    }

    /** Closes once the answers already written have gone out. */
    private void closeAfterWrites() {
        stopProcessing();
        needsFlush = false;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void closeNow() {
        stopProcessing();
        needsFlush = false;
        ctx.close();
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    private void stopProcessing() {
        closing = true;
        inFlight.clear();
        frame = null;
        releaseHeld();
        // Only while registered: NIO asserts on a channel already taken off its loop.
        if (ctx != null && ctx.channel().isActive() && ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
        }
    }
}
