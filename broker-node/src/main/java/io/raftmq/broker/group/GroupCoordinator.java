package io.raftmq.broker.group;

import io.grpc.BindableService;
import io.raftmq.broker.Authorization;
import io.raftmq.common.ApiError;
import io.raftmq.common.EventLoop;
import io.raftmq.common.Time;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DeleteGroupsResponse;
import io.raftmq.protocol.broker.DeletedGroup;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListGroupsResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatableTopicResult;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.replication.LeadershipListener;
import io.raftmq.replication.Partition;
import io.raftmq.replication.ReplicaManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of one broker: for each partition of __consumer_offsets this broker leads,
 * a {@link GroupShard} rebuilt from that partition's log, which coordinates the groups that hash to
 * it (group -> partition {@code abs(groupId.hashCode()) % partitions}, as Kafka computes it).
 *
 * <pre>
 *   ReplicaManager --become leader (p, epoch)--> LOADING(p) --loader replays the log--> LOADED(p)
 *   ReplicaManager --stop leading (p)--> shard closed (waiting calls: NOT_COORDINATOR), dropped
 * </pre>
 *
 * <p>Every group id a request names is checked first ({@link GroupIds}: INVALID_GROUP_ID). The
 * public request methods are protocol-neutral: the gRPC service and the Kafka listener both call
 * them, so a group is one group whichever protocol speaks to it.
 *
 * <p>Requests for a group whose partition is not led here get NOT_COORDINATOR, and
 * COORDINATOR_LOAD_IN_PROGRESS while it loads, or while {@code queued.max.requests} requests
 * already wait for the loop (back-pressure: nothing of the request is queued; clients retry). A
 * loaded partition whose log holds more superseded records than {@code
 * offsets.checkpoint.min.records} and than live ones is checkpointed: every
 * live group and offset is rewritten, and once that is committed the log start moves to the
 * checkpoint's first offset (followers follow), so that the log stays about twice the live state.
 *
 * <p>Threads: every shard, and the slot map, are owned by one event loop thread
 * ("group-coordinator-N"); gRPC threads, the metadata thread and replication callbacks only
 * enqueue onto it. Loading reads the log on a separate loader thread into a shard nobody else
 * sees yet, then hands it to the loop. Timers (session expiry, join deadlines) are deferred events
 * on the loop, on the injected {@link Time}.
 *
 * <p>Life cycle: construct, {@link ReplicaManager#addLeadershipListener} it (done by the
 * constructor), {@link #start()}, {@link #close()}.
 */
public final class GroupCoordinator implements LeadershipListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);
    static final String OFFSETS_TOPIC = GroupCoordinatorConfig.OFFSETS_TOPIC;
    /** Kafka's queued.max.requests default. */
    static final int DEFAULT_MAX_QUEUED_REQUESTS = 500;
    /** Kafka's group type of every group here (the classic protocol; KIP-848's "consumer" is not served). */
    static final String CLASSIC_GROUP_TYPE = "classic";
    /** How long FindCoordinator waits for __consumer_offsets to be created and known here. */
    static final long CREATE_TOPIC_WAIT_MS = 10_000;

    /** Creates topics through the active controller, and waits for this broker's metadata to reach an offset. */
    public interface TopicCreator {
        CompletableFuture<CreateTopicsResponse> createTopics(CreateTopicsRequest request);

        CompletableFuture<MetadataImage> whenApplied(long metadataOffset);
    }

    /** A partition this broker leads: its shard once loaded. Loop thread only. */
    private static final class Slot {
        final int leaderEpoch;
        final OffsetsPartitionLog log;
        GroupShard shard;
        String loadFailure;
        boolean checkpointing;

        Slot(int leaderEpoch, OffsetsPartitionLog log) {
            this.leaderEpoch = leaderEpoch;
            this.log = log;
        }
    }

    private final int brokerId;
    private final GroupCoordinatorConfig config;
    private final ReplicaManager replicas;
    private final Supplier<MetadataImage> metadata;
    private final TopicCreator topicCreator;
    private final Time time;
    private final EventLoop loop;
    private final int maxQueuedRequests;
    private final ExecutorService loader;
    private final String logPrefix;
    // Loop thread only.
    private final Map<Integer, Slot> slots = new HashMap<>();
    // Guarded by this: the creation of __consumer_offsets in flight, if any.
    private CompletableFuture<MetadataImage> creating;

    public GroupCoordinator(int brokerId, GroupCoordinatorConfig config, ReplicaManager replicas,
            Supplier<MetadataImage> metadata, TopicCreator topicCreator, Time time) {
        this(brokerId, config, replicas, metadata, topicCreator, time, DEFAULT_MAX_QUEUED_REQUESTS);
    }

    /** @param maxQueuedRequests client requests that may wait for the loop (queued.max.requests) */
    public GroupCoordinator(int brokerId, GroupCoordinatorConfig config, ReplicaManager replicas,
            Supplier<MetadataImage> metadata, TopicCreator topicCreator, Time time, int maxQueuedRequests) {
        this.maxQueuedRequests = maxQueuedRequests;
        this.brokerId = brokerId;
        this.config = config;
        this.replicas = replicas;
        this.metadata = metadata;
        this.topicCreator = topicCreator;
        this.time = time;
        this.logPrefix = "[broker " + brokerId + "]";
        this.loop = new EventLoop("group-coordinator-" + brokerId, time);
        this.loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "group-loader-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        replicas.addLeadershipListener(this);
    }

    int brokerId() {
        return brokerId;
    }

    /** The GroupCoordinator gRPC service, for the node's server, checking callers with {@code authorization}. */
    public BindableService grpcService(Authorization authorization) {
        return GroupCoordinatorGrpcService.bindable(this, authorization);
    }

    public void start() {
        loop.start();
    }

    @Override
    public void close() {
        try {
            loop.execute(() -> {
                for (Map.Entry<Integer, Slot> e : slots.entrySet()) {
                    if (e.getValue().shard != null) {
                        e.getValue().shard.close("the broker is stopping");
                    }
                }
                slots.clear();
            });
        } catch (RejectedExecutionException alreadyClosed) {
            // closed twice
        }
        loop.close();
        loader.shutdownNow();
    }

    static int partitionFor(String groupId, int partitions) {
        int hash = groupId.hashCode();
        // Kafka's Utils.abs: Math.abs(Integer.MIN_VALUE) is negative.
        int abs = hash == Integer.MIN_VALUE ? 0 : Math.abs(hash);
        return abs % partitions;
    }

    // ---- leadership (metadata thread) ----

    @Override
    public void onBecomeLeader(TopicPartition tp, int leaderEpoch) {
        if (!tp.topic().equals(OFFSETS_TOPIC)) {
            return;
        }
        enqueue(() -> {
            dropSlot(tp.partition(), "leader epoch " + leaderEpoch + " begins");
            OffsetsPartitionLog log = new OffsetsPartitionLog(tp, leaderEpoch, replicas, config.commitTimeoutMs(),
                    this::enqueue, time);
            slots.put(tp.partition(), new Slot(leaderEpoch, log));
            LOG.info("{} loading the groups of {} (leader epoch {})", logPrefix, tp, leaderEpoch);
            loader.execute(() -> load(tp.partition(), log));
        });
    }

    @Override
    public void onStopLeading(TopicPartition tp) {
        if (tp.topic().equals(OFFSETS_TOPIC)) {
            enqueue(() -> dropSlot(tp.partition(), "the partition is led elsewhere now"));
        }
    }

    /** Metadata changed (any thread): groups whose subscribed topics changed partition count rebalance. */
    public void onMetadata(MetadataImage image) {
        enqueue(() -> {
            for (Map.Entry<Integer, Slot> e : slots.entrySet()) {
                if (e.getValue().shard != null) {
                    e.getValue().shard.onMetadataChanged();
                    rescheduleTimer(e.getKey(), e.getValue().shard);
                }
            }
        });
    }

    private void dropSlot(int partition, String reason) {
        Slot slot = slots.remove(partition);
        loop.cancel(timerTag(partition));
        if (slot != null && slot.shard != null) {
            LOG.info("{} dropping the groups of {}-{} ({} group(s)): {}", logPrefix, OFFSETS_TOPIC, partition,
                    slot.shard.groups.size(), reason);
            slot.shard.close(reason);
        }
    }

    /** On the loader thread: builds the shard from the log, then hands it to the loop. */
    private void load(int partition, OffsetsPartitionLog log) {
        long startNs = time.nanoseconds();
        GroupShard shard = newShard(partition, log);
        try {
            long records = log.replayInto(shard);
            long tookMs = (time.nanoseconds() - startNs) / 1_000_000;
            enqueue(() -> {
                Slot slot = slots.get(partition);
                if (slot == null || slot.log != log) {
                    return; // leadership moved on while loading
                }
                shard.finishLoad();
                slot.shard = shard;
                LOG.info("{} loaded {} group(s) of {} from {} record(s) in {} ms", logPrefix, shard.groups.size(),
                        log.tp, records, tookMs);
                rescheduleTimer(partition, shard);
            });
        } catch (Exception e) {
            LOG.error("{} loading the groups of {} failed; its groups are unavailable on this broker until the"
                    + " partition moves", logPrefix, log.tp, e);
            enqueue(() -> {
                Slot slot = slots.get(partition);
                if (slot != null && slot.log == log) {
                    slot.loadFailure = e.toString();
                }
            });
        }
    }

    private GroupShard newShard(int partition, OffsetsPartitionLog log) {
        return new GroupShard(partition, brokerId, config, time, log, this::partitionCount,
                () -> metadata.get().topics().stream().map(TopicImage::name).toList(),
                () -> UUID.randomUUID().toString());
    }

    private int partitionCount(String topic) {
        TopicImage t = metadata.get().topic(topic);
        return t == null ? 0 : t.numPartitions();
    }

    // ---- requests (gRPC threads) ----

    /**
     * Runs {@code action} on the shard of {@code groupId}'s partition, or answers {@code onError}
     * with NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE.
     */
    <R> CompletableFuture<R> onShard(String groupId, Function<ApiError, R> onError,
            BiConsumer<GroupShard, java.util.function.Consumer<R>> action) {
        ApiError invalid = GroupIds.check(groupId);
        if (invalid.isFailure()) {
            return CompletableFuture.completedFuture(onError.apply(invalid));
        }
        CompletableFuture<R> answer = new CompletableFuture<>();
        Queued queued = enqueueRequest(() -> {
            TopicImage topic = metadata.get().topic(OFFSETS_TOPIC);
            if (topic == null || topic.numPartitions() == 0) {
                answer.complete(onError.apply(ApiError.of(ErrorCode.NOT_COORDINATOR, "%s does not exist yet;"
                        + " FindCoordinator creates it", OFFSETS_TOPIC)));
                return;
            }
            int partition = partitionFor(groupId, topic.numPartitions());
            Slot slot = slots.get(partition);
            if (slot == null) {
                PartitionRegistration reg = topic.partition(partition);
                answer.complete(onError.apply(ApiError.of(ErrorCode.NOT_COORDINATOR, "broker %d is not the"
                        + " coordinator of group '%s' (partition %d of %s is led by %s)", brokerId, groupId,
                        partition, OFFSETS_TOPIC, reg.hasLeader() ? "broker " + reg.leader() : "no broker")));
                return;
            }
            if (slot.shard == null) {
                answer.complete(onError.apply(slot.loadFailure != null
                        ? ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "loading partition %d of %s failed on"
                                + " broker %d: %s", partition, OFFSETS_TOPIC, brokerId, slot.loadFailure)
                        : ApiError.of(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, "broker %d is still loading the"
                                + " groups of partition %d of %s", brokerId, partition, OFFSETS_TOPIC)));
                return;
            }
            GroupShard shard = slot.shard;
            action.accept(shard, response -> {
                answer.complete(response);
                afterEvent(partition, slot);
            });
            afterEvent(partition, slot);
        });
        if (queued == Queued.CLOSED) {
            answer.complete(onError.apply(ApiError.of(ErrorCode.NOT_COORDINATOR, "broker %d is stopping",
                    brokerId)));
        } else if (queued == Queued.BUSY) {
            answer.complete(onError.apply(busy()));
        }
        return answer;
    }

    private void afterEvent(int partition, Slot slot) {
        if (slots.get(partition) != slot || slot.shard == null) {
            return;
        }
        rescheduleTimer(partition, slot.shard);
        maybeCheckpoint(partition, slot);
    }

    // ---- consumer-protocol (KIP-848) groups ----

    /** ConsumerGroupHeartbeat (any thread): answered on the loop once its records are committed. */
    public CompletableFuture<ConsumerHeartbeatAnswer> consumerGroupHeartbeat(ConsumerHeartbeat heartbeat) {
        return onShard(heartbeat.groupId(), e -> ConsumerHeartbeatAnswer.failed(e, heartbeat.memberId()),
                (shard, respond) -> shard.consumerProtocol.heartbeat(heartbeat, respond));
    }

    /** ConsumerGroupDescribe of one group (any thread). */
    public CompletableFuture<ConsumerGroupDescription> describeConsumerGroup(String groupId) {
        return onShard(groupId, e -> ConsumerGroupDescription.failed(e, groupId),
                (shard, respond) -> shard.consumerProtocol.describe(groupId, respond));
    }

    /** Commits offsets (generation -1 with no member id: a consumer without membership). */
    public CompletableFuture<OffsetCommitResponse> commitOffsets(OffsetCommitRequest request) {
        return onShard(request.getGroupId(), e -> OffsetCommitResponse.newBuilder().setError(e.toProto()).build(),
                (shard, respond) -> shard.offsets.commit(request, respond));
    }

    /** Committed offsets, once every earlier write of the group's partition has committed. */
    public CompletableFuture<OffsetFetchResponse> fetchOffsets(OffsetFetchRequest request) {
        return onShard(request.getGroupId(), e -> OffsetFetchResponse.newBuilder().setError(e.toProto()).build(),
                (shard, respond) -> shard.offsets.fetch(request, respond));
    }

    /** Deletes committed offsets of topics no member of the group subscribes to. */
    public CompletableFuture<OffsetDeleteResponse> deleteOffsets(OffsetDeleteRequest request) {
        return onShard(request.getGroupId(), e -> OffsetDeleteResponse.newBuilder().setError(e.toProto()).build(),
                (shard, respond) -> shard.offsets.deleteOffsets(request, respond));
    }

    /**
     * The groups this broker coordinates now, in the states and of the types asked for (both
     * case-insensitive; empty: all): type "classic" or "consumer" (KIP-848).
     */
    public CompletableFuture<ListGroupsResponse> listGroups(ListGroupsRequest request) {
        Set<String> states = request.getStatesFilterList().stream().map(s -> s.toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
        Set<String> types = request.getTypesFilterList().stream().map(s -> s.toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
        CompletableFuture<ListGroupsResponse> answer = new CompletableFuture<>();
        Queued queued = enqueueRequest(() -> {
            ListGroupsResponse.Builder out = ListGroupsResponse.newBuilder().setError(ApiError.NONE.toProto());
            slots.keySet().stream().sorted().forEach(p -> {
                GroupShard shard = slots.get(p).shard;
                if (shard != null) {
                    out.addAllGroups(shard.listGroups(states, types));
                }
            });
            answer.complete(out.build());
        });
        if (queued != Queued.QUEUED) {
            ApiError error = queued == Queued.BUSY ? busy() : ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                    "broker %d is stopping", brokerId);
            answer.complete(ListGroupsResponse.newBuilder().setError(error.toProto()).build());
        }
        return answer;
    }

    // ---- classic membership, protocol-neutral (any thread; answered when the coordinator's loop is done) ----

    /** A JoinGroup; answered when the rebalance completes (or at once when refused). */
    public CompletableFuture<ClassicGroupApi.JoinResult> joinGroup(ClassicGroupApi.JoinRequest request) {
        return onShard(request.groupId(), e -> ClassicGroupApi.JoinResult.error(e, request.memberId()),
                (shard, respond) -> shard.join(request, respond));
    }

    /** A SyncGroup; answered when the generation's assignment is stored (or at once). */
    public CompletableFuture<ClassicGroupApi.SyncResult> syncGroup(ClassicGroupApi.SyncRequest request) {
        return onShard(request.groupId(), ClassicGroupApi.SyncResult::error,
                (shard, respond) -> shard.sync(request, respond));
    }

    public CompletableFuture<ApiError> heartbeat(ClassicGroupApi.HeartbeatRequest request) {
        return onShard(request.groupId(), e -> e, (shard, respond) -> respond.accept(shard.heartbeat(request)));
    }

    /** Members leaving {@code groupId}, each by member id or group instance id. */
    public CompletableFuture<ClassicGroupApi.LeaveResult> leaveGroup(String groupId,
            List<ClassicGroupApi.LeavingMember> members) {
        return onShard(groupId, e -> new ClassicGroupApi.LeaveResult(e, List.of()),
                (shard, respond) -> respond.accept(shard.leave(groupId, members)));
    }

    /** Each group as its coordinator (this broker) shows it, in the order asked; errors per group. */
    public CompletableFuture<List<ClassicGroupApi.GroupDescription>> describeGroups(List<String> groupIds) {
        List<CompletableFuture<ClassicGroupApi.GroupDescription>> each = new ArrayList<>();
        for (String groupId : groupIds) {
            each.add(onShard(groupId, e -> new ClassicGroupApi.GroupDescription(groupId, e, "", "", "", -1, false,
                    List.of()), (shard, respond) -> respond.accept(shard.describe(groupId))));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
    }

    /** Deletes groups without members, with their offsets; an error per group. */
    public CompletableFuture<DeleteGroupsResponse> deleteGroups(DeleteGroupsRequest request) {
        List<CompletableFuture<DeletedGroup>> each = new ArrayList<>();
        for (String groupId : request.getGroupIdsList()) {
            each.add(onShard(groupId, e -> DeletedGroup.newBuilder().setGroupId(groupId).setError(e.toProto())
                    .build(), (shard, respond) -> shard.delete(groupId, respond)));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            DeleteGroupsResponse.Builder out = DeleteGroupsResponse.newBuilder().setError(ApiError.NONE.toProto());
            each.forEach(f -> out.addGroups(f.join()));
            return out.build();
        });
    }

    // ---- FindCoordinator ----

    /**
     * The coordinator of {@code groupId}: the leader of its __consumer_offsets partition, named by
     * its endpoint on {@code listener} ({@link BrokerRegistration#GRPC_LISTENER} or {@link
     * BrokerRegistration#KAFKA_LISTENER}); COORDINATOR_NOT_AVAILABLE while there is none or it has
     * no such endpoint. Creates __consumer_offsets on first use, once enough brokers are live.
     */
    public CompletableFuture<FindCoordinatorResponse> findCoordinator(String groupId, String listener) {
        ApiError invalid = GroupIds.check(groupId);
        if (invalid.isFailure()) {
            return CompletableFuture.completedFuture(findError(invalid));
        }
        MetadataImage image = metadata.get();
        if (image.topic(OFFSETS_TOPIC) != null) {
            return CompletableFuture.completedFuture(coordinatorOf(image, groupId, listener));
        }
        // As Kafka: never created with fewer replicas than asked for. Created with the brokers at
        // hand, it would keep that replication factor for good (nothing adds replicas later).
        int live = image.eligibleBrokers().size();
        if (live < config.offsetsTopicReplicationFactor()) {
            return CompletableFuture.completedFuture(findError(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                    "%s does not exist yet and is created with offsets.topic.replication.factor=%d replicas, but"
                            + " only %d brokers are live; it is created once enough are", OFFSETS_TOPIC,
                    config.offsetsTopicReplicationFactor(), live)));
        }
        return createOffsetsTopic(image)
                .orTimeout(CREATE_TOPIC_WAIT_MS, TimeUnit.MILLISECONDS)
                .handle((created, error) -> error == null ? coordinatorOf(created, groupId, listener)
                        : findError(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "%s is being created: %s",
                                OFFSETS_TOPIC, Failures.unwrap(error))));
    }

    private FindCoordinatorResponse coordinatorOf(MetadataImage image, String groupId, String listener) {
        TopicImage topic = image.topic(OFFSETS_TOPIC);
        if (topic == null || topic.numPartitions() == 0) {
            return findError(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "%s is being created", OFFSETS_TOPIC));
        }
        int partition = partitionFor(groupId, topic.numPartitions());
        PartitionRegistration reg = topic.partition(partition);
        BrokerRegistration leader = reg.hasLeader() ? image.broker(reg.leader()) : null;
        if (leader == null) {
            return findError(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "partition %d of %s, which coordinates"
                    + " group '%s', has no leader right now", partition, OFFSETS_TOPIC, groupId));
        }
        Endpoint endpoint = leader.endpoint(listener).orElse(null);
        if (endpoint == null) {
            return findError(ApiError.of(ErrorCode.COORDINATOR_NOT_AVAILABLE, "broker %d, which coordinates group"
                    + " '%s', has no %s listener", leader.id(), groupId, listener));
        }
        return FindCoordinatorResponse.newBuilder().setError(ApiError.NONE.toProto()).setNodeId(leader.id())
                .setHost(endpoint.getHost()).setPort(endpoint.getPort()).build();
    }

    private static FindCoordinatorResponse findError(ApiError error) {
        return FindCoordinatorResponse.newBuilder().setError(error.toProto()).setNodeId(-1).build();
    }

    /** Creates __consumer_offsets once (concurrent callers share the attempt); the image that has it. */
    private synchronized CompletableFuture<MetadataImage> createOffsetsTopic(MetadataImage image) {
        if (creating != null && !creating.isDone()) {
            return creating;
        }
        int replicationFactor = config.offsetsTopicReplicationFactor();
        int minInsync = replicationFactor >= 3 ? 2 : 1;
        CreatableTopic topic = CreatableTopic.newBuilder()
                .setName(OFFSETS_TOPIC)
                .setNumPartitions(config.offsetsTopicPartitions())
                .setReplicationFactor(replicationFactor)
                // No time or size retention: checkpoints bound the log instead (see the class comment).
                .addConfigs(config("retention.ms", "-1"))
                .addConfigs(config("retention.bytes", "-1"))
                .addConfigs(config("segment.bytes", Integer.toString(config.offsetsTopicSegmentBytes())))
                .addConfigs(config("min.insync.replicas", Integer.toString(minInsync)))
                .build();
        LOG.info("{} creating {} with {} partitions, replication factor {}, min.insync.replicas {}", logPrefix,
                OFFSETS_TOPIC, config.offsetsTopicPartitions(), replicationFactor, minInsync);
        creating = topicCreator.createTopics(CreateTopicsRequest.newBuilder().addTopics(topic).build())
                .thenCompose(response -> {
                    CreatableTopicResult result = response.getTopicsCount() > 0 ? response.getTopics(0) : null;
                    ErrorCode code = response.getError().getCode() != ErrorCode.NONE ? response.getError().getCode()
                            : result == null ? ErrorCode.UNKNOWN_SERVER_ERROR : result.getError().getCode();
                    if (code == ErrorCode.NONE) {
                        return topicCreator.whenApplied(response.getMetadataOffset());
                    }
                    if (code == ErrorCode.TOPIC_ALREADY_EXISTS) {
                        return CompletableFuture.completedFuture(metadata.get());
                    }
                    String message = response.getError().getCode() != ErrorCode.NONE ? response.getError().getMessage()
                            : result == null ? "no result" : result.getError().getMessage();
                    LOG.warn("{} creating {} failed: {} {}", logPrefix, OFFSETS_TOPIC, code, message);
                    return CompletableFuture.failedFuture(new IllegalStateException(code + ": " + message));
                });
        return creating;
    }

    private static ConfigEntry config(String key, String value) {
        return ConfigEntry.newBuilder().setKey(key).setValue(value).build();
    }

    // ---- timers and checkpoints (loop thread) ----

    private static String timerTag(int partition) {
        return "groups-" + partition;
    }

    private void rescheduleTimer(int partition, GroupShard shard) {
        long deadlineMs = shard.nextDeadlineMs();
        if (deadlineMs == Long.MAX_VALUE) {
            loop.cancel(timerTag(partition));
            return;
        }
        loop.schedule(timerTag(partition), deadlineMs * 1_000_000L, () -> {
            Slot slot = slots.get(partition);
            if (slot != null && slot.shard == shard) {
                shard.poll();
                afterEvent(partition, slot);
            }
        });
    }

    private void maybeCheckpoint(int partition, Slot slot) {
        if (slot.checkpointing) {
            return;
        }
        Partition p = slot.log.leaderPartition();
        if (p == null) {
            return;
        }
        long logRecords = p.log().logEndOffset() - p.log().logStartOffset();
        int live = slot.shard.liveKeys();
        long superseded = logRecords - live;
        if (superseded < Math.max(config.checkpointMinRecords(), live)) {
            return;
        }
        slot.checkpointing = true;
        List<CoordinatorRecord> records = slot.shard.checkpointRecords();
        long startNs = time.nanoseconds();
        if (records.isEmpty()) {
            // Nothing is live: the log start can move to the end once everything written is committed.
            slot.shard.afterPendingWrites(() -> {
                slot.checkpointing = false;
                Partition now = slot.log.leaderPartition();
                if (now != null && !slot.shard.isClosed()) {
                    moveLogStart(slot, Math.min(now.highWatermark(), now.log().logEndOffset()), 0, startNs);
                }
            });
            return;
        }
        ApiError error = slot.log.appendAndThen(records, result -> {
            slot.checkpointing = false;
            if (result.error().isFailure()) {
                LOG.warn("{} checkpoint of {} ({} records) not committed: {}", logPrefix, slot.log.tp, records.size(),
                        result.error());
                return;
            }
            moveLogStart(slot, result.baseOffset(), records.size(), startNs);
        });
        if (error.isFailure()) {
            slot.checkpointing = false;
            LOG.warn("{} checkpoint of {} not written: {}", logPrefix, slot.log.tp, error);
        }
    }

    private void moveLogStart(Slot slot, long offset, int records, long startNs) {
        ApiError moved = slot.log.deleteRecordsBefore(offset);
        if (moved.isFailure()) {
            LOG.warn("{} moving the log start of {} to {} failed: {}", logPrefix, slot.log.tp, offset, moved);
        } else {
            LOG.info("{} checkpointed {}: {} live record(s) rewritten, log start moved to {} ({} ms)", logPrefix,
                    slot.log.tp, records, offset, (time.nanoseconds() - startNs) / 1_000_000);
        }
    }

    /** What became of a client request handed to the loop. */
    private enum Queued { QUEUED, BUSY, CLOSED }

    /** Queues a client request's event unless {@code queued.max.requests} already wait. */
    private Queued enqueueRequest(Runnable event) {
        try {
            return loop.offer(event, maxQueuedRequests) ? Queued.QUEUED : Queued.BUSY;
        } catch (RejectedExecutionException closed) {
            return Queued.CLOSED;
        }
    }

    private ApiError busy() {
        return ApiError.of(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, "the group coordinator of broker %d is busy: %d"
                + " requests wait (queued.max.requests); retry", brokerId, maxQueuedRequests);
    }

    /** Runs {@code event} on the loop; false once the loop is closed. */
    private boolean enqueue(Runnable event) {
        try {
            loop.execute(event);
            return true;
        } catch (RejectedExecutionException closed) {
            return false;
        }
    }
}
