package io.raftmq.broker.kafka;

import org.apache.kafka.common.protocol.ApiMessage;

/** What a connection does once a request is handled: answer it, answer nothing, or close. */
sealed interface KafkaResponse {

    /** Sends {@code body} (the response message for the request's key and version). */
    record Send(ApiMessage body) implements KafkaResponse {}

    /**
     * Sends nothing: a Produce with acks=0. The next request's answer follows the previous
     * request's, as Kafka's do.
     */
    record NoResponse() implements KafkaResponse {}

    /**
     * Closes the connection once every earlier answer is written, and logs {@code reason} once
     * (Kafka closes where a client could not otherwise learn of a failure, e.g. an acks=0 produce
     * that was refused).
     */
    record Close(String reason) implements KafkaResponse {}

    /**
     * Sends {@code token} as a bare size-prefixed frame: a SASL token of a client that did its
     * handshake at version 0. Only the connection's authenticator answers so; handlers never do.
     */
    record SaslToken(byte[] token) implements KafkaResponse {}

    static KafkaResponse send(ApiMessage body) {
        return new Send(body);
    }

    KafkaResponse NO_RESPONSE = new NoResponse();
}
