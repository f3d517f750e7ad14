package io.raftmq.client;

/** Turns a key or value into bytes; null stays null. Implementations must be thread-safe. */
@FunctionalInterface
public interface Serializer<T> {
    byte[] serialize(String topic, T data);
}
