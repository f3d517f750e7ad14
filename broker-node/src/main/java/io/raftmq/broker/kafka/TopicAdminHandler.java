package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.Authorization;
import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.ConfigDescriptions;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatableTopicResult;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.ReplicaAssignment;
import io.raftmq.protocol.controller.CreatePartitionsTopicResult;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeletableTopicResult;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;

/**
 * CreateTopics (v2-7), DeleteTopics (v1-6) and CreatePartitions (v0-3): each request translated to
 * the controller's request, forwarded through {@link BrokerApi} (answered once this broker's
 * metadata has the change), and the controller's per-topic answers translated back. The
 * controller decides every topic (manual replica assignments included); this handler only refuses
 * what our request cannot carry (a topic named both by name and id) and bounds the wait by the
 * request's timeoutMs.
 *
 * <p>Authorization as Kafka's, before anything is forwarded: creating a topic needs CREATE on the
 * cluster or on the topic (and showing its configs DESCRIBE_CONFIGS on it), deleting one DELETE on
 * it, adding partitions ALTER on it; a topic refused gets TOPIC_AUTHORIZATION_FAILED and is not
 * sent to the controller.
 *
 * <p>Kafka answers one result per topic name, also for a name the request repeats (the controller
 * refuses repeats with INVALID_REQUEST).
 *
 * <p>Stateless apart from the API; called on connection event loops, never blocks: answers
 * complete on the thread that completes the forwarded call, or the timeout's.
 */
final class TopicAdminHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    TopicAdminHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    // ---- CreateTopics ----

    CompletableFuture<KafkaResponse> createTopics(KafkaRequest request) {
        CreateTopicsRequestData data = (CreateTopicsRequestData) request.body();
        short version = request.apiVersion();
        CreateTopicsRequest.Builder forward = CreateTopicsRequest.newBuilder().setValidateOnly(data.validateOnly());
        Map<String, Map<String, String>> requestedConfigs = new HashMap<>();
        Map<String, ApiError> denied = new HashMap<>();
        Authorization.Caller caller = caller(request);
        for (CreateTopicsRequestData.CreatableTopic t : data.topics()) {
            if (!authz.rules().mayCreateTopic(caller, t.name())) {
                denied.put(t.name(), KafkaAuthorization.topicDenied(request, AclOperation.CREATE, t.name()));
                continue;
            }
            CreatableTopic.Builder topic = CreatableTopic.newBuilder().setName(t.name());
            for (CreateTopicsRequestData.CreatableReplicaAssignment a : t.assignments()) {
                topic.addAssignments(CreatableReplicaAssignment.newBuilder().setPartitionIndex(a.partitionIndex())
                        .addAllBrokerIds(a.brokerIds()));
            }
            if (t.numPartitions() != -1) {
                topic.setNumPartitions(t.numPartitions());
            }
            if (t.replicationFactor() != -1) {
                topic.setReplicationFactor(t.replicationFactor());
            }
            Map<String, String> configs = requestedConfigs.computeIfAbsent(t.name(), n -> new TreeMap<>());
            for (CreateTopicsRequestData.CreatableTopicConfig c : t.configs()) {
                if (c.value() != null) { // as in Kafka, a null value sets nothing
                    topic.addConfigs(ConfigEntry.newBuilder().setKey(c.name()).setValue(c.value()));
                    configs.put(c.name(), c.value());
                }
            }
            forward.addTopics(topic);
        }
        CompletableFuture<CreateTopicsResponse> answer = forward.getTopicsCount() == 0
                ? CompletableFuture.completedFuture(CreateTopicsResponse.newBuilder().build())
                : within(api.admin().createTopics(forward.build()), data.timeoutMs(), CreateTopicsResponse.newBuilder()
                        .setError(timedOut(data.timeoutMs()).toProto()).build());
        return request.onLoop(answer, r -> {
            Map<String, CreatableTopicResult> results = new HashMap<>();
            r.getTopicsList().forEach(t -> results.putIfAbsent(t.getName(), t));
            CreateTopicsResponseData response = new CreateTopicsResponseData();
            Set<String> answered = new HashSet<>();
            for (CreateTopicsRequestData.CreatableTopic t : data.topics()) {
                if (!answered.add(t.name())) {
                    continue;
                }
                CreatableTopicResult result = results.get(t.name());
                ApiError error = denied.containsKey(t.name()) ? denied.get(t.name())
                        : outcome(r.getError(), result == null ? null : result.getError(), t.name());
                CreateTopicsResponseData.CreatableTopicResult out = new CreateTopicsResponseData.CreatableTopicResult()
                        .setName(t.name())
                        .setErrorCode(KafkaErrors.code(error))
                        .setErrorMessage(KafkaErrors.message(error));
                if (error.isSuccess()) {
                    out.setTopicId(KafkaIds.toKafka(Uuids.fromProto(result.getTopicId())))
                            .setNumPartitions(result.getNumPartitions())
                            .setReplicationFactor((short) result.getReplicationFactor());
                    if (version >= 5 && !authz.rules().mayConfigs(caller, AclOperation.DESCRIBE_CONFIGS, t.name())) {
                        // As Kafka: created, but its configs are not shown to who may not describe them.
                        out.setTopicConfigErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    } else if (version >= 5) {
                        out.setConfigs(configs(t.name(), data.validateOnly(), requestedConfigs.get(t.name())));
                    }
                }
                response.topics().add(out);
            }
            return KafkaResponse.send(response);
        });
    }

    /** The new topic's configs with their sources: from the image once created, else as they would be. */
    private List<CreatableTopicConfigs> configs(String name, boolean validateOnly, Map<String, String> requested) {
        List<ConfigDescriptions.Described> described = validateOnly ? null : api.admin().describeTopicConfigs(name);
        if (described == null) {
            described = api.admin().describeNewTopicConfigs(requested);
        }
        List<CreatableTopicConfigs> out = new ArrayList<>(described.size());
        for (ConfigDescriptions.Described d : described) {
            out.add(new CreatableTopicConfigs()
                    .setName(d.name())
                    .setValue(d.value())
                    .setReadOnly(d.readOnly())
                    .setConfigSource(KafkaConfigs.source(d.source()))
                    .setIsSensitive(false));
        }
        return out;
    }

    // ---- DeleteTopics ----

    CompletableFuture<KafkaResponse> deleteTopics(KafkaRequest request) {
        DeleteTopicsRequestData data = (DeleteTopicsRequestData) request.body();
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        DeleteTopicsRequest.Builder forward = DeleteTopicsRequest.newBuilder();
        MetadataImage image = api.image();
        if (request.apiVersion() < 6) {
            for (String name : data.topicNames()) {
                if (deletable(request, name, Uuid.ZERO_UUID, response)) {
                    forward.addNames(name);
                }
            }
        } else {
            for (DeleteTopicState t : data.topics()) {
                boolean byId = !t.topicId().equals(Uuid.ZERO_UUID);
                if (byId && t.name() != null) {
                    response.responses().add(deleteResult(t.name(), t.topicId(), ApiError.of(ErrorCode.INVALID_REQUEST,
                            "give topic '%s' by its name or by its id (%s), not both", t.name(), t.topicId())));
                } else if (byId) {
                    TopicImage known = image.topic(KafkaIds.fromKafka(t.topicId()));
                    if (known == null || deletable(request, known.name(), t.topicId(), response)) {
                        forward.addTopicIds(Uuids.toProto(KafkaIds.fromKafka(t.topicId())));
                    }
                } else if (t.name() != null) {
                    if (deletable(request, t.name(), Uuid.ZERO_UUID, response)) {
                        forward.addNames(t.name());
                    }
                } else {
                    response.responses().add(deleteResult(null, Uuid.ZERO_UUID, ApiError.of(ErrorCode.INVALID_REQUEST,
                            "a topic to delete needs a name or an id; neither was given")));
                }
            }
        }
        if (forward.getNamesCount() + forward.getTopicIdsCount() == 0) {
            return CompletableFuture.completedFuture(KafkaResponse.send(response));
        }
        DeleteTopicsRequest forwarded = forward.build();
        CompletableFuture<DeleteTopicsResponse> deleted = within(api.admin().deleteTopics(forwarded), data.timeoutMs(),
                DeleteTopicsResponse.newBuilder().setError(timedOut(data.timeoutMs()).toProto()).build());
        return request.onLoop(deleted, r -> {
                    ApiError topLevel = ApiError.fromProto(r.getError());
                    if (topLevel.isFailure()) {
                        forwarded.getNamesList().forEach(n -> response.responses().add(
                                deleteResult(n, Uuid.ZERO_UUID, topLevel)));
                        forwarded.getTopicIdsList().forEach(id -> response.responses().add(
                                deleteResult(null, KafkaIds.toKafka(Uuids.fromProto(id)), topLevel)));
                    } else {
                        for (DeletableTopicResult t : r.getTopicsList()) {
                            response.responses().add(deleteResult(t.getName().isEmpty() ? null : t.getName(),
                                    KafkaIds.toKafka(Uuids.fromProto(t.getTopicId())),
                                    ApiError.fromProto(t.getError())));
                        }
                    }
                    return KafkaResponse.send(response);
                });
    }

    /**
     * Whether the principal may DELETE the topic; if not, its TOPIC_AUTHORIZATION_FAILED is added to
     * {@code response} (named only to who may DESCRIBE it, when it was asked for by id).
     */
    private boolean deletable(KafkaRequest request, String name, Uuid id, DeleteTopicsResponseData response) {
        if (authz.rules().mayDeleteTopic(caller(request), name)) {
            return true;
        }
        boolean byId = !id.equals(Uuid.ZERO_UUID);
        String shown = !byId || authz.rules().mayDescribeTopic(caller(request), name) ? name : null;
        response.responses().add(deleteResult(shown, id, KafkaAuthorization.topicDenied(request, AclOperation.DELETE,
                shown == null ? id.toString() : name)));
        return false;
    }

    private static DeleteTopicsResponseData.DeletableTopicResult deleteResult(String name, Uuid id, ApiError error) {
        return new DeleteTopicsResponseData.DeletableTopicResult()
                .setName(name)
                .setTopicId(id)
                .setErrorCode(KafkaErrors.code(error))
                .setErrorMessage(KafkaErrors.message(error));
    }

    // ---- CreatePartitions ----

    CompletableFuture<KafkaResponse> createPartitions(KafkaRequest request) {
        CreatePartitionsRequestData data = (CreatePartitionsRequestData) request.body();
        CreatePartitionsRequest.Builder forward = CreatePartitionsRequest.newBuilder()
                .setValidateOnly(data.validateOnly());
        Map<String, ApiError> denied = new HashMap<>();
        for (CreatePartitionsRequestData.CreatePartitionsTopic t : data.topics()) {
            if (!authz.rules().mayAlterTopic(caller(request), t.name())) {
                denied.put(t.name(), KafkaAuthorization.topicDenied(request, AclOperation.ALTER, t.name()));
                continue;
            }
            CreatePartitionsTopic.Builder topic = CreatePartitionsTopic.newBuilder().setName(t.name())
                    .setCount(t.count());
            if (t.assignments() != null) {
                for (CreatePartitionsRequestData.CreatePartitionsAssignment a : t.assignments()) {
                    topic.addAssignments(ReplicaAssignment.newBuilder().addAllBrokerIds(a.brokerIds()));
                }
            }
            forward.addTopics(topic);
        }
        CompletableFuture<CreatePartitionsResponse> answer = forward.getTopicsCount() == 0
                ? CompletableFuture.completedFuture(CreatePartitionsResponse.newBuilder().build())
                : within(api.admin().createPartitions(forward.build()), data.timeoutMs(), CreatePartitionsResponse
                        .newBuilder().setError(timedOut(data.timeoutMs()).toProto()).build());
        return request.onLoop(answer, r -> {
            Map<String, CreatePartitionsTopicResult> results = new HashMap<>();
            r.getTopicsList().forEach(t -> results.putIfAbsent(t.getName(), t));
            CreatePartitionsResponseData response = new CreatePartitionsResponseData();
            Set<String> answered = new HashSet<>();
            for (CreatePartitionsRequestData.CreatePartitionsTopic t : data.topics()) {
                if (!answered.add(t.name())) {
                    continue;
                }
                CreatePartitionsTopicResult result = results.get(t.name());
                ApiError error = denied.containsKey(t.name()) ? denied.get(t.name()) : outcome(r.getError(), result == null ? null : result.getError(), t.name());
                response.results().add(new CreatePartitionsResponseData.CreatePartitionsTopicResult()
                        .setName(t.name())
                        .setErrorCode(KafkaErrors.code(error))
                        .setErrorMessage(KafkaErrors.message(error)));
            }
            return KafkaResponse.send(response);
        });
    }

    // ---- shared ----

    /** A forwarded topic's outcome: the response's own error first (it applies to every topic), then the topic's. */
    private static ApiError outcome(io.raftmq.protocol.common.Error topLevel, io.raftmq.protocol.common.Error topic,
            String name) {
        if (topLevel.getCode() != ErrorCode.NONE) {
            return ApiError.fromProto(topLevel);
        }
        return topic != null ? ApiError.fromProto(topic) : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                "the controller's answer has no result for topic '%s'", name);
    }

    /**
     * The call's answer, or {@code onTimeout} when it has none within {@code timeoutMs} (a Kafka
     * admin request's timeoutMs; 0 or less: no bound beyond the controller client's own). Kafka's
     * controller drops a request whose deadline passed; ours may still apply it, and the timeout
     * message says so.
     */
    static <R> CompletableFuture<R> within(CompletableFuture<R> call, int timeoutMs, R onTimeout) {
        return timeoutMs <= 0 ? call : call.copy().completeOnTimeout(onTimeout, timeoutMs, TimeUnit.MILLISECONDS);
    }

    static ApiError timedOut(int timeoutMs) {
        return ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "the controller did not answer within the request's"
                + " timeout (%d ms); the change may still be applied", timeoutMs);
    }
}
