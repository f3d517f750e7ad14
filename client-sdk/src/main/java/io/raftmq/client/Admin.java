package io.raftmq.client;

import io.raftmq.client.errors.GroupIdNotFoundException;
import io.raftmq.client.errors.GroupNotEmptyException;
import io.raftmq.client.errors.InvalidConfigException;
import io.raftmq.client.errors.InvalidPartitionsException;
import io.raftmq.client.errors.InvalidReplicationFactorException;
import io.raftmq.client.errors.InvalidTopicException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.UnknownTopicException;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DeleteGroupsResponse;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.DescribeGroupsRequest;
import io.raftmq.protocol.broker.DescribeGroupsResponse;
import io.raftmq.protocol.broker.DescribedGroup;
import io.raftmq.protocol.broker.DescribedGroupMember;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListGroupsResponse;
import io.raftmq.protocol.broker.ListedGroup;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.OffsetDeletePartitionResponse;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetDeleteTopic;
import io.raftmq.protocol.broker.OffsetDeleteTopicResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.common.Uuid;
import io.raftmq.protocol.controller.AclFilter;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.BrokerDescription;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.DeleteAclsFilterResult;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.DescribeAclsRequest;
import io.raftmq.protocol.controller.DescribeAclsResponse;
import io.raftmq.protocol.metadata.AclEntry;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
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
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsRequest;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.TopicDescription;
import io.raftmq.protocol.controller.UserScramCredentialResult;
import io.raftmq.protocol.controller.UserScramCredentialsDescription;
import io.raftmq.protocol.controller.VoterDescription;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Administers topics, the cluster view, consumer groups and ACLs. Every method blocks until the cluster
 * answered (retrying retriable errors, e.g. a controller change, up to default.api.timeout.ms) and
 * reports failures as typed {@link RaftmqException}s carrying the broker's message. Thread-safe.
 */
public final class Admin implements AutoCloseable {
    /** The internal topic holding committed offsets; hidden by {@link #listTopics()}. */
    public static final String CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";

    /** A created topic as the controller reports it. */
    public record CreatedTopic(String name, UUID topicId, int numPartitions, int replicationFactor) {}

    /** A partition's replicas; leader -1 when it has none. */
    public record PartitionDescription(int partition, int leader, int leaderEpoch, List<Integer> replicas,
            List<Integer> isr) {}

    /** A topic: id, partitions, and its config overrides (empty when the broker cannot tell them). */
    public record TopicInfo(String name, UUID topicId, List<PartitionDescription> partitions,
            Map<String, String> configs) {}

    /** Where a broker listens for one protocol: "grpc" (raftmq's own), "kafka" (the Kafka protocol). */
    public record BrokerEndpoint(String listener, String host, int port) {}

    /**
     * A broker: fenced (session expired or not caught up), unfenced, or shutting down. {@code host}
     * and {@code port} are its gRPC endpoint; {@code endpoints} every endpoint it registered, in
     * its order.
     */
    public record BrokerNode(int id, long epoch, String host, int port, String rack, String state,
            List<BrokerEndpoint> endpoints) {
        public boolean fenced() {
            return state.equals("FENCED");
        }
    }

    /** A voter of the metadata quorum. */
    public record Voter(int nodeId, String raftHost, int raftPort, boolean leader) {}

    /** @param clusterId the cluster's id (Kafka's 22-character form); null until the controller has chosen it */
    public record ClusterInfo(int controllerId, long controllerEpoch, List<Voter> voters, List<BrokerNode> brokers,
            long metadataOffset, String clusterId) {}

    public record GroupListing(String groupId, String state, int coordinatorId) {}

    public record MemberDescription(String memberId, String clientId, String clientHost, List<String> topics,
            List<TopicPartition> assignment) {}

    public record GroupDescription(String groupId, String state, String assignor, int generationId,
            int coordinatorId, List<MemberDescription> members) {}

    /** Committed offset (-1 when none), the partition's log end, and the difference. */
    public record PartitionLag(TopicPartition partition, long committedOffset, long logEndOffset, long lag) {}

    private final AdminConfig config;
    private final BrokerChannels channels;
    private final ClusterMetadata metadata;
    private final Rpc rpc;
    private final CoordinatorLookup coordinators;
    private final OffsetLookup offsets;
    private final long apiTimeoutMs;
    /**
     * The highest metadata offset any answer to this admin has carried (-1: none yet). Reads pass
     * it as their minimum, so one admin never sees the cluster older than it already has, its own
     * changes included, whichever broker or voter answers. Any thread (atomic).
     */
    private final AtomicLong seenMetadataOffset = new AtomicLong(-1);

    public Admin(AdminConfig config) {
        this.config = config;
        String id = config.values.string(AdminConfig.CLIENT_ID);
        String clientId = id.isEmpty() ? "admin-" + UUID.randomUUID().toString().substring(0, 8) : id;
        long requestTimeoutMs = config.values.intValue(AdminConfig.REQUEST_TIMEOUT_MS);
        long backoffMs = config.values.longValue(CommonConfigs.RETRY_BACKOFF_MS);
        this.channels = BrokerChannels.of(clientId, config.values);
        this.metadata = new ClusterMetadata(clientId, channels, config.bootstrap, requestTimeoutMs, backoffMs,
                config.values.longValue(CommonConfigs.METADATA_MAX_AGE_MS), System::currentTimeMillis);
        this.rpc = new Rpc(metadata, requestTimeoutMs, backoffMs, System::currentTimeMillis);
        this.coordinators = new CoordinatorLookup(rpc, channels);
        this.offsets = new OffsetLookup(metadata, channels, rpc, requestTimeoutMs, backoffMs);
        this.apiTimeoutMs = config.values.longValue(AdminConfig.DEFAULT_API_TIMEOUT_MS);
    }

    public Admin(Properties properties) {
        this(AdminConfig.fromProperties(properties));
    }

    private long deadline() {
        return rpc.now() + apiTimeoutMs;
    }

    private void saw(long metadataOffset) {
        seenMetadataOffset.accumulateAndGet(metadataOffset, Math::max);
    }

    // ---- topics ----

    public CreatedTopic createTopic(NewTopic topic) {
        return createTopics(List.of(topic)).get(0);
    }

    /**
     * Creates the topics in one request. Throws the first topic's error (e.g. {@link
     * TopicExistsException}, {@link InvalidTopicException}, {@link InvalidReplicationFactorException}
     * (also for a replica assignment the controller refuses), {@link InvalidConfigException}); topics
     * without an error were created.
     */
    public List<CreatedTopic> createTopics(Collection<NewTopic> topics) {
        CreateTopicsRequest.Builder request = CreateTopicsRequest.newBuilder();
        for (NewTopic t : topics) {
            CreatableTopic.Builder c = CreatableTopic.newBuilder().setName(t.name());
            if (t.numPartitions() != -1) {
                c.setNumPartitions(t.numPartitions());
            }
            if (t.replicationFactor() != -1) {
                c.setReplicationFactor(t.replicationFactor());
            }
            t.configs().forEach((k, v) -> c.addConfigs(ConfigEntry.newBuilder().setKey(k).setValue(v)));
            t.replicasAssignments().forEach((partition, brokers) -> c.addAssignments(CreatableReplicaAssignment
                    .newBuilder().setPartitionIndex(partition).addAllBrokerIds(brokers)));
            request.addTopics(c);
        }
        CreateTopicsResponse response = rpc.callAny("CreateTopics",
                (b, timeout) -> channels.broker(b, timeout).createTopics(request.build()),
                CreateTopicsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        List<CreatedTopic> out = new ArrayList<>();
        for (CreatableTopicResult r : response.getTopicsList()) {
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(r.getError());
            }
            out.add(new CreatedTopic(r.getName(), uuid(r.getTopicId()), r.getNumPartitions(),
                    r.getReplicationFactor()));
        }
        return out;
    }

    /** Topic names, without internal topics such as {@value #CONSUMER_OFFSETS_TOPIC}. */
    public List<String> listTopics() {
        return listTopics(false);
    }

    public List<String> listTopics(boolean includeInternal) {
        MetadataResponse r = rpc.callAny("Metadata", (b, t) -> channels.broker(b, t)
                .metadata(MetadataRequest.getDefaultInstance()), MetadataResponse::getError, deadline());
        TreeSet<String> names = new TreeSet<>();
        for (TopicMetadata t : r.getTopicsList()) {
            if (includeInternal || !t.getName().startsWith("__")) {
                names.add(t.getName());
            }
        }
        return List.copyOf(names);
    }

    /**
     * Partitions (leader, replicas, ISR) and config overrides of the topics.
     *
     * @throws UnknownTopicException when a topic does not exist
     */
    public Map<String, TopicInfo> describeTopics(Collection<String> names) {
        // A topic created a moment ago may not have reached the broker asked yet: ask again briefly.
        for (int attempt = 1; ; attempt++) {
            try {
                return describeTopicsOnce(names);
            } catch (UnknownTopicException e) {
                if (attempt >= 5) {
                    throw e;
                }
                metadata.rotate();
                Rpc.sleep(100L * attempt);
            }
        }
    }

    private Map<String, TopicInfo> describeTopicsOnce(Collection<String> names) {
        Map<String, TopicInfo> out = new LinkedHashMap<>();
        DescribeTopicsResponse response;
        try {
            response = rpc.callAny("DescribeTopics", (b, t) -> channels.broker(b, t).describeTopics(
                    DescribeTopicsRequest.newBuilder().addAllNames(names).setMinMetadataOffset(seenMetadataOffset.get())
                            .build()),
                    DescribeTopicsResponse::getError, deadline());
            saw(response.getMetadataOffset());
        } catch (RaftmqException e) {
            if (e.code() != ErrorCode.UNSUPPORTED_VERSION) {
                throw e;
            }
            return describeTopicsFromMetadata(names);
        }
        for (TopicDescription t : response.getTopicsList()) {
            if (t.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(t.getError());
            }
            List<PartitionDescription> parts = new ArrayList<>();
            for (PartitionState p : t.getPartitionsList()) {
                parts.add(new PartitionDescription(p.getPartitionId(), p.getLeader(), p.getLeaderEpoch(),
                        List.copyOf(p.getReplicasList()), List.copyOf(p.getIsrList())));
            }
            parts.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
            Map<String, String> configs = new TreeMap<>();
            for (ConfigEntry c : t.getConfigsList()) {
                configs.put(c.getKey(), c.getValue());
            }
            out.put(t.getName(), new TopicInfo(t.getName(), uuid(t.getTopicId()), List.copyOf(parts),
                    Map.copyOf(configs)));
        }
        return out;
    }

    /** Brokers that do not serve DescribeTopics yet: partitions from Metadata, no configs. */
    private Map<String, TopicInfo> describeTopicsFromMetadata(Collection<String> names) {
        MetadataResponse r = rpc.callAny("Metadata", (b, t) -> channels.broker(b, t)
                .metadata(MetadataRequest.newBuilder().addAllTopics(names).build()), MetadataResponse::getError,
                deadline());
        Map<String, TopicInfo> out = new LinkedHashMap<>();
        for (TopicMetadata t : r.getTopicsList()) {
            if (t.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(t.getError());
            }
            List<PartitionDescription> parts = new ArrayList<>();
            for (PartitionMetadata p : t.getPartitionsList()) {
                parts.add(new PartitionDescription(p.getPartition(), p.getLeader(), p.getLeaderEpoch(),
                        List.copyOf(p.getReplicasList()), List.copyOf(p.getIsrList())));
            }
            out.put(t.getName(), new TopicInfo(t.getName(), uuid(t.getTopicId()), List.copyOf(parts), Map.of()));
        }
        return out;
    }

    /**
     * Raises partition counts to the given totals.
     *
     * @throws InvalidPartitionsException when a count is not above the current one
     */
    public void createPartitions(Map<String, Integer> newTotals) {
        CreatePartitionsRequest.Builder request = CreatePartitionsRequest.newBuilder();
        newTotals.forEach((name, count) -> request.addTopics(CreatePartitionsTopic.newBuilder().setName(name)
                .setCount(count)));
        CreatePartitionsResponse response = rpc.callAny("CreatePartitions",
                (b, t) -> channels.broker(b, t).createPartitions(request.build()),
                CreatePartitionsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        for (CreatePartitionsTopicResult r : response.getTopicsList()) {
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(r.getError());
            }
        }
    }

    /** @throws UnknownTopicException when a topic does not exist */
    public void deleteTopics(Collection<String> names) {
        DeleteTopicsResponse response = rpc.callAny("DeleteTopics",
                (b, t) -> channels.broker(b, t).deleteTopics(DeleteTopicsRequest.newBuilder().addAllNames(names)
                        .build()),
                DeleteTopicsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        for (DeletableTopicResult r : response.getTopicsList()) {
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(r.getError());
            }
        }
    }

    // ---- SCRAM users (the Kafka listener's SASL users) ----

    /**
     * Sets {@code user}'s credential of {@code mechanism} (SCRAM-SHA-256 or SCRAM-SHA-512) to
     * {@code password}, salted and hashed here with {@code iterations} (4096..16384): only the
     * salted password is sent.
     *
     * @throws RaftmqException the controller's refusal (UNACCEPTABLE_CREDENTIAL,
     *     UNSUPPORTED_SASL_MECHANISM) with its message
     */
    public void upsertScramCredential(String user, String mechanism, int iterations, String password) {
        alterScramCredentials(AlterUserScramCredentialsRequest.newBuilder()
                .addUpsertions(ScramUsers.upsertion(user, mechanism, iterations, password)).build());
    }

    /** @throws RaftmqException RESOURCE_NOT_FOUND when the user has no credential of {@code mechanism} */
    public void deleteScramCredential(String user, String mechanism) {
        alterScramCredentials(AlterUserScramCredentialsRequest.newBuilder()
                .addDeletions(ScramUsers.deletion(user, mechanism)).build());
    }

    private void alterScramCredentials(AlterUserScramCredentialsRequest request) {
        AlterUserScramCredentialsResponse response = rpc.callAny("AlterUserScramCredentials",
                (b, t) -> channels.broker(b, t).alterUserScramCredentials(request),
                AlterUserScramCredentialsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        for (UserScramCredentialResult r : response.getResultsList()) {
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(r.getError());
            }
        }
    }

    /** A user's credential: its mechanism's Kafka name and its iterations (never a key). */
    public record ScramCredentialInfo(String mechanism, int iterations) {}

    /**
     * The credentials of {@code users} (every user with one when empty), by user in the order
     * answered.
     *
     * @throws RaftmqException RESOURCE_NOT_FOUND for a named user without credentials
     */
    public Map<String, List<ScramCredentialInfo>> describeScramCredentials(Collection<String> users) {
        DescribeUserScramCredentialsResponse response = rpc.callAny("DescribeUserScramCredentials",
                (b, t) -> channels.broker(b, t).describeUserScramCredentials(DescribeUserScramCredentialsRequest
                        .newBuilder().addAllUsers(users).build()),
                DescribeUserScramCredentialsResponse::getError, deadline());
        Map<String, List<ScramCredentialInfo>> out = new LinkedHashMap<>();
        for (UserScramCredentialsDescription user : response.getUsersList()) {
            if (user.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(user.getError());
            }
            out.put(user.getUser(), user.getCredentialsList().stream().map(c -> new ScramCredentialInfo(
                    ScramUsers.name(c.getMechanism()), c.getIterations())).toList());
        }
        return out;
    }

    // ---- cluster ----

    public ClusterInfo describeCluster() {
        DescribeClusterResponse r = rpc.callAny("DescribeCluster",
                (b, t) -> channels.broker(b, t).describeCluster(DescribeClusterRequest.newBuilder()
                        .setMinMetadataOffset(seenMetadataOffset.get()).build()),
                DescribeClusterResponse::getError, deadline());
        saw(r.getMetadataOffset());
        List<Voter> voters = new ArrayList<>();
        for (VoterDescription v : r.getVotersList()) {
            voters.add(new Voter(v.getNodeId(), v.getRaftHost(), v.getRaftPort(), v.getIsLeader()));
        }
        List<BrokerNode> brokers = new ArrayList<>();
        for (BrokerDescription b : r.getBrokersList()) {
            Endpoint e = b.getEndpointsList().stream().filter(x -> x.getListener().equals("grpc")).findFirst()
                    .orElse(b.getEndpointsCount() > 0 ? b.getEndpoints(0) : Endpoint.getDefaultInstance());
            List<BrokerEndpoint> endpoints = b.getEndpointsList().stream()
                    .map(x -> new BrokerEndpoint(x.getListener(), x.getHost(), x.getPort())).toList();
            brokers.add(new BrokerNode(b.getBrokerId(), b.getBrokerEpoch(), e.getHost(), e.getPort(), b.getRack(),
                    b.getState().name(), endpoints));
        }
        return new ClusterInfo(r.hasController() ? r.getController().getControllerId() : -1, r.getControllerEpoch(),
                List.copyOf(voters), List.copyOf(brokers), r.getMetadataOffset(),
                r.getClusterId().isEmpty() ? null : r.getClusterId());
    }

    // ---- groups ----

    /** Every group of the cluster: each broker lists the groups it coordinates. */
    public List<GroupListing> listGroups() {
        metadata.refresh(deadline());
        Map<String, GroupListing> groups = new TreeMap<>();
        for (BrokerAddress broker : metadata.snapshot().brokers().values()) {
            ListGroupsResponse r = rpc.call("ListGroups on " + broker, () -> broker,
                    (b, t) -> channels.group(b, t).listGroups(ListGroupsRequest.getDefaultInstance()),
                    ListGroupsResponse::getError, deadline());
            for (ListedGroup g : r.getGroupsList()) {
                groups.put(g.getGroupId(), new GroupListing(g.getGroupId(), g.getState(), g.getCoordinatorId()));
            }
        }
        return List.copyOf(groups.values());
    }

    /** @throws GroupIdNotFoundException when a group is unknown to its coordinator */
    public Map<String, GroupDescription> describeGroups(Collection<String> groupIds) {
        Map<String, GroupDescription> out = new LinkedHashMap<>();
        for (String groupId : groupIds) {
            DescribeGroupsResponse r = coordinatorCall("DescribeGroups", groupId,
                    (b, t) -> channels.group(b, t).describeGroups(DescribeGroupsRequest.newBuilder()
                            .addGroupIds(groupId).build()),
                    DescribeGroupsResponse::getError);
            for (DescribedGroup g : r.getGroupsList()) {
                if (g.getError().getCode() != ErrorCode.NONE) {
                    throw Errors.exception(g.getError());
                }
                List<MemberDescription> members = new ArrayList<>();
                for (DescribedGroupMember m : g.getMembersList()) {
                    members.add(new MemberDescription(m.getMemberId(), m.getClientId(), m.getClientHost(),
                            List.copyOf(m.getSubscribedTopicsList()), toPartitions(m.getAssignmentList())));
                }
                out.put(g.getGroupId(), new GroupDescription(g.getGroupId(), g.getState(), g.getAssignor(),
                        g.getGenerationId(), g.getCoordinatorId(), List.copyOf(members)));
            }
        }
        return out;
    }

    /** The group's committed offsets, every partition it committed. */
    public Map<TopicPartition, OffsetAndMetadata> listConsumerGroupOffsets(String groupId) {
        OffsetFetchResponse r = coordinatorCall("OffsetFetch", groupId,
                (b, t) -> channels.group(b, t).offsetFetch(OffsetFetchRequest.newBuilder().setGroupId(groupId)
                        .build()),
                OffsetFetchResponse::getError);
        Map<TopicPartition, OffsetAndMetadata> out = new TreeMap<>(
                (a, b) -> a.topic().equals(b.topic()) ? Integer.compare(a.partition(), b.partition())
                        : a.topic().compareTo(b.topic()));
        for (OffsetFetchTopicResponse t : r.getTopicsList()) {
            for (OffsetFetchPartitionResponse p : t.getPartitionsList()) {
                if (p.getError().getCode() != ErrorCode.NONE) {
                    throw Errors.exception(p.getError());
                }
                if (p.getCommittedOffset() >= 0) {
                    out.put(new TopicPartition(t.getName(), p.getPartition()), new OffsetAndMetadata(
                            p.getCommittedOffset(), p.getCommittedLeaderEpoch() < 0 ? Optional.empty()
                                    : Optional.of(p.getCommittedLeaderEpoch()), p.getMetadata()));
                }
            }
        }
        return out;
    }

    /** Per committed partition: committed offset, log end (latest offset) and lag. */
    public List<PartitionLag> groupLag(String groupId) {
        Map<TopicPartition, OffsetAndMetadata> committed = listConsumerGroupOffsets(groupId);
        Map<TopicPartition, Long> specs = new HashMap<>();
        committed.keySet().forEach(tp -> specs.put(tp, OffsetLookup.LATEST));
        Map<TopicPartition, Long> ends = offsets.list(specs, deadline());
        List<PartitionLag> out = new ArrayList<>();
        committed.forEach((tp, c) -> {
            long end = ends.getOrDefault(tp, -1L);
            out.add(new PartitionLag(tp, c.offset(), end, end < 0 ? -1 : Math.max(0, end - c.offset())));
        });
        return out;
    }

    /** @throws GroupNotEmptyException when a group still has members */
    public void deleteGroups(Collection<String> groupIds) {
        for (String groupId : groupIds) {
            DeleteGroupsResponse r = coordinatorCall("DeleteGroups", groupId,
                    (b, t) -> channels.group(b, t).deleteGroups(DeleteGroupsRequest.newBuilder().addGroupIds(groupId)
                            .build()),
                    DeleteGroupsResponse::getError);
            for (DeletedGroup g : r.getGroupsList()) {
                if (g.getError().getCode() != ErrorCode.NONE) {
                    throw Errors.exception(g.getError());
                }
            }
        }
    }

    /**
     * Deletes the group's committed offsets of {@code partitions}. A partition of a topic that a
     * member of the group subscribes to keeps its offset (GROUP_SUBSCRIBED_TO_TOPIC); a partition
     * without a commit is not an error.
     *
     * @throws GroupIdNotFoundException when the group does not exist
     */
    public void deleteConsumerGroupOffsets(String groupId, Collection<TopicPartition> partitions) {
        Map<String, OffsetDeleteTopic.Builder> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), t -> OffsetDeleteTopic.newBuilder().setName(t))
                    .addPartitions(tp.partition());
        }
        OffsetDeleteRequest.Builder request = OffsetDeleteRequest.newBuilder().setGroupId(groupId);
        byTopic.values().forEach(request::addTopics);
        OffsetDeleteResponse r = coordinatorCall("OffsetDelete", groupId,
                (b, t) -> channels.group(b, t).offsetDelete(request.build()), OffsetDeleteResponse::getError);
        for (OffsetDeleteTopicResponse t : r.getTopicsList()) {
            for (OffsetDeletePartitionResponse p : t.getPartitionsList()) {
                if (p.getError().getCode() != ErrorCode.NONE) {
                    throw Errors.exception(p.getError());
                }
            }
        }
    }

    /**
     * Sends to the group's coordinator, finding it again before every retry: after NOT_COORDINATOR,
     * and after a transport failure (the coordinator's node may be gone).
     */
    private <T> T coordinatorCall(String what, String groupId, Rpc.Attempt<T> attempt,
            java.util.function.Function<T, io.raftmq.protocol.common.Error> errorOf) {
        long deadline = deadline();
        return rpc.call(what + " for group '" + groupId + "'", () -> coordinators.find(groupId, deadline).address(),
                attempt, errorOf, deadline);
    }

    static List<TopicPartition> toPartitions(List<TopicPartitions> list) {
        List<TopicPartition> out = new ArrayList<>();
        for (TopicPartitions t : list) {
            for (int p : t.getPartitionsList()) {
                out.add(new TopicPartition(t.getTopic(), p));
            }
        }
        return List.copyOf(out);
    }

    // ---- ACLs ----

    /**
     * Adds the ACLs (an ACL that exists already is left as it is). Throws the first one's error
     * (a {@link RaftmqException} with code INVALID_REQUEST naming what is wrong with it); the others were
     * added.
     */
    public void createAcls(Collection<Acl> acls) {
        CreateAclsRequest.Builder request = CreateAclsRequest.newBuilder();
        acls.forEach(a -> request.addAcls(entry(a)));
        CreateAclsResponse response = rpc.callAny("CreateAcls", (b, t) -> channels.broker(b, t)
                .createAcls(request.build()), CreateAclsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        for (io.raftmq.protocol.common.Error e : response.getResultsList()) {
            if (e.getCode() != ErrorCode.NONE) {
                throw Errors.exception(e);
            }
        }
    }

    /** The ACLs the filter matches, as a broker's metadata has them. */
    public List<Acl> describeAcls(Acl.Filter filter) {
        DescribeAclsResponse response = rpc.callAny("DescribeAcls", (b, t) -> channels.broker(b, t)
                .describeAcls(DescribeAclsRequest.newBuilder().setFilter(filter(filter))
                        .setMinMetadataOffset(seenMetadataOffset.get()).build()), DescribeAclsResponse::getError,
                deadline());
        saw(response.getMetadataOffset());
        return response.getAclsList().stream().map(Admin::acl).toList();
    }

    /** Removes every ACL the filter matches; returns them. */
    public List<Acl> deleteAcls(Acl.Filter filter) {
        DeleteAclsResponse response = rpc.callAny("DeleteAcls", (b, t) -> channels.broker(b, t)
                .deleteAcls(DeleteAclsRequest.newBuilder().addFilters(filter(filter)).build()),
                DeleteAclsResponse::getError, deadline());
        saw(response.getMetadataOffset());
        DeleteAclsFilterResult result = response.getResults(0);
        if (result.getError().getCode() != ErrorCode.NONE) {
            throw Errors.exception(result.getError());
        }
        return result.getRemovedList().stream().map(Admin::acl).toList();
    }

    private static AclEntry entry(Acl a) {
        return AclEntry.newBuilder().setResourceType(a.resourceType().code()).setResourceName(a.resourceName())
                .setPatternType(a.patternType().code()).setPrincipal(a.principal()).setHost(a.host())
                .setOperation(a.operation().code()).setPermissionType(a.permission().code()).build();
    }

    private static AclFilter filter(Acl.Filter f) {
        AclFilter.Builder out = AclFilter.newBuilder()
                .setResourceType(f.resourceType() == null ? Acl.ANY : f.resourceType().code())
                .setPatternType(f.patternType() == null ? Acl.ANY : f.patternType().code())
                .setOperation(f.operation() == null ? Acl.ANY : f.operation().code())
                .setPermissionType(f.permission() == null ? Acl.ANY : f.permission().code());
        if (f.resourceName() != null) {
            out.setResourceName(f.resourceName());
        }
        if (f.principal() != null) {
            out.setPrincipal(f.principal());
        }
        if (f.host() != null) {
            out.setHost(f.host());
        }
        return out.build();
    }

    private static Acl acl(AclEntry e) {
        return new Acl(Acl.fromCode(Acl.ResourceType.class, e.getResourceType()), e.getResourceName(),
                Acl.fromCode(Acl.PatternType.class, e.getPatternType()), e.getPrincipal(), e.getHost(),
                Acl.fromCode(Acl.Operation.class, e.getOperation()),
                Acl.fromCode(Acl.Permission.class, e.getPermissionType()));
    }

    private static UUID uuid(Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    AdminConfig config() {
        return config;
    }

    @Override
    public void close() {
        channels.close();
    }
}
