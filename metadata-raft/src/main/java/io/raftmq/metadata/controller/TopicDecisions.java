package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.common.Uuid;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.controller.AlterConfigsResourceResult;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatableTopicResult;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreatePartitionsTopicResult;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeletableTopicResult;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.metadata.ConfigChangeRecord;
import io.raftmq.protocol.metadata.ConfigResourceType;
import io.raftmq.protocol.metadata.CreateTopicRecord;
import io.raftmq.protocol.metadata.DeleteTopicRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Decisions about topics: create, delete, add partitions, alter configs. Pure functions of the
 * image, the request and the injected defaults and id source. Every bad input gets a typed error
 * naming the problem and produces no record for that item; other items of the same request are
 * decided on their own. An internal topic ({@link TopicNames#isInternal}) cannot be deleted, grown
 * or reconfigured: these requests come only from clients (the group coordinator only creates it).
 *
 * <p>Replicas of new partitions are placed by {@link ReplicaPlacer}, or given by the request
 * (checked by {@link ReplicaAssignments}). A new partition's ISR is its replicas that are eligible,
 * in replica order, and the first of them leads.
 */
final class TopicDecisions {
    /** Upper bound on partitions per topic: keeps one creation's batch of records bounded. */
    static final int MAX_PARTITIONS_PER_TOPIC = 10_000;

    private final int defaultPartitions;
    private final int defaultReplicationFactor;
    private final TopicLimits limits;
    private final Supplier<UUID> topicIds;

    /**
     * @param defaultPartitions partitions of a topic created without a count (num.partitions)
     * @param defaultReplicationFactor replication factor of a topic created without one, capped at
     *     the number of eligible brokers (default.replication.factor)
     * @param topicIds source of new topic ids (random in production, seeded in tests)
     */
    TopicDecisions(int defaultPartitions, int defaultReplicationFactor, TopicLimits limits,
            Supplier<UUID> topicIds) {
        this.defaultPartitions = defaultPartitions;
        this.limits = limits;
        this.defaultReplicationFactor = defaultReplicationFactor;
        this.topicIds = topicIds;
    }

    ControllerResult<CreateTopicsResponse> createTopics(MetadataImage image, CreateTopicsRequest request) {
        List<MetadataRecord> records = new ArrayList<>();
        CreateTopicsResponse.Builder reply = CreateTopicsResponse.newBuilder().setError(ApiError.NONE.toProto());
        Set<String> duplicates = duplicates(request.getTopicsList().stream().map(CreatableTopic::getName).toList());
        Map<String, String> collisionKeys = new HashMap<>();
        for (TopicImage topic : image.topics()) {
            collisionKeys.put(TopicNames.collisionKey(topic.name()), topic.name());
        }
        ReplicaPlacer placer = new ReplicaPlacer(image);
        PartitionBudget budget = new PartitionBudget(image);
        for (CreatableTopic topic : request.getTopicsList()) {
            CreatableTopicResult.Builder result = CreatableTopicResult.newBuilder().setName(topic.getName());
            ApiError error = duplicates.contains(topic.getName())
                    ? ApiError.of(ErrorCode.INVALID_REQUEST, "topic '%s' appears more than once in the request",
                            topic.getName())
                    : validateNewTopic(image, collisionKeys, placer, topic);
            List<List<Integer>> manual = error.isFailure() ? null : ReplicaAssignments.ordered(topic);
            int partitions = manual != null ? manual.size()
                    : topic.hasNumPartitions() ? topic.getNumPartitions() : defaultPartitions;
            if (error.isSuccess()) {
                error = budget.take(topic.getName(), partitions);
            }
            if (error.isFailure()) {
                reply.addTopics(result.setError(error.toProto()));
                continue;
            }
            int replicationFactor = manual != null ? manual.get(0).size() : replicationFactor(topic, placer);
            collisionKeys.put(TopicNames.collisionKey(topic.getName()), topic.getName());
            result.setError(ApiError.NONE.toProto())
                    .setNumPartitions(partitions)
                    .setReplicationFactor(replicationFactor);
            if (!request.getValidateOnly()) {
                UUID id = topicIds.get();
                result.setTopicId(Uuids.toProto(id));
                records.add(createTopicRecord(topic, id));
                List<List<Integer>> assignments;
                if (manual != null) {
                    manual.forEach(placer::count);
                    assignments = manual;
                } else {
                    assignments = placer.place(partitions, replicationFactor);
                }
                for (int p = 0; p < partitions; p++) {
                    records.add(newPartition(image, id, p, assignments.get(p)));
                }
            }
            reply.addTopics(result);
        }
        return ControllerResult.of(records, reply.build());
    }

    private int replicationFactor(CreatableTopic topic, ReplicaPlacer placer) {
        return topic.hasReplicationFactor()
                ? topic.getReplicationFactor()
                : Math.max(1, Math.min(defaultReplicationFactor, placer.eligibleBrokerCount()));
    }

    private ApiError validateNewTopic(
            MetadataImage image, Map<String, String> collisionKeys, ReplicaPlacer placer, CreatableTopic topic) {
        String name = topic.getName();
        ApiError nameError = TopicNames.validate(name);
        if (nameError.isFailure()) {
            return nameError;
        }
        TopicImage existing = image.topic(name);
        if (existing != null) {
            return ApiError.of(ErrorCode.TOPIC_ALREADY_EXISTS, "topic '%s' already exists (id %s)", name, existing.id());
        }
        String colliding = collisionKeys.get(TopicNames.collisionKey(name));
        if (colliding != null) {
            return ApiError.of(ErrorCode.INVALID_TOPIC, "topic '%s' collides with existing topic '%s': '.' and '_'"
                    + " are interchangeable in metric names", name, colliding);
        }
        int replicationFactor;
        if (topic.getAssignmentsCount() > 0) {
            ApiError assignmentError = ReplicaAssignments.validateNewTopic(image, topic);
            if (assignmentError.isFailure()) {
                return assignmentError;
            }
            replicationFactor = topic.getAssignments(0).getBrokerIdsCount();
        } else {
            int partitions = topic.hasNumPartitions() ? topic.getNumPartitions() : defaultPartitions;
            ApiError partitionsError = validatePartitionCount(name, partitions);
            if (partitionsError.isFailure()) {
                return partitionsError;
            }
            int eligible = placer.eligibleBrokerCount();
            replicationFactor = replicationFactor(topic, placer);
            if (replicationFactor < 1) {
                return ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR,
                        "replication factor must be at least 1; topic '%s' asked for %d", name, replicationFactor);
            }
            if (replicationFactor > eligible) {
                return ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR,
                        "replication factor %d for topic '%s' is larger than the number of live brokers (%d)",
                        replicationFactor, name, eligible);
            }
        }
        Map<String, String> configs = new HashMap<>();
        for (ConfigEntry entry : topic.getConfigsList()) {
            if (configs.put(entry.getKey(), entry.getValue()) != null) {
                return ApiError.of(ErrorCode.INVALID_CONFIG, "config %s is given twice for topic '%s'",
                        entry.getKey(), name);
            }
            ApiError configError = TopicConfigs.validate(entry.getKey(), entry.getValue());
            if (configError.isFailure()) {
                return configError;
            }
        }
        return TopicConfigs.validateAgainstReplicationFactor(configs, replicationFactor);
    }

    static ApiError validatePartitionCount(String name, int partitions) {
        if (partitions < 1) {
            return ApiError.of(ErrorCode.INVALID_PARTITIONS,
                    "number of partitions must be at least 1; topic '%s' asked for %d", name, partitions);
        }
        if (partitions > MAX_PARTITIONS_PER_TOPIC) {
            return ApiError.of(ErrorCode.INVALID_PARTITIONS,
                    "topic '%s' asked for %d partitions; at most %d are allowed per topic", name, partitions,
                    MAX_PARTITIONS_PER_TOPIC);
        }
        return ApiError.NONE;
    }

    /**
     * The partitions one request may still add: what is left of max.partitions.per.request and of
     * max.partitions over the partitions the image holds. Items of a request take from it in order;
     * one that does not fit is refused and takes nothing, so a later, smaller one may still fit.
     */
    private final class PartitionBudget {
        private final int existing;
        private int added;

        PartitionBudget(MetadataImage image) {
            int total = 0;
            for (TopicImage topic : image.topics()) {
                total += topic.numPartitions();
            }
            this.existing = total;
        }

        ApiError take(String name, int partitions) {
            if ((long) added + partitions > limits.maxPartitionsPerRequest()) {
                return ApiError.of(ErrorCode.INVALID_PARTITIONS, "topic '%s' asks for %d new partitions, and this"
                        + " request already adds %d: one request may add at most %d (%s); send the rest in"
                        + " another request", name, partitions, added, limits.maxPartitionsPerRequest(),
                        TopicLimits.MAX_PARTITIONS_PER_REQUEST);
            }
            if ((long) existing + added + partitions > limits.maxPartitions()) {
                return ApiError.of(ErrorCode.INVALID_PARTITIONS, "topic '%s' asks for %d new partitions, but the"
                        + " cluster has %d (and this request adds %d): at most %d are allowed (%s)", name,
                        partitions, existing, added, limits.maxPartitions(), TopicLimits.MAX_PARTITIONS);
            }
            added += partitions;
            return ApiError.NONE;
        }
    }

    private static MetadataRecord createTopicRecord(CreatableTopic topic, UUID id) {
        TreeMap<String, String> sorted = new TreeMap<>();
        topic.getConfigsList().forEach(e -> sorted.put(e.getKey(), e.getValue()));
        CreateTopicRecord.Builder create = CreateTopicRecord.newBuilder()
                .setName(topic.getName())
                .setTopicId(Uuids.toProto(id));
        sorted.forEach((k, v) -> create.addConfigs(ConfigEntry.newBuilder().setKey(k).setValue(v)));
        return MetadataRecord.newBuilder().setCreateTopic(create).build();
    }

    /**
     * A new partition: its ISR is the replicas that are eligible (all of them when placed by the
     * placer), in replica order, and the first of those leads. The caller has checked that one is.
     */
    private static MetadataRecord newPartition(MetadataImage image, UUID topicId, int partitionId,
            List<Integer> replicas) {
        List<Integer> isr = replicas.stream().filter(image::isEligible).toList();
        return MetadataRecord.newBuilder().setPartition(PartitionRecord.newBuilder()
                .setTopicId(Uuids.toProto(topicId))
                .setPartitionId(partitionId)
                .addAllReplicas(replicas)
                .addAllIsr(isr)
                .setLeader(isr.get(0))
                .setLeaderEpoch(0)
                .setPartitionEpoch(0)).build();
    }

    ControllerResult<DeleteTopicsResponse> deleteTopics(MetadataImage image, DeleteTopicsRequest request) {
        List<MetadataRecord> records = new ArrayList<>();
        DeleteTopicsResponse.Builder reply = DeleteTopicsResponse.newBuilder().setError(ApiError.NONE.toProto());
        Set<UUID> deleted = new HashSet<>();
        for (String name : request.getNamesList()) {
            DeletableTopicResult.Builder result = DeletableTopicResult.newBuilder().setName(name);
            TopicImage topic = image.topic(name);
            if (topic == null) {
                result.setError(ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", name)
                        .toProto());
            } else if (TopicNames.isInternal(name)) {
                result.setTopicId(Uuids.toProto(topic.id())).setError(internalTopic("delete", name).toProto());
            } else if (!deleted.add(topic.id())) {
                result.setError(ApiError.of(ErrorCode.INVALID_REQUEST, "topic '%s' appears more than once in the"
                        + " request", name).toProto());
            } else {
                result.setTopicId(Uuids.toProto(topic.id())).setError(ApiError.NONE.toProto());
                records.add(deleteTopicRecord(topic.id()));
            }
            reply.addTopics(result);
        }
        for (Uuid protoId : request.getTopicIdsList()) {
            UUID id = Uuids.fromProto(protoId);
            DeletableTopicResult.Builder result = DeletableTopicResult.newBuilder().setTopicId(protoId);
            TopicImage topic = image.topic(id);
            if (topic == null) {
                result.setError(ApiError.of(ErrorCode.UNKNOWN_TOPIC_ID, "no topic has id %s", id).toProto());
            } else if (TopicNames.isInternal(topic.name())) {
                result.setName(topic.name()).setError(internalTopic("delete", topic.name()).toProto());
            } else if (!deleted.add(id)) {
                result.setName(topic.name()).setError(ApiError.of(ErrorCode.INVALID_REQUEST,
                        "topic '%s' (%s) appears more than once in the request", topic.name(), id).toProto());
            } else {
                result.setName(topic.name()).setError(ApiError.NONE.toProto());
                records.add(deleteTopicRecord(id));
            }
            reply.addTopics(result);
        }
        return ControllerResult.of(records, reply.build());
    }

    /**
     * INVALID_TOPIC for a client's change to an internal topic, worded as Kafka words its refusals
     * of internal topics ("Cannot append to internal topic ...", "Cannot delete records of internal
     * topic ..."). Kafka itself lets a client delete, grow or reconfigure {@code __consumer_offsets}
     * (with the ACL to); here nobody may: the group coordinator owns it.
     */
    private static ApiError internalTopic(String action, String name) {
        return ApiError.of(ErrorCode.INVALID_TOPIC, "Cannot %s internal topic %s", action, name);
    }

    private static MetadataRecord deleteTopicRecord(UUID id) {
        return MetadataRecord.newBuilder()
                .setDeleteTopic(DeleteTopicRecord.newBuilder().setTopicId(Uuids.toProto(id)))
                .build();
    }

    ControllerResult<CreatePartitionsResponse> createPartitions(MetadataImage image, CreatePartitionsRequest request) {
        List<MetadataRecord> records = new ArrayList<>();
        CreatePartitionsResponse.Builder reply =
                CreatePartitionsResponse.newBuilder().setError(ApiError.NONE.toProto());
        Set<String> duplicates =
                duplicates(request.getTopicsList().stream().map(CreatePartitionsTopic::getName).toList());
        ReplicaPlacer placer = new ReplicaPlacer(image);
        PartitionBudget budget = new PartitionBudget(image);
        for (CreatePartitionsTopic wanted : request.getTopicsList()) {
            String name = wanted.getName();
            CreatePartitionsTopicResult.Builder result = CreatePartitionsTopicResult.newBuilder().setName(name);
            TopicImage topic = image.topic(name);
            ApiError error;
            if (duplicates.contains(name)) {
                error = ApiError.of(ErrorCode.INVALID_REQUEST, "topic '%s' appears more than once in the request", name);
            } else if (topic == null) {
                error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", name);
            } else if (TopicNames.isInternal(name)) {
                error = internalTopic("add partitions to", name);
            } else if (wanted.getCount() == topic.numPartitions()) {
                error = ApiError.of(ErrorCode.INVALID_PARTITIONS, "topic '%s' already has %d partitions", name,
                        topic.numPartitions());
            } else if (wanted.getCount() < topic.numPartitions()) {
                error = ApiError.of(ErrorCode.INVALID_PARTITIONS, "topic '%s' has %d partitions; the request asked"
                        + " for %d (partitions can only be added, never removed)", name, topic.numPartitions(),
                        wanted.getCount());
            } else if (wanted.getCount() > MAX_PARTITIONS_PER_TOPIC) {
                error = validatePartitionCount(name, wanted.getCount());
            } else if (wanted.getAssignmentsCount() > 0) {
                error = ReplicaAssignments.validateNewPartitions(image, topic, wanted);
            } else if (topic.replicationFactor() > placer.eligibleBrokerCount()) {
                error = ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR, "topic '%s' has replication factor %d,"
                        + " but only %d brokers are live", name, topic.replicationFactor(),
                        placer.eligibleBrokerCount());
            } else {
                error = ApiError.NONE;
            }
            if (error.isSuccess()) {
                error = budget.take(name, wanted.getCount() - topic.numPartitions());
            }
            reply.addTopics(result.setError(error.toProto()));
            if (error.isFailure() || request.getValidateOnly()) {
                continue;
            }
            int added = wanted.getCount() - topic.numPartitions();
            List<List<Integer>> assignments;
            if (wanted.getAssignmentsCount() > 0) {
                assignments = wanted.getAssignmentsList().stream().map(a -> List.copyOf(a.getBrokerIdsList()))
                        .toList();
                assignments.forEach(placer::count);
            } else {
                assignments = placer.place(added, topic.replicationFactor());
            }
            for (int i = 0; i < added; i++) {
                records.add(newPartition(image, topic.id(), topic.numPartitions() + i, assignments.get(i)));
            }
        }
        return ControllerResult.of(records, reply.build());
    }

    ControllerResult<AlterConfigsResponse> alterConfigs(MetadataImage image, AlterConfigsRequest request) {
        List<MetadataRecord> records = new ArrayList<>();
        AlterConfigsResponse.Builder reply = AlterConfigsResponse.newBuilder().setError(ApiError.NONE.toProto());
        Set<String> duplicates = duplicates(request.getResourcesList().stream()
                .map(r -> r.getResourceType() + "/" + r.getResourceName()).toList());
        for (AlterConfigsResource resource : request.getResourcesList()) {
            AlterConfigsResourceResult.Builder result = AlterConfigsResourceResult.newBuilder()
                    .setResourceType(resource.getResourceType())
                    .setResourceName(resource.getResourceName());
            List<MetadataRecord> changes = new ArrayList<>();
            ApiError error = duplicates.contains(resource.getResourceType() + "/" + resource.getResourceName())
                    ? ApiError.of(ErrorCode.INVALID_REQUEST, "resource '%s' appears more than once in the request",
                            resource.getResourceName())
                    : alterTopicConfigs(image, resource, changes);
            reply.addResources(result.setError(error.toProto()));
            if (error.isSuccess() && !request.getValidateOnly()) {
                records.addAll(changes);
            }
        }
        return ControllerResult.of(records, reply.build());
    }

    private static ApiError alterTopicConfigs(
            MetadataImage image, AlterConfigsResource resource, List<MetadataRecord> changes) {
        if (resource.getResourceType() != ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "configs of resource type %s cannot be altered; only topic"
                    + " configs can", resource.getResourceType());
        }
        TopicImage topic = image.topic(resource.getResourceName());
        if (topic == null) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist",
                    resource.getResourceName());
        }
        if (TopicNames.isInternal(topic.name())) {
            return internalTopic("alter the configs of", topic.name());
        }
        Map<String, String> after = new HashMap<>(topic.configs());
        Set<String> seen = new HashSet<>();
        for (AlterConfigOp op : resource.getOpsList()) {
            if (!seen.add(op.getKey())) {
                return ApiError.of(ErrorCode.INVALID_CONFIG, "config %s is altered twice in one request", op.getKey());
            }
            ConfigChangeRecord.Builder change = ConfigChangeRecord.newBuilder()
                    .setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC)
                    .setResourceName(topic.name())
                    .setKey(op.getKey());
            switch (op.getOp()) {
                case SET -> {
                    ApiError invalid = TopicConfigs.validate(op.getKey(), op.getValue());
                    if (invalid.isFailure()) {
                        return invalid;
                    }
                    if (op.getValue().equals(after.put(op.getKey(), op.getValue()))) {
                        continue;
                    }
                    change.setValue(op.getValue());
                }
                case DELETE -> {
                    if (!TopicConfigs.isKnown(op.getKey())) {
                        return TopicConfigs.validate(op.getKey(), null);
                    }
                    if (after.remove(op.getKey()) == null) {
                        continue;
                    }
                }
                default -> {
                    return ApiError.of(ErrorCode.INVALID_REQUEST, "config %s has no operation (SET or DELETE)",
                            op.getKey());
                }
            }
            changes.add(MetadataRecord.newBuilder().setConfigChange(change).build());
        }
        return TopicConfigs.validateAgainstReplicationFactor(after, topic.replicationFactor());
    }

    private static Set<String> duplicates(List<String> names) {
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                duplicates.add(name);
            }
        }
        return duplicates;
    }
}
