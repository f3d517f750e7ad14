package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class MetadataHandler {
    private final BrokerApi api;

    MetadataHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> metadata(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> describeCluster(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }
}
