package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class OffsetsHandler {
    private final BrokerApi api;

    OffsetsHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> listOffsets(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> offsetForLeaderEpoch(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> initProducerId(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }
}
