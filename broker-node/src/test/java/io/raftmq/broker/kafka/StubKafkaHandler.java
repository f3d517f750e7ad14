package io.raftmq.broker.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * A {@link KafkaRequestHandler} for listener tests: serves the APIs it is given, answers with a
 * function of the request, and records every request it sees and any breach of the listener's
 * side of the contract (a request not in {@link #apis()}, a call off the network threads).
 */
final class StubKafkaHandler implements KafkaRequestHandler {
    private final List<ApiVersion> apis;
    private final Function<KafkaRequest, CompletableFuture<KafkaResponse>> answers;
    private final ConcurrentLinkedQueue<KafkaRequest> seen = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> breaches = new ConcurrentLinkedQueue<>();

    StubKafkaHandler(List<ApiVersion> apis, Function<KafkaRequest, CompletableFuture<KafkaResponse>> answers) {
        this.apis = List.copyOf(apis);
        this.answers = answers;
    }

    /** Answers every request with its response class's defaults, at once. */
    static StubKafkaHandler answeringDefaults(List<ApiVersion> apis) {
        return new StubKafkaHandler(apis, request -> CompletableFuture.completedFuture(
                KafkaResponse.send(request.apiKey().messageType.newResponse())));
    }

    static ApiVersion api(ApiKeys key, int minVersion, int maxVersion) {
        return new ApiVersion().setApiKey(key.id).setMinVersion((short) minVersion).setMaxVersion((short) maxVersion);
    }

    @Override
    public List<ApiVersion> apis() {
        return apis;
    }

    @Override
    public CompletableFuture<KafkaResponse> handle(KafkaRequest request) {
        boolean listed = apis.stream().anyMatch(api -> api.apiKey() == request.apiKey().id
                && request.apiVersion() >= api.minVersion() && request.apiVersion() <= api.maxVersion());
        if (!listed || request.apiKey() == ApiKeys.API_VERSIONS) {
            breaches.add("handed " + request.apiKey() + " v" + request.apiVersion() + ", which is not served");
        }
        if (!Thread.currentThread().getName().startsWith("kafka-network-")) {
            breaches.add("handed " + request.apiKey() + " on thread " + Thread.currentThread().getName());
        }
        seen.add(request);
        return answers.apply(request);
    }

    /** The requests handed so far, in order. */
    List<KafkaRequest> seen() {
        return new ArrayList<>(seen);
    }

    int seenCount() {
        return seen.size();
    }

    /** What the listener did against the contract; empty when all is well. */
    List<String> breaches() {
        return new ArrayList<>(breaches);
    }
}
