package io.raftmq.client;

/** Turns bytes (possibly null) back into a key or value. */
@FunctionalInterface
public interface Deserializer<T> {
    T deserialize(String topic, byte[] data);
}
