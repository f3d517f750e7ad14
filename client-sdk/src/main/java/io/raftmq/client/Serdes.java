package io.raftmq.client;

import io.raftmq.client.errors.RaftmqException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The provided serializers and deserializers: UTF-8 strings, byte arrays, and big-endian longs and
 * integers (8 and 4 bytes, as Kafka's LongSerializer and IntegerSerializer write them). The
 * deserializers hold no state ({@link StatelessDeserializer}).
 */
public final class Serdes {
    private Serdes() {
    }

    public static Serializer<String> stringSerializer() {
        return (topic, s) -> s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    public static Deserializer<String> stringDeserializer() {
        return stateless((topic, b) -> b == null ? null : new String(b, StandardCharsets.UTF_8));
    }

    public static Serializer<byte[]> byteArraySerializer() {
        return (topic, b) -> b;
    }

    public static Deserializer<byte[]> byteArrayDeserializer() {
        return stateless((topic, b) -> b);
    }

    public static Serializer<Long> longSerializer() {
        return (topic, v) -> v == null ? null : ByteBuffer.allocate(8).putLong(v).array();
    }

    public static Deserializer<Long> longDeserializer() {
        return stateless((topic, b) -> {
            if (b == null) {
                return null;
            }
            if (b.length != 8) {
                throw new RaftmqException(io.raftmq.protocol.common.ErrorCode.INVALID_RECORD,
                        "a long needs 8 bytes; the record of topic '" + topic + "' has " + b.length);
            }
            return ByteBuffer.wrap(b).getLong();
        });
    }

    public static Serializer<Integer> integerSerializer() {
        return (topic, v) -> v == null ? null : ByteBuffer.allocate(4).putInt(v).array();
    }

    public static Deserializer<Integer> integerDeserializer() {
        return stateless((topic, b) -> {
            if (b == null) {
                return null;
            }
            if (b.length != 4) {
                throw new RaftmqException(io.raftmq.protocol.common.ErrorCode.INVALID_RECORD,
                        "an int needs 4 bytes; the record of topic '" + topic + "' has " + b.length);
            }
            return ByteBuffer.wrap(b).getInt();
        });
    }

    private static <T> Deserializer<T> stateless(StatelessDeserializer<T> deserializer) {
        return deserializer;
    }
}
