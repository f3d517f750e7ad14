package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.GroupCoordinator;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitPartitionResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetCommitTopicResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

/**
 * FindCoordinator (v0-6), OffsetCommit (v2-10) and OffsetFetch (v1-10): Kafka's messages translated to the protocol-neutral
 * calls of this broker's {@link GroupCoordinator} (the groups the SDK uses over gRPC) and its
 * answers back, per version: single or batched coordinator keys (v4+), topic names or ids (v10 of
 * OffsetCommit and OffsetFetch, resolved through this broker's metadata; an unknown id is
 * UNKNOWN_TOPIC_ID and does not reach the coordinator), one group or several per OffsetFetch
 * (v8+; each group answered by its own coordinator's rules, NOT_COORDINATOR for those led
 * elsewhere), null topics meaning every committed partition. FindCoordinator names the
 * coordinator's Kafka endpoint; a transactional id gets the refusal transactional producers get
 * everywhere here ({@link BrokerApi#noTransactionCoordinator}) and a share-group key
 * INVALID_REQUEST, as Kafka answers while share groups are off.
 *
 * <p>Authorization as Kafka's KafkaApis: FindCoordinator needs DESCRIBE on the group; OffsetCommit
 * READ on the group (else nothing is committed, GROUP_AUTHORIZATION_FAILED on every partition) and
 * on each topic (TOPIC_AUTHORIZATION_FAILED, not committed); OffsetFetch DESCRIBE on the group and
 * on each topic asked for (every committed topic: only those the principal may describe). The
 * group administration APIs are {@link GroupAdminHandler}'s.
 *
 * <p>OffsetFetch's requireStable (v7+) needs no wait here: without transactions every committed
 * offset is stable, and the coordinator already answers only once earlier commits are replicated.
 * OffsetFetch's member id and epoch (v9+) are not checked: every caller reads the committed
 * offsets (Kafka ignores them for classic groups, and answers a KIP-848 member with a stale epoch
 * STALE_MEMBER_EPOCH). OffsetCommit's retention time (v2-4) is ignored: offsets.retention.minutes
 * applies.
 *
 * <p>Stateless; called on connection event loops, never blocks: answers are built on the
 * connection's loop when the coordinator completes ({@link KafkaRequest#onLoop}).
 */
final class GroupOffsetsHandler {
    private final BrokerApi api;
    private final GroupCoordinator groups;
    private final KafkaAuthorization authz;

    GroupOffsetsHandler(BrokerApi api, GroupCoordinator groups, KafkaAuthorization authz) {
        this.api = api;
        this.groups = groups;
        this.authz = authz;
    }

    // ---- FindCoordinator ----

    CompletableFuture<KafkaResponse> findCoordinator(KafkaRequest request) {
        FindCoordinatorRequestData data = (FindCoordinatorRequestData) request.body();
        short version = request.apiVersion();
        byte keyType = version >= 1 ? data.keyType() : CoordinatorType.GROUP.id();
        List<String> keys = version >= 4 ? data.coordinatorKeys() : List.of(data.key());
        List<CompletableFuture<FindCoordinatorResponseData.Coordinator>> each = new ArrayList<>();
        for (String key : keys) {
            each.add(keyType == CoordinatorType.GROUP.id() && !authz.rules().mayDescribeGroup(caller(request), key)
                    ? CompletableFuture.completedFuture(noCoordinator(key,
                            KafkaAuthorization.groupDenied(request, AclOperation.DESCRIBE, key)))
                    : coordinator(version, keyType, key));
        }
        return request.onLoop(CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)), done -> {
            List<FindCoordinatorResponseData.Coordinator> found = each.stream().map(CompletableFuture::join).toList();
            if (version >= 4) {
                return KafkaResponse.send(new FindCoordinatorResponseData().setCoordinators(new ArrayList<>(found)));
            }
            FindCoordinatorResponseData.Coordinator c = found.get(0);
            return KafkaResponse.send(new FindCoordinatorResponseData()
                    .setErrorCode(c.errorCode())
                    .setErrorMessage(version >= 1 ? c.errorMessage() : null)
                    .setNodeId(c.nodeId())
                    .setHost(c.host())
                    .setPort(c.port()));
        });
    }

    private CompletableFuture<FindCoordinatorResponseData.Coordinator> coordinator(short version, byte keyType,
            String key) {
        if (keyType == CoordinatorType.GROUP.id()) {
            return groups.findCoordinator(key, BrokerRegistration.KAFKA_LISTENER)
                    .thenApply(found -> coordinator(key, found));
        }
        ApiError refused;
        if (keyType == CoordinatorType.TRANSACTION.id()) {
            refused = BrokerApi.noTransactionCoordinator(key);
        } else if (keyType == CoordinatorType.SHARE.id()) {
            refused = ApiError.of(ErrorCode.INVALID_REQUEST, "share groups are not served (key '%s')", key);
        } else {
            refused = ApiError.of(ErrorCode.INVALID_REQUEST, "unknown coordinator key type %d (0: group, 1:"
                    + " transaction, 2: share) in FindCoordinator v%d", keyType, version);
        }
        return CompletableFuture.completedFuture(noCoordinator(key, refused));
    }

    private static FindCoordinatorResponseData.Coordinator coordinator(String key, FindCoordinatorResponse found) {
        ApiError error = ApiError.fromProto(found.getError());
        if (error.isFailure()) {
            return noCoordinator(key, error);
        }
        return new FindCoordinatorResponseData.Coordinator().setKey(key).setNodeId(found.getNodeId())
                .setHost(found.getHost()).setPort(found.getPort()).setErrorCode(Errors.NONE.code());
    }

    /** Kafka's answer without a coordinator: Node.noNode() (id -1, no host, port -1). */
    private static FindCoordinatorResponseData.Coordinator noCoordinator(String key, ApiError error) {
        return new FindCoordinatorResponseData.Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1)
                .setErrorCode(KafkaErrors.code(error)).setErrorMessage(KafkaErrors.message(error));
    }

    // ---- OffsetCommit ----

    CompletableFuture<KafkaResponse> offsetCommit(KafkaRequest request) {
        OffsetCommitRequestData data = (OffsetCommitRequestData) request.body();
        short version = request.apiVersion();
        TopicNames names = new TopicNames(api.image(), version >= 10);
        ApiError groupDenied = authz.rules().mayUseGroup(caller(request), data.groupId()) ? null
                : KafkaAuthorization.groupDenied(request, AclOperation.READ, data.groupId());
        Map<String, Boolean> readable = new HashMap<>();
        OffsetCommitRequest.Builder commit = OffsetCommitRequest.newBuilder()
                .setGroupId(data.groupId())
                .setGenerationId(data.generationIdOrMemberEpoch())
                .setMemberId(data.memberId());
        if (data.groupInstanceId() != null) {
            commit.setGroupInstanceId(data.groupInstanceId());
        }
        for (OffsetCommitRequestTopic t : data.topics()) {
            String name = names.of(t.name(), t.topicId());
            if (name == null || groupDenied != null || !readable.computeIfAbsent(name,
                    n -> authz.rules().mayCommitOffset(caller(request), n))) {
                continue; // UNKNOWN_TOPIC_ID or an authorization failure, answered below
            }
            OffsetCommitTopic.Builder topic = OffsetCommitTopic.newBuilder().setName(name);
            for (OffsetCommitRequestPartition p : t.partitions()) {
                topic.addPartitions(OffsetCommitPartition.newBuilder()
                        .setPartition(p.partitionIndex())
                        .setCommittedOffset(p.committedOffset())
                        .setCommittedLeaderEpoch(p.committedLeaderEpoch())
                        .setMetadata(p.committedMetadata() == null ? "" : p.committedMetadata()));
            }
            commit.addTopics(topic);
        }
        CompletableFuture<OffsetCommitResponse> committed = commit.getTopicsCount() == 0
                ? CompletableFuture.completedFuture(OffsetCommitResponse.newBuilder()
                        .setError(ApiError.NONE.toProto()).build())
                : groups.commitOffsets(commit.build());
        return request.onLoop(committed, answer -> {
            Map<String, Map<Integer, ApiError>> errors = new HashMap<>();
            for (OffsetCommitTopicResponse t : answer.getTopicsList()) {
                for (OffsetCommitPartitionResponse p : t.getPartitionsList()) {
                    errors.computeIfAbsent(t.getName(), n -> new HashMap<>()).put(p.getPartition(),
                            ApiError.fromProto(p.getError()));
                }
            }
            ApiError whole = ApiError.fromProto(answer.getError());
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            for (OffsetCommitRequestTopic t : data.topics()) {
                String name = names.of(t.name(), t.topicId());
                OffsetCommitResponseTopic topic = version >= 10 ? new OffsetCommitResponseTopic()
                        .setTopicId(t.topicId()) : new OffsetCommitResponseTopic().setName(t.name());
                for (OffsetCommitRequestPartition p : t.partitions()) {
                    ApiError error = groupDenied != null ? groupDenied
                            : name == null ? unknownTopicId(t.topicId())
                            : !readable.get(name) ? KafkaAuthorization.topicDenied(request, AclOperation.READ, name)
                            : errors.getOrDefault(name, Map.of()).getOrDefault(p.partitionIndex(), whole);
                    topic.partitions().add(new OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(KafkaErrors.code(error)));
                }
                response.topics().add(topic);
            }
            return KafkaResponse.send(response);
        });
    }

    // ---- OffsetFetch ----

    /** One group of an OffsetFetch: its id and the topics asked for (null: every committed partition). */
    private record GroupFetch(String groupId, List<OffsetFetchRequestTopics> topics) {}

    CompletableFuture<KafkaResponse> offsetFetch(KafkaRequest request) {
        OffsetFetchRequestData data = (OffsetFetchRequestData) request.body();
        short version = request.apiVersion();
        List<GroupFetch> asked = new ArrayList<>();
        if (version >= 8) {
            for (OffsetFetchRequestGroup g : data.groups()) {
                asked.add(new GroupFetch(g.groupId(), g.topics()));
            }
        } else {
            List<OffsetFetchRequestTopics> topics = data.topics() == null ? null : data.topics().stream()
                    .map(t -> new OffsetFetchRequestTopics().setName(t.name())
                            .setPartitionIndexes(t.partitionIndexes())).toList();
            asked.add(new GroupFetch(data.groupId(), topics));
        }
        TopicNames names = new TopicNames(api.image(), version >= 10);
        List<CompletableFuture<OffsetFetchResponseGroup>> each = new ArrayList<>();
        for (GroupFetch g : asked) {
            each.add(authz.rules().mayDescribeGroup(caller(request), g.groupId()) ? fetchGroup(request, g, names)
                    : CompletableFuture.completedFuture(new OffsetFetchResponseGroup().setGroupId(g.groupId())
                            .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
        }
        return request.onLoop(CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)), done -> {
            List<OffsetFetchResponseGroup> answered = each.stream().map(CompletableFuture::join).toList();
            if (version >= 8) {
                return KafkaResponse.send(new OffsetFetchResponseData().setGroups(new ArrayList<>(answered)));
            }
            return KafkaResponse.send(singleGroup(version, asked.get(0), answered.get(0)));
        });
    }

    /** One group's answer, in the v8+ shape (topics by name, or by id where {@code names} uses ids). */
    private CompletableFuture<OffsetFetchResponseGroup> fetchGroup(KafkaRequest request, GroupFetch g,
            TopicNames names) {
        OffsetFetchRequest.Builder fetch = OffsetFetchRequest.newBuilder().setGroupId(g.groupId());
        Map<String, Boolean> describable = new HashMap<>();
        Predicate<String> mayDescribe = n -> describable.computeIfAbsent(n,
                x -> authz.rules().mayDescribeTopic(caller(request), x));
        if (g.topics() != null) {
            for (OffsetFetchRequestTopics t : g.topics()) {
                String name = names.of(t.name(), t.topicId());
                if (name != null && mayDescribe.test(name)) {
                    fetch.addTopics(OffsetFetchTopic.newBuilder().setName(name)
                            .addAllPartitions(t.partitionIndexes()));
                }
            }
        }
        // Topics asked for but none known (or an empty list): the coordinator reads every committed
        // partition, and the answer keeps only those asked for; the group's errors still come back.
        return groups.fetchOffsets(fetch.build()).thenApply(answer -> {
            ApiError whole = ApiError.fromProto(answer.getError());
            OffsetFetchResponseGroup out = new OffsetFetchResponseGroup().setGroupId(g.groupId())
                    .setErrorCode(KafkaErrors.code(whole));
            if (whole.isFailure()) {
                return out;
            }
            Map<String, Map<Integer, OffsetFetchPartitionResponse>> committed = new HashMap<>();
            for (OffsetFetchTopicResponse t : answer.getTopicsList()) {
                for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                    committed.computeIfAbsent(t.getName(), n -> new HashMap<>()).put(p.getPartition(), p);
                }
            }
            if (g.topics() == null) {
                for (OffsetFetchTopicResponse t : answer.getTopicsList()) {
                    Uuid id = names.idOf(t.getName());
                    if (names.byId() && id == null) {
                        continue; // a committed topic deleted since: v10 names topics by id only
                    }
                    if (!mayDescribe.test(t.getName())) {
                        continue; // as Kafka: every committed topic means every one the principal may describe
                    }
                    OffsetFetchResponseTopics topic = topicOf(names, t.getName(), id);
                    t.getPartitionsList().forEach(p -> topic.partitions().add(partition(p.getPartition(), p, null)));
                    out.topics().add(topic);
                }
                return out;
            }
            for (OffsetFetchRequestTopics t : g.topics()) {
                String name = names.of(t.name(), t.topicId());
                OffsetFetchResponseTopics topic = topicOf(names, t.name(), t.topicId());
                for (int p : t.partitionIndexes()) {
                    topic.partitions().add(name == null ? partition(p, null, unknownTopicId(t.topicId()))
                            : !mayDescribe.test(name) ? partition(p, null,
                                    KafkaAuthorization.topicDenied(request, AclOperation.DESCRIBE, name))
                            : partition(p, committed.getOrDefault(name, Map.of()).get(p), null));
                }
                out.topics().add(topic);
            }
            return out;
        });
    }

    private static OffsetFetchResponseTopics topicOf(TopicNames names, String name, Uuid id) {
        return names.byId() ? new OffsetFetchResponseTopics().setTopicId(id) : new OffsetFetchResponseTopics()
                .setName(name);
    }

    /** A partition's committed offset, -1 without a commit, or {@code error} (then -1 as well). */
    private static OffsetFetchResponsePartitions partition(int index, OffsetFetchPartitionResponse p,
            ApiError error) {
        OffsetFetchResponsePartitions out = new OffsetFetchResponsePartitions().setPartitionIndex(index)
                .setCommittedOffset(-1).setCommittedLeaderEpoch(-1).setMetadata("");
        if (error != null) {
            return out.setErrorCode(KafkaErrors.code(error));
        }
        if (p == null) {
            return out.setErrorCode(Errors.NONE.code());
        }
        return out.setCommittedOffset(p.getCommittedOffset()).setCommittedLeaderEpoch(p.getCommittedLeaderEpoch())
                .setMetadata(p.getMetadata()).setErrorCode(KafkaErrors.code(ApiError.fromProto(p.getError())));
    }

    /**
     * A v1-7 answer: one group's topics at the top level with its error (v2+); v1 has no
     * group-level error, so each partition asked for carries it, as Kafka answers v1.
     */
    private static OffsetFetchResponseData singleGroup(short version, GroupFetch asked, OffsetFetchResponseGroup g) {
        OffsetFetchResponseData out = new OffsetFetchResponseData();
        if (version >= 2) {
            out.setErrorCode(g.errorCode());
        } else if (g.errorCode() != Errors.NONE.code() && asked.topics() != null) {
            for (OffsetFetchRequestTopics t : asked.topics()) {
                OffsetFetchResponseTopic topic = new OffsetFetchResponseTopic().setName(t.name());
                for (int p : t.partitionIndexes()) {
                    topic.partitions().add(new OffsetFetchResponsePartition().setPartitionIndex(p)
                            .setCommittedOffset(-1).setMetadata("").setErrorCode(g.errorCode()));
                }
                out.topics().add(topic);
            }
            return out;
        }
        for (OffsetFetchResponseTopics t : g.topics()) {
            OffsetFetchResponseTopic topic = new OffsetFetchResponseTopic().setName(t.name());
            for (OffsetFetchResponsePartitions p : t.partitions()) {
                topic.partitions().add(new OffsetFetchResponsePartition().setPartitionIndex(p.partitionIndex())
                        .setCommittedOffset(p.committedOffset()).setCommittedLeaderEpoch(p.committedLeaderEpoch())
                        .setMetadata(p.metadata()).setErrorCode(p.errorCode()));
            }
            out.topics().add(topic);
        }
        return out;
    }

    // ---- topics by name or id ----

    private static ApiError unknownTopicId(Uuid id) {
        return ApiError.of(ErrorCode.UNKNOWN_TOPIC_ID, "no topic has id %s", id);
    }

    /**
     * Topic names and ids in one request, from one metadata image: by name (v0-9), or by id (v10+:
     * a name is resolved from its id; null when no topic has it).
     */
    private static final class TopicNames {
        private final MetadataImage image;
        private final boolean byId;

        TopicNames(MetadataImage image, boolean byId) {
            this.image = image;
            this.byId = byId;
        }

        boolean byId() {
            return byId;
        }

        /** The topic's name; null for an id no topic has. */
        String of(String name, Uuid id) {
            if (!byId) {
                return name;
            }
            TopicImage topic = id == null || id.equals(Uuid.ZERO_UUID) ? null : image.topic(KafkaIds.fromKafka(id));
            return topic == null ? null : topic.name();
        }

        /** The id of the topic named so; null when there is none. */
        Uuid idOf(String name) {
            TopicImage topic = image.topic(name);
            return topic == null ? null : KafkaIds.toKafka(topic.id());
        }
    }
}
