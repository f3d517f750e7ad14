package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class TopicAdminHandler {
    private final BrokerApi api;

    TopicAdminHandler(BrokerApi api) {
        this.api = api;
    }

    CompletableFuture<KafkaResponse> createTopics(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> deleteTopics(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> createPartitions(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    CompletableFuture<KafkaResponse> electLeaders(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }
}
