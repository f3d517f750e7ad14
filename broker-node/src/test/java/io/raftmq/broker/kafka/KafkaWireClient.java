package io.raftmq.broker.kafka;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * A Kafka client at the wire level, over a plain blocking socket, for tests of the Kafka listener
 * and of the broker's Kafka APIs: writes requests with Kafka's own message classes and parses
 * answers with them, and writes raw bytes for bad input. Correlation ids count up from 1.
 *
 * <p>Not thread-safe: one test thread per client. A read waits at most the timeout given to
 * {@link #connect} ({@link #DEFAULT_TIMEOUT} by default), then throws {@link
 * SocketTimeoutException}.
 */
final class KafkaWireClient implements AutoCloseable {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    static final String CLIENT_ID = "wire-test";

    /** An answer as read: its correlation id and body. */
    record Response(int correlationId, ApiMessage body) {}

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Duration timeout;
    private int nextCorrelationId = 1;

    private KafkaWireClient(Socket socket, Duration timeout) throws IOException {
        this.socket = socket;
        this.timeout = timeout;
        socket.setSoTimeout((int) timeout.toMillis());
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static KafkaWireClient connect(InetSocketAddress address) throws IOException {
        return connect(address, DEFAULT_TIMEOUT, 0);
    }

    /**
     * @param receiveBufferBytes the socket's receive buffer (SO_RCVBUF), 0 for the default: a
     *     small one lets a test make the listener's answers back up
     */
    static KafkaWireClient connect(InetSocketAddress address, Duration timeout, int receiveBufferBytes)
            throws IOException {
        Socket socket = new Socket();
        try {
            if (receiveBufferBytes > 0) {
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            socket.connect(address, (int) timeout.toMillis());
            return new KafkaWireClient(socket, timeout);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends {@code request} at {@code version} and returns its answer, parsed at {@code version}. */
    @SuppressWarnings("unchecked")
    <T extends ApiMessage> T send(ApiMessage request, short version) throws IOException {
        int correlationId = write(request, version);
        Response response = receive(ApiKeys.forId(request.apiKey()), version);
        if (response.correlationId() != correlationId) {
            throw new IOException("expected the answer to correlation id " + correlationId + ", got "
                    + response.correlationId());
        }
        return (T) response.body();
    }

    /** Sends {@code request} at {@code version} without waiting; returns its correlation id. */
    int write(ApiMessage request, short version) throws IOException {
        int correlationId = nextCorrelationId++;
        sendRaw(frame(request, version, correlationId));
        return correlationId;
    }

    /** The frame (size field included) of {@code request} at {@code version}. */
    static byte[] frame(ApiMessage request, short version, int correlationId) {
        ApiKeys key = ApiKeys.forId(request.apiKey());
        RequestHeader header = new RequestHeader(key, version, CLIENT_ID, correlationId);
        ByteBuffer payload = RequestUtils.serialize(header.data(), header.headerVersion(), request, version);
        return sized(payload);
    }

    /**
     * The frame of {@code key}'s request header (at the header version Kafka derives from the key
     * and version) followed by {@code body} as given: for bodies the message classes would not
     * write (versions they do not know, bad bytes).
     */
    static byte[] frame(ApiKeys key, short version, int correlationId, byte[] body) {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setCorrelationId(correlationId).setClientId(CLIENT_ID);
        return frame(header, key.requestHeaderVersion(version), body);
    }

    /** The frame of {@code header} at {@code headerVersion} then {@code body}: any key, any version. */
    static byte[] frame(RequestHeaderData header, short headerVersion, byte[] body) {
        ByteBuffer headerBytes = MessageUtil.toByteBufferAccessor(header, headerVersion).buffer();
        ByteBuffer payload = ByteBuffer.allocate(headerBytes.remaining() + body.length);
        payload.put(headerBytes).put(body).flip();
        return sized(payload);
    }

    private static byte[] sized(ByteBuffer payload) {
        byte[] bytes = new byte[4 + payload.remaining()];
        ByteBuffer.wrap(bytes).putInt(payload.remaining()).put(payload);
        return bytes;
    }

    /** Takes the next correlation id, for a frame a test builds itself ({@link #frame}). */
    int nextCorrelationId() {
        return nextCorrelationId++;
    }

    /** Writes {@code bytes} as they are: frames built by a test, bad sizes, garbage. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one answer of {@code key} and parses it at {@code version}. */
    Response receive(ApiKeys key, short version) throws IOException {
        ByteBuffer frame = readFrame();
        ResponseHeader header = ResponseHeader.parse(frame, key.responseHeaderVersion(version));
        ApiMessage body = key.messageType.newResponse();
        body.read(new ByteBufferAccessor(frame), version);
        if (frame.hasRemaining()) {
            throw new IOException(key + " v" + version + " answer has " + frame.remaining() + " bytes past its end");
        }
        return new Response(header.correlationId(), body);
    }

    /** Reads one frame (without its size field). */
    ByteBuffer readFrame() throws IOException {
        int size = in.readInt();
        if (size < 0) {
            throw new IOException("answer size " + size + " is negative");
        }
        byte[] bytes = new byte[size];
        in.readFully(bytes);
        return ByteBuffer.wrap(bytes);
    }

    /**
     * Whether the listener closes the connection within {@code bound}, discarding whatever it
     * sends before: true at end of stream or a reset, false if still open after {@code bound}.
     */
    boolean isClosedWithin(Duration bound) throws IOException {
        long deadlineNs = System.nanoTime() + bound.toNanos();
        byte[] discard = new byte[8192];
        InputStream raw = socket.getInputStream();
        try {
            while (true) {
                long leftMs = (deadlineNs - System.nanoTime()) / 1_000_000;
                if (leftMs <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) leftMs);
                try {
                    if (raw.read(discard) < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                } catch (SocketException e) {
                    return true; // reset by the peer
                }
            }
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout((int) timeout.toMillis());
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
