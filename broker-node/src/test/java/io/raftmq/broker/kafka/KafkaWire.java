package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.GroupCoordinator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The Kafka wire, in process: requests are written at their version and parsed back before a
 * handler sees them (as the listener parses them: a Produce's records are a writable slice of the
 * request's own buffer, and a test cannot send what the version cannot carry), and answers are
 * written at the request's version and parsed back, so every test checks that the answer is valid
 * on the wire at that version (a generated {@code write} refuses a non-default value in a field the
 * version lacks, a null in a field not nullable there) and asserts on what a client would read. A
 * Fetch answer's file regions are read into memory first (the listener sends them with sendfile).
 *
 * <p>Test-thread only.
 */
final class KafkaWire {
    private static final AtomicInteger CORRELATION = new AtomicInteger();
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40_000);

    private final KafkaApis apis;

    /** Calls every Kafka API of {@code api}'s broker and its {@code groups}. */
    KafkaWire(BrokerApi api, GroupCoordinator groups) {
        this.apis = new KafkaApis(api, groups);
    }

    /** The answer to {@code body} sent at {@code version}, as the client parses it. */
    <R extends ApiMessage> R call(short version, ApiMessage body) {
        return call(apis, ApiKeys.forId(body.apiKey()), version, body);
    }

    /** The answer to {@code body} sent at {@code version} by a connection authenticated as {@code principal}. */
    @SuppressWarnings("unchecked")
    <R extends ApiMessage> R call(KafkaPrincipal principal, short version, ApiMessage body) {
        ApiKeys key = ApiKeys.forId(body.apiKey());
        return (R) sent(key, version, await(apis.handle(request(key, version, body, principal))));
    }

    /** {@code body} as the listener would hand it over: written at {@code version}, parsed back. */
    static KafkaRequest request(ApiKeys key, short version, ApiMessage body) {
        return request(key, version, body, KafkaPrincipal.ANONYMOUS);
    }

    /** {@code body} as the listener would hand it over from a connection authenticated as {@code principal}. */
    static KafkaRequest request(ApiKeys key, short version, ApiMessage body, KafkaPrincipal principal) {
        ApiMessage parsed = key.messageType.newRequest();
        parsed.read(new ByteBufferAccessor(write(body, version)), version);
        return new KafkaRequest(new RequestHeader(key, version, "test", CORRELATION.incrementAndGet()), parsed,
                "test-conn", CLIENT, System.nanoTime(), Runnable::run, principal);
    }

    /** Handles the request and returns the response as a client parses it (fails on no answer). */
    @SuppressWarnings("unchecked")
    static <T extends ApiMessage> T call(KafkaRequestHandler handler, ApiKeys key, short version, ApiMessage body) {
        return (T) sent(key, version, await(handler.handle(request(key, version, body))));
    }

    /** Waits for a handler's answer (bounded: a test never hangs on a lost future). */
    static KafkaResponse await(CompletableFuture<KafkaResponse> future) {
        try {
            return future.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no answer: " + e, e);
        }
    }

    /** The body of a {@link KafkaResponse.Send}, written at {@code version} and parsed back. */
    static ApiMessage sent(ApiKeys key, short version, KafkaResponse response) {
        KafkaResponse.Send send = assertInstanceOf(KafkaResponse.Send.class, response);
        return roundTrip(key, version, send.body());
    }

    /** {@code message} (a response) written at {@code version} and read back. */
    static ApiMessage onTheWire(ApiMessage message, short version) {
        return roundTrip(ApiKeys.forId(message.apiKey()), version, message);
    }

    /** {@code response} written at {@code version} and parsed back. */
    static ApiMessage roundTrip(ApiKeys key, short version, ApiMessage response) {
        assertEquals(key.id, response.apiKey(), "answer of the request's key");
        if (response instanceof FetchResponseData fetch) {
            readFileRegions(fetch);
        }
        ApiMessage parsed = key.messageType.newResponse();
        ByteBuffer bytes = write(response, version);
        parsed.read(new ByteBufferAccessor(bytes), version);
        assertEquals(0, bytes.remaining(), "bytes left after reading v" + version + " of " + parsed.getClass());
        return parsed;
    }

    private static ByteBuffer write(ApiMessage message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(buffer), cache, version);
        assertEquals(0, buffer.remaining(), "size() and write() agree for v" + version + " of " + message.getClass());
        return buffer.flip();
    }

    /** Replaces each {@link LogSliceRecords} with the bytes of its file region. */
    private static void readFileRegions(FetchResponseData fetch) {
        for (FetchResponseData.FetchableTopicResponse topic : fetch.responses()) {
            for (FetchResponseData.PartitionData p : topic.partitions()) {
                if (p.records() instanceof LogSliceRecords slice) {
                    try {
                        p.setRecords(MemoryRecords.readableRecords(slice.slice().read()));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
    }
}
