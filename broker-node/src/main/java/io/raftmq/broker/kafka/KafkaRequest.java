package io.raftmq.broker.kafka;

import java.net.InetSocketAddress;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * One Kafka request as its connection parsed it.
 *
 * <p>The body is the request's own copy, parsed from a heap buffer that belongs to this request
 * alone: record buffers in it (a Produce's batches) are writable, and a handler may write into
 * them (the leader stamps offsets and its epoch in place). Handlers only read everything else.
 *
 * @param connectionId the connection's id in this listener's logs ("127.0.0.1:51234-7")
 * @param receivedNs {@link System#nanoTime()} when the whole frame had arrived
 */
record KafkaRequest(RequestHeader header, ApiMessage body, String connectionId, InetSocketAddress clientAddress,
        long receivedNs) {

    ApiKeys apiKey() {
        return header.apiKey();
    }

    short apiVersion() {
        return header.apiVersion();
    }
}
