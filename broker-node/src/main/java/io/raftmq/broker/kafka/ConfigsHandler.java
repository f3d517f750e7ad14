package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class ConfigsHandler {
    private final BrokerApi api;

    ConfigsHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> describeConfigs(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> alterConfigs(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> incrementalAlterConfigs(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> describeLogDirs(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }
}
