package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import java.util.concurrent.CompletableFuture;

/** Skeleton: to be written. */
final class FetchHandler {
    private final BrokerApi api;

    private final FetchSessionCache sessions;

    FetchHandler(BrokerApi api, FetchSessionCache sessions) {
        this.api = api;
        this.sessions = sessions;
    }

    CompletableFuture<KafkaResponse> fetch(KafkaRequest request) {
        throw new UnsupportedOperationException("not written yet: " + api + request);
    }

    FetchSessionCache sessions() {
        return sessions;
    }
}
