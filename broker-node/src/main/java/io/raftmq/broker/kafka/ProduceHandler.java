package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class ProduceHandler {
    private final BrokerApi api;

    ProduceHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> produce(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }
}
