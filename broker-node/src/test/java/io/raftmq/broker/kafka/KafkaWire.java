package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.raftmq.broker.BrokerApi;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * Calls the Kafka APIs in process as a client on the wire would: the request is written at its
 * version and read back (so a test cannot send what the version cannot carry), handled, and the
 * answer is written at the same version and read back (so every answer is checked to be valid on
 * the wire at that version: a generated {@code write} refuses a non-default value in a field the
 * version lacks, a null in a field not nullable there). Used from the test thread.
 */
final class KafkaWire {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 50_000);

    private final KafkaApis apis;
    private int correlationId;

    KafkaWire(BrokerApi api) {
        this.apis = new KafkaApis(api);
    }

    /** The answer to {@code body} sent at {@code version}, as the client parses it. */
    @SuppressWarnings("unchecked")
    <R extends ApiMessage> R call(short version, ApiMessage body) throws Exception {
        ApiKeys key = ApiKeys.forId(body.apiKey());
        ApiMessage request = readBack(body, version, ApiMessageType.fromApiKey(body.apiKey()).newRequest());
        KafkaResponse response = apis.handle(new KafkaRequest(new RequestHeader(key, version, "test", ++correlationId),
                request, "test-conn", CLIENT, System.nanoTime())).get(30, TimeUnit.SECONDS);
        KafkaResponse.Send send = assertInstanceOf(KafkaResponse.Send.class, response);
        return (R) onTheWire(send.body(), version);
    }

    /** {@code message} (a response) written at {@code version} and read back. */
    static ApiMessage onTheWire(ApiMessage message, short version) {
        return readBack(message, version, ApiMessageType.fromApiKey(message.apiKey()).newResponse());
    }

    private static ApiMessage readBack(ApiMessage message, short version, ApiMessage into) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = message.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(size);
        message.write(new ByteBufferAccessor(buffer), cache, version);
        assertEquals(size, buffer.position(), "bytes written at v" + version + " of " + message.getClass());
        buffer.flip();
        into.read(new ByteBufferAccessor(buffer), version);
        assertEquals(0, buffer.remaining(), "bytes left after reading v" + version + " of " + into.getClass());
        return into;
    }
}
