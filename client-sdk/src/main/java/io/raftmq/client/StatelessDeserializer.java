package io.raftmq.client;

/**
 * A deserializer of the SDK's own (the ones {@link Serdes} returns): a pure function of its
 * arguments, without state or side effects, that throws the same exception for the same input
 * every time. The consumer may therefore run it on the gRPC thread that receives a fetch answer
 * (see {@link FetchDecoder}); a deserializer of the user's runs only on the thread that calls poll.
 * Package-private so that only the SDK can declare a deserializer stateless.
 */
@FunctionalInterface
interface StatelessDeserializer<T> extends Deserializer<T> {
}
