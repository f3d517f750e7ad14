package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerAdmin;
import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.ConfigDescriptions;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResourceResult;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.metadata.ConfigResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeConfigs (v1-4), AlterConfigs (v0-2), IncrementalAlterConfigs (v0-1) and DescribeLogDirs
 * (v1-5). Topic configs are described by {@link BrokerApi} and altered by the controller through
 * it: the legacy AlterConfigs, which replaces a topic's whole set of overrides, becomes a SET per
 * key given and a DELETE per current override left out; IncrementalAlterConfigs' APPEND and
 * SUBTRACT (list configs only) become a SET of the list computed from the value in force
 * ({@link KafkaConfigs}). Broker settings are static (read from the config file at start): they
 * are described for this broker's id and refused for change, as Kafka refuses a read-only config.
 * BROKER_LOGGER, GROUP and CLIENT_METRICS resources are refused as unsupported.
 *
 * <p>Authorization as Kafka's: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic for a TOPIC resource
 * (TOPIC_AUTHORIZATION_FAILED), on the cluster for a BROKER one (CLUSTER_AUTHORIZATION_FAILED); a
 * refused resource is not forwarded. DescribeLogDirs needs DESCRIBE on the cluster.
 *
 * <p>Stateless apart from the API; called on connection event loops, never blocks (alterations
 * complete on the thread that completes the forwarded call).
 */
final class ConfigsHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    ConfigsHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    /**
     * Kafka's check for {@code op} (DESCRIBE_CONFIGS or ALTER_CONFIGS) on a config resource: on the
     * topic for a TOPIC, on the cluster for a BROKER; NONE for other types (refused as unsupported).
     */
    private ApiError authorize(KafkaRequest request, AclOperation op, ConfigResource.Type type, String name) {
        if (type == ConfigResource.Type.TOPIC && !authz.rules().mayConfigs(caller(request), op, name)) {
            return KafkaAuthorization.topicDenied(request, op, name);
        }
        if (type == ConfigResource.Type.BROKER && !authz.rules().mayConfigs(caller(request), op, null)) {
            return KafkaAuthorization.clusterDenied(request, op);
        }
        return ApiError.NONE;
    }

    // ---- DescribeConfigs ----

    CompletableFuture<KafkaResponse> describeConfigs(KafkaRequest request) {
        DescribeConfigsRequestData data = (DescribeConfigsRequestData) request.body();
        boolean synonyms = data.includeSynonyms();
        boolean documentation = request.apiVersion() >= 3 && data.includeDocumentation();
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsResource r : data.resources()) {
            DescribeConfigsResult result = new DescribeConfigsResult()
                    .setResourceType(r.resourceType())
                    .setResourceName(r.resourceName());
            List<ConfigDescriptions.Described> described = List.of();
            ApiError error = ApiError.NONE;
            ConfigResource.Type type = ConfigResource.Type.forId(r.resourceType());
            ApiError denied = authorize(request, AclOperation.DESCRIBE_CONFIGS, type, r.resourceName());
            if (denied.isFailure()) {
                error = denied;
            } else if (type == ConfigResource.Type.TOPIC) {
                described = api.admin().describeTopicConfigs(r.resourceName());
                if (described == null) {
                    described = List.of();
                    error = BrokerApi.unknownTopic(r.resourceName());
                }
            } else if (type == ConfigResource.Type.BROKER) {
                // "" is the cluster-wide dynamic default: Kafka lists the dynamic defaults there,
                // and raftmq has none.
                error = brokerResource(r.resourceName(), true);
                if (error.isSuccess() && !r.resourceName().isEmpty()) {
                    described = api.admin().describeBrokerConfigs();
                }
            } else {
                error = unsupported(r.resourceType());
            }
            // As in Kafka, null and empty both mean every key.
            Set<String> keys = r.configurationKeys() == null || r.configurationKeys().isEmpty() ? null
                    : new HashSet<>(r.configurationKeys());
            for (ConfigDescriptions.Described d : described) {
                if (keys == null || keys.contains(d.name())) {
                    result.configs().add(entry(d, synonyms, documentation));
                }
            }
            response.results().add(result.setErrorCode(KafkaErrors.code(error))
                    .setErrorMessage(KafkaErrors.message(error)));
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    private static DescribeConfigsResourceResult entry(ConfigDescriptions.Described d, boolean synonyms,
            boolean documentation) {
        DescribeConfigsResourceResult entry = new DescribeConfigsResourceResult()
                .setName(d.name())
                .setValue(d.value())
                .setReadOnly(d.readOnly())
                .setConfigSource(KafkaConfigs.source(d.source()))
                .setIsSensitive(false)
                .setConfigType(KafkaConfigs.type(d.type()));
        if (synonyms) {
            for (ConfigDescriptions.Synonym s : d.synonyms()) {
                entry.synonyms().add(new DescribeConfigsSynonym()
                        .setName(s.name())
                        .setValue(s.value())
                        .setSource(KafkaConfigs.source(s.source())));
            }
        }
        // Null when not asked for, as Kafka sends it (the schema's default is "").
        return entry.setDocumentation(documentation ? d.documentation() : null);
    }

    // ---- AlterConfigs (legacy: replaces the resource's overrides) ----

    CompletableFuture<KafkaResponse> alterConfigs(KafkaRequest request) {
        AlterConfigsRequestData data = (AlterConfigsRequestData) request.body();
        Alterations alterations = new Alterations(data.validateOnly());
        for (AlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
            ConfigResource.Type type = ConfigResource.Type.forId(r.resourceType());
            List<String> keys = r.configs().stream().map(AlterConfigsRequestData.AlterableConfig::name).toList();
            ApiError denied = authorize(request, AclOperation.ALTER_CONFIGS, type, r.resourceName());
            if (denied.isFailure()) {
                alterations.refuse(denied);
            } else if (type == ConfigResource.Type.TOPIC) {
                List<String> nulls = r.configs().stream().filter(c -> c.value() == null)
                        .map(AlterConfigsRequestData.AlterableConfig::name).toList();
                if (!nulls.isEmpty()) {
                    alterations.refuse(nullValues(nulls));
                    continue;
                }
                TopicImage current = api.image().topic(r.resourceName());
                alterations.forward(r.resourceName(), ops -> {
                    r.configs().forEach(c -> ops.add(set(c.name(), c.value())));
                    if (current != null) {
                        current.configs().keySet().stream().filter(k -> !keys.contains(k))
                                .forEach(k -> ops.add(delete(k)));
                    }
                });
            } else if (type == ConfigResource.Type.BROKER) {
                alterations.refuse(alterBroker(r.resourceName(), keys));
            } else {
                alterations.refuse(unsupported(r.resourceType()));
            }
        }
        return request.onLoop(alterations.send(api), errors -> {
            AlterConfigsResponseData response = new AlterConfigsResponseData();
            int i = 0;
            for (AlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
                ApiError error = errors.get(i++);
                response.responses().add(new AlterConfigsResponseData.AlterConfigsResourceResponse()
                        .setResourceType(r.resourceType())
                        .setResourceName(r.resourceName())
                        .setErrorCode(KafkaErrors.code(error))
                        .setErrorMessage(KafkaErrors.message(error)));
            }
            return KafkaResponse.send(response);
        });
    }

    // ---- IncrementalAlterConfigs ----

    CompletableFuture<KafkaResponse> incrementalAlterConfigs(KafkaRequest request) {
        IncrementalAlterConfigsRequestData data = (IncrementalAlterConfigsRequestData) request.body();
        Alterations alterations = new Alterations(data.validateOnly());
        for (IncrementalAlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
            ConfigResource.Type type = ConfigResource.Type.forId(r.resourceType());
            ApiError denied = authorize(request, AclOperation.ALTER_CONFIGS, type, r.resourceName());
            if (denied.isFailure()) {
                alterations.refuse(denied);
            } else if (type == ConfigResource.Type.TOPIC) {
                List<AlterConfigOp> ops = new ArrayList<>();
                ApiError error = topicOps(r, ops);
                if (error.isFailure()) {
                    alterations.refuse(error);
                } else {
                    alterations.forward(r.resourceName(), out -> out.addAll(ops));
                }
            } else if (type == ConfigResource.Type.BROKER) {
                alterations.refuse(alterBroker(r.resourceName(), r.configs().stream()
                        .map(IncrementalAlterConfigsRequestData.AlterableConfig::name).toList()));
            } else {
                alterations.refuse(unsupported(r.resourceType()));
            }
        }
        return request.onLoop(alterations.send(api), errors -> {
            IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
            int i = 0;
            for (IncrementalAlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
                ApiError error = errors.get(i++);
                response.responses().add(new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                        .setResourceType(r.resourceType())
                        .setResourceName(r.resourceName())
                        .setErrorCode(KafkaErrors.code(error))
                        .setErrorMessage(KafkaErrors.message(error)));
            }
            return KafkaResponse.send(response);
        });
    }

    /**
     * A topic resource's operations as SET and DELETE, into {@code ops}; or why the resource is
     * refused here (the controller checks keys and values).
     */
    private ApiError topicOps(IncrementalAlterConfigsRequestData.AlterConfigsResource r, List<AlterConfigOp> ops) {
        List<String> nulls = new ArrayList<>();
        Map<String, ConfigDescriptions.Described> inForce = null;
        for (IncrementalAlterConfigsRequestData.AlterableConfig c : r.configs()) {
            OpType op = OpType.forId(c.configOperation()); // Kafka's operation
            if (op == null) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "unknown operation %d for config %s; 0 (SET), 1"
                        + " (DELETE), 2 (APPEND) or 3 (SUBTRACT)", c.configOperation(), c.name());
            }
            if (op != OpType.DELETE && c.value() == null) {
                nulls.add(c.name());
                continue;
            }
            switch (op) {
                case SET -> ops.add(set(c.name(), c.value()));
                case DELETE -> ops.add(delete(c.name()));
                case APPEND, SUBTRACT -> {
                    if (inForce == null) {
                        List<ConfigDescriptions.Described> described =
                                api.admin().describeTopicConfigs(r.resourceName());
                        if (described == null) {
                            return BrokerApi.unknownTopic(r.resourceName()); // no value in force to change
                        }
                        inForce = new TreeMap<>();
                        for (ConfigDescriptions.Described d : described) {
                            inForce.put(d.name(), d);
                        }
                    }
                    ConfigDescriptions.Described d = inForce.get(c.name());
                    if (d == null || d.type() != ConfigDescriptions.Type.LIST) {
                        return ApiError.of(ErrorCode.INVALID_CONFIG, "can't %s to config %s: it is not a list config;"
                                + " list configs are %s", op, c.name(), inForce.values().stream()
                                .filter(x -> x.type() == ConfigDescriptions.Type.LIST)
                                .map(ConfigDescriptions.Described::name).toList());
                    }
                    ops.add(set(c.name(), op == OpType.APPEND
                            ? KafkaConfigs.append(d.value(), c.value())
                            : KafkaConfigs.subtract(d.value(), c.value())));
                }
                default -> throw new IllegalStateException("operation " + op + " for config " + c.name());
            }
        }
        return nulls.isEmpty() ? ApiError.NONE : nullValues(nulls);
    }

    // ---- shared ----

    private static AlterConfigOp set(String key, String value) {
        return AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.SET).setKey(key).setValue(value).build();
    }

    private static AlterConfigOp delete(String key) {
        return AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.DELETE).setKey(key).build();
    }

    private static ApiError nullValues(List<String> keys) {
        return ApiError.of(ErrorCode.INVALID_REQUEST, "null values are not supported (configs %s); use DELETE to"
                + " remove an override", keys);
    }

    /**
     * Whether a BROKER resource name is this broker ("" the cluster default, where allowed): Kafka
     * answers INVALID_REQUEST for another broker's id (ConfigHelper, ConfigAdminManager).
     */
    private ApiError brokerResource(String name, boolean describing) {
        if (name.isEmpty()) {
            return ApiError.NONE;
        }
        int id;
        try {
            id = Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "Broker id must be an integer, but it is: %s", name);
        }
        return id == api.brokerId() ? ApiError.NONE : ApiError.of(ErrorCode.INVALID_REQUEST,
                "Unexpected broker id, expected %d%s, but received %s (ask broker %s itself)", api.brokerId(),
                describing ? " or empty string" : "", name, name);
    }

    /**
     * Broker settings cannot change at run time: Kafka refuses a read-only config with
     * INVALID_REQUEST "Cannot update these configs dynamically" (ConfigAdminManager). Nothing to
     * change is no change.
     */
    private ApiError alterBroker(String name, List<String> keys) {
        ApiError error = brokerResource(name, false);
        if (error.isFailure() || keys.isEmpty()) {
            return error;
        }
        return ApiError.of(ErrorCode.INVALID_REQUEST, "Cannot update these configs dynamically: %s (broker %d's"
                + " settings are read from its config file and environment at start; change them there and restart"
                + " it)", keys, api.brokerId());
    }

    private static ApiError unsupported(byte resourceType) {
        ConfigResource.Type type = ConfigResource.Type.forId(resourceType);
        if (type == ConfigResource.Type.UNKNOWN) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "Unknown resource type %d; raftmq has configs of topics"
                    + " (2) and brokers (4)", resourceType);
        }
        return ApiError.of(ErrorCode.INVALID_REQUEST, "resource type %s (%d) is not supported; raftmq has configs of"
                + " topics (2) and brokers (4)%s", type, resourceType, type == ConfigResource.Type.BROKER_LOGGER
                ? ", and a broker's log levels are set in its logback configuration" : "");
    }

    /**
     * One alter request's resources, in request order: each refused here or forwarded (topics) to
     * the controller in one request; {@link #send} answers an error per resource, in order.
     */
    private static final class Alterations {
        private final AlterConfigsRequest.Builder forward;
        /** Per resource: its refusal, or null when forwarded (answered by the next forwarded result). */
        private final List<ApiError> refusals = new ArrayList<>();

        Alterations(boolean validateOnly) {
            this.forward = AlterConfigsRequest.newBuilder().setValidateOnly(validateOnly);
        }

        void refuse(ApiError error) {
            refusals.add(error);
        }

        void forward(String topic, Consumer<List<AlterConfigOp>> opsOf) {
            List<AlterConfigOp> ops = new ArrayList<>();
            opsOf.accept(ops);
            forward.addResources(io.raftmq.protocol.controller.AlterConfigsResource.newBuilder()
                    .setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC)
                    .setResourceName(topic)
                    .addAllOps(ops));
            refusals.add(null);
        }

        CompletableFuture<List<ApiError>> send(BrokerApi api) {
            CompletableFuture<AlterConfigsResponse> answer = forward.getResourcesCount() == 0
                    ? CompletableFuture.completedFuture(AlterConfigsResponse.newBuilder().build())
                    : api.admin().alterConfigs(forward.build());
            return answer.thenApply(r -> {
                ApiError topLevel = ApiError.fromProto(r.getError());
                List<AlterConfigsResourceResult> results = r.getResourcesList();
                List<ApiError> out = new ArrayList<>(refusals.size());
                int next = 0;
                for (ApiError refusal : refusals) {
                    if (refusal != null) {
                        out.add(refusal);
                    } else if (topLevel.isFailure()) {
                        out.add(topLevel);
                    } else if (next < results.size()) {
                        out.add(ApiError.fromProto(results.get(next++).getError()));
                    } else {
                        out.add(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "the controller's answer has %d"
                                + " result(s) for %d resource(s)", results.size(), forward.getResourcesCount()));
                    }
                }
                return out;
            });
        }
    }

    // ---- DescribeLogDirs ----

    CompletableFuture<KafkaResponse> describeLogDirs(KafkaRequest request) {
        DescribeLogDirsRequestData data = (DescribeLogDirsRequestData) request.body();
        if (!authz.allowedOnCluster(request, AclOperation.DESCRIBE)) {
            // As Kafka: no directories, and (v3+) the error.
            return CompletableFuture.completedFuture(KafkaResponse.send(new DescribeLogDirsResponseData()
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())));
        }
        Set<TopicPartition> wanted = null; // null: every partition
        if (data.topics() != null) {
            wanted = new HashSet<>();
            for (DescribeLogDirsRequestData.DescribableLogDirTopic t : data.topics()) {
                for (int p : t.partitions()) {
                    wanted.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        BrokerAdmin.LogDir dir = api.admin().describeLogDir();
        Map<String, DescribeLogDirsTopic> byTopic = new LinkedHashMap<>();
        List<BrokerAdmin.LogDirPartition> partitions = new ArrayList<>(dir.partitions());
        partitions.sort(Comparator.comparing((BrokerAdmin.LogDirPartition p) -> p.tp().topic())
                .thenComparingInt(p -> p.tp().partition()));
        for (BrokerAdmin.LogDirPartition p : partitions) {
            if (wanted != null && !wanted.contains(p.tp())) {
                continue;
            }
            byTopic.computeIfAbsent(p.tp().topic(), t -> new DescribeLogDirsTopic().setName(t)).partitions()
                    .add(new DescribeLogDirsPartition()
                            .setPartitionIndex(p.tp().partition())
                            .setPartitionSize(p.sizeBytes())
                            // Kafka: max(high watermark - log end, 0), always 0 for a current log (no
                            // future logs: AlterReplicaLogDirs is not served).
                            .setOffsetLag(0)
                            .setIsFutureKey(false));
        }
        DescribeLogDirsResponseData.DescribeLogDirsResult result =
                new DescribeLogDirsResponseData.DescribeLogDirsResult()
                        .setErrorCode(KafkaErrors.code(dir.error()))
                        .setLogDir(dir.path())
                        .setTopics(new ArrayList<>(byTopic.values()))
                        .setTotalBytes(dir.totalBytes())
                        .setUsableBytes(dir.usableBytes());
        return CompletableFuture.completedFuture(KafkaResponse.send(new DescribeLogDirsResponseData()
                .setResults(new ArrayList<>(List.of(result)))));
    }
}
