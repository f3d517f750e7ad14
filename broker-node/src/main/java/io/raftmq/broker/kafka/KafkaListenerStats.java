package io.raftmq.broker.kafka;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * Counters of one {@link KafkaListener}, for the node's metrics endpoint. Totals since the
 * listener was built, except {@link #connectionsOpen()}. Written by the network threads, read from
 * any thread; each value is exact, but two values read one after the other may be from different
 * instants.
 */
public final class KafkaListenerStats {
    private final LongAdder connectionsOpen = new LongAdder();
    private final LongAdder connectionsAccepted = new LongAdder();
    private final LongAdder requestsHandled = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder connectionsClosedForBadInput = new LongAdder();
    private final LongAdder requestsFailed = new LongAdder();
    private final LongAdder authenticationsFailed = new LongAdder();
    /** Requests handled per API key id (Kafka's ids are below 128). */
    private final LongAdder[] requestsByApi = new LongAdder[128];

    KafkaListenerStats() {
        for (int i = 0; i < requestsByApi.length; i++) {
            requestsByApi[i] = new LongAdder();
        }
    }

    /** Connections accepted and not closed yet. */
    public long connectionsOpen() {
        return connectionsOpen.sum();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    /** Requests parsed and accepted: handed to the broker's handler, or ApiVersions answered. */
    public long requestsHandled() {
        return requestsHandled.sum();
    }

    /** Requests handled per API (Kafka's name, e.g. "Fetch"), for the APIs that had any. */
    public Map<String, Long> requestsByApi() {
        Map<String, Long> out = new TreeMap<>();
        for (ApiKeys key : ApiKeys.values()) {
            long n = key.id < requestsByApi.length ? requestsByApi[key.id].sum() : 0;
            if (n > 0) {
                out.put(key.name, n);
            }
        }
        return out;
    }

    /** Bytes read from clients' sockets. */
    public long bytesIn() {
        return bytesIn.sum();
    }

    /** Bytes of answers written to clients' sockets, size fields and file regions included. */
    public long bytesOut() {
        return bytesOut.sum();
    }

    /**
     * Connections closed because the client sent what Kafka refuses: a size out of bounds, a
     * header or body that does not parse, an API or version this listener does not serve.
     */
    public long connectionsClosedForBadInput() {
        return connectionsClosedForBadInput.sum();
    }

    /**
     * Requests whose handling failed on the broker's side (a failed future, an answer that could
     * not be encoded): the connection was closed.
     */
    public long requestsFailed() {
        return requestsFailed.sum();
    }

    /**
     * Connections closed because authentication failed: a TLS handshake (a plaintext client, a
     * certificate not trusted or expired) or a SASL exchange (wrong password, unknown user or
     * mechanism, a request before authentication).
     */
    public long authenticationsFailed() {
        return authenticationsFailed.sum();
    }

    void connectionOpened() {
        connectionsAccepted.increment();
        connectionsOpen.increment();
    }

    void connectionClosed() {
        connectionsOpen.decrement();
    }

    void requestHandled(ApiKeys key) {
        requestsHandled.increment();
        if (key.id >= 0 && key.id < requestsByApi.length) {
            requestsByApi[key.id].increment();
        }
    }

    void bytesIn(int bytes) {
        bytesIn.add(bytes);
    }

    void bytesOut(long bytes) {
        bytesOut.add(bytes);
    }

    void closedForBadInput() {
        connectionsClosedForBadInput.increment();
    }

    void authenticationFailed() {
        authenticationsFailed.increment();
    }

    void requestFailed() {
        requestsFailed.increment();
    }

    @Override
    public String toString() {
        return "KafkaListenerStats(open " + connectionsOpen() + ", accepted " + connectionsAccepted() + ", requests "
                + requestsHandled() + ", bytes in " + bytesIn() + ", bytes out " + bytesOut()
                + ", closed for bad input " + connectionsClosedForBadInput() + ", failed requests " + requestsFailed()
                + ", failed authentications " + authenticationsFailed() + ")";
    }
}
