package io.raftmq.broker;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftmq.broker.group.GroupCoordinatorConfig;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.service.TopicDescriptions;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.FetchPartition;
import io.raftmq.protocol.broker.FetchRequest;
import io.raftmq.protocol.broker.FetchResponse;
import io.raftmq.protocol.broker.FetchTopic;
import io.raftmq.protocol.broker.InitProducerIdRequest;
import io.raftmq.protocol.broker.InitProducerIdResponse;
import io.raftmq.protocol.broker.FetchablePartitionResponse;
import io.raftmq.protocol.broker.FetchableTopicResponse;
import io.raftmq.protocol.broker.ListOffsetsPartition;
import io.raftmq.protocol.broker.ListOffsetsPartitionResponse;
import io.raftmq.protocol.broker.ListOffsetsRequest;
import io.raftmq.protocol.broker.ListOffsetsResponse;
import io.raftmq.protocol.broker.ListOffsetsTopic;
import io.raftmq.protocol.broker.ListOffsetsTopicResponse;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.PartitionProduceResponse;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.broker.TopicProduceResponse;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.rpc.InOrderAnswers;
import io.raftmq.replication.FetchResult;
import io.raftmq.replication.FetchSpec;
import io.raftmq.replication.ProduceResult;
import io.raftmq.replication.ReplicaManager;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The Broker gRPC service: the client API of this broker. Metadata from this broker's image;
 * Produce, Fetch and ListOffsets on the partitions it leads (through the {@link ReplicaManager});
 * topic administration forwarded to the active controller and answered once this broker's
 * metadata includes the change, so that a client's next Metadata call here sees it.
 *
 * <p>Stateless apart from its collaborators; called on gRPC threads. Long polls and acks=all
 * produces hold no thread while they wait.
 */
final class BrokerGrpcService extends BrokerGrpc.BrokerImplBase {
    /** The most one fetch response carries, under the gRPC message limit (64 MiB). */
    static final int FETCH_RESPONSE_MAX_BYTES = 32 << 20;
    /** How long an admin answer waits for this broker's metadata to include the change. */
    private static final long METADATA_CATCH_UP_MS = 5_000;

    private final int brokerId;
    private final MetadataWatcher metadata;
    private final ReplicaManager replicas;
    private final ControllerClient controller;
    private final BrokerConfig config;
    private final InitProducerIdHandler initProducerId;

    BrokerGrpcService(int brokerId, MetadataWatcher metadata, ReplicaManager replicas, ControllerClient controller,
            BrokerConfig config, InitProducerIdHandler initProducerId) {
        this.brokerId = brokerId;
        this.metadata = metadata;
        this.replicas = replicas;
        this.controller = controller;
        this.config = config;
        this.initProducerId = initProducerId;
    }

    // ---- Metadata ----

    @Override
    public void metadata(MetadataRequest request, StreamObserver<MetadataResponse> observer) {
        MetadataImage image = metadata.image();
        MetadataResponse.Builder response = MetadataResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setControllerId(image.controller() == null ? -1 : image.controller().controllerId())
                .setMetadataOffset(image.offset());
        for (BrokerRegistration b : image.brokersSorted()) {
            Endpoint e = b.endpoint("grpc").orElse(null);
            if (b.state() == BrokerState.FENCED || e == null) {
                continue;
            }
            response.addBrokers(BrokerInfo.newBuilder().setBrokerId(b.id()).setHost(e.getHost()).setPort(e.getPort())
                    .setRack(b.rack()));
        }
        List<TopicImage> topics = new ArrayList<>();
        if (request.getTopicsCount() == 0) {
            topics.addAll(image.topicsSorted());
        } else {
            for (String name : request.getTopicsList()) {
                TopicImage topic = image.topic(name);
                if (topic == null) {
                    response.addTopics(TopicMetadata.newBuilder().setName(name).setError(ApiError.of(
                            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", name).toProto()));
                } else {
                    topics.add(topic);
                }
            }
        }
        for (TopicImage topic : topics) {
            TopicMetadata.Builder t = TopicMetadata.newBuilder()
                    .setName(topic.name())
                    .setError(ApiError.NONE.toProto())
                    .setTopicId(Uuids.toProto(topic.id()));
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration p = topic.partition(i);
                ApiError error = p.hasLeader() ? ApiError.NONE : ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE,
                        "partition %d of topic '%s' has no leader: no in-sync replica %s is alive", i, topic.name(),
                        p.isr());
                t.addPartitions(PartitionMetadata.newBuilder()
                        .setPartition(i)
                        .setError(error.toProto())
                        .setLeader(p.leader())
                        .setLeaderEpoch(p.leaderEpoch())
                        .addAllReplicas(p.replicas())
                        .addAllIsr(p.isr()));
            }
            response.addTopics(t);
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    /**
     * Why this broker cannot serve {@code tp}, from its metadata: the topic or partition does not
     * exist, or another broker leads it.
     */
    private ApiError notServedHere(MetadataImage image, TopicPartition tp) {
        TopicImage topic = image.topic(tp.topic());
        if (topic == null) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", tp.topic());
        }
        PartitionRegistration p = topic.partition(tp.partition());
        if (p == null) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' has %d partition(s); there is no"
                    + " partition %d", tp.topic(), topic.numPartitions(), tp.partition());
        }
        if (!p.hasLeader()) {
            return ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE, "%s has no leader: no in-sync replica %s is alive", tp,
                    p.isr());
        }
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is not the leader of %s; the leader is"
                + " broker %d (leader epoch %d)", brokerId, tp, p.leader(), p.leaderEpoch());
    }

    private int leaderOf(MetadataImage image, TopicPartition tp) {
        TopicImage topic = image.topic(tp.topic());
        PartitionRegistration p = topic == null ? null : topic.partition(tp.partition());
        return p == null ? -1 : p.leader();
    }

    private int leaderEpochOf(MetadataImage image, TopicPartition tp) {
        TopicImage topic = image.topic(tp.topic());
        PartitionRegistration p = topic == null ? null : topic.partition(tp.partition());
        return p == null ? -1 : p.leaderEpoch();
    }

    // ---- Produce ----

    @Override
    public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
        replyLater(observer, answerProduce(request), r -> r, BrokerGrpcService::produceFailure);
    }

    /**
     * One stream per producer connection, run on the transport thread (registered inline): each
     * request is appended as it arrives, so in the order sent, and the answers go out in the same
     * order (a chain of futures), as Kafka answers a connection's requests.
     */
    @Override
    public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> observer) {
        return new InOrderAnswers<>(observer, this::answerProduce, BrokerGrpcService::produceFailure);
    }

    private static ProduceResponse produceFailure(Throwable e) {
        return ProduceResponse.newBuilder().setError(internal(e)).build();
    }

    /** Validates and appends one request; the answer completes when its acks are met. */
    private CompletableFuture<ProduceResponse> answerProduce(ProduceRequest request) {
        int acks = request.getAcks();
        if (acks != 0 && acks != 1 && acks != -1) {
            return CompletableFuture.completedFuture(ProduceResponse.newBuilder().setError(ApiError.of(
                    ErrorCode.INVALID_REQUIRED_ACKS, "acks must be 0, 1 or -1 (all); got %d", acks).toProto()).build());
        }
        MetadataImage image = metadata.image();
        Map<TopicPartition, ByteBuffer> toAppend = new LinkedHashMap<>();
        Map<TopicPartition, ProduceResult> refused = new HashMap<>();
        List<TopicPartition> order = new ArrayList<>();
        for (TopicProduceData topic : request.getTopicsList()) {
            for (PartitionProduceData data : topic.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(topic.getName(), data.getPartition());
                if (order.contains(tp)) {
                    return CompletableFuture.completedFuture(ProduceResponse.newBuilder().setError(ApiError.of(
                            ErrorCode.INVALID_REQUEST, "%s appears twice in one produce request", tp).toProto()).build());
                }
                order.add(tp);
                if (tp.topic().equals(GroupCoordinatorConfig.OFFSETS_TOPIC)) {
                    // Only the group coordinator writes it (through the replica manager, not here).
                    refused.put(tp, new ProduceResult(ApiError.of(ErrorCode.INVALID_TOPIC,
                            "%s is an internal topic; clients cannot produce to it", tp.topic()), -1, -1, -1, -1, -1));
                    continue;
                }
                if (replicas.partition(tp) == null) {
                    refused.put(tp, new ProduceResult(notServedHere(image, tp), -1, -1, -1, leaderOf(image, tp),
                            leaderEpochOf(image, tp)));
                    continue;
                }
                // A private, writable copy: the leader stamps offsets and its epoch into it.
                ByteString bytes = data.getRecords();
                ByteBuffer buffer = ByteBuffer.allocate(bytes.size());
                bytes.copyTo(buffer);
                buffer.flip();
                toAppend.put(tp, buffer);
            }
        }
        long timeoutMs = Math.max(0, Math.min(request.getTimeoutMs(), config.produceTimeoutCapMs()));
        CompletableFuture<Map<TopicPartition, ProduceResult>> appended = toAppend.isEmpty()
                ? CompletableFuture.completedFuture(Map.of())
                : replicas.appendRecords(acks, timeoutMs, toAppend);
        return appended.thenApply(results -> {
            Map<String, TopicProduceResponse.Builder> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : order) {
                ProduceResult r = results.containsKey(tp) ? results.get(tp) : refused.get(tp);
                if (r == null) {
                    r = new ProduceResult(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "no result for %s", tp), -1,
                            -1, -1, -1, -1);
                }
                byTopic.computeIfAbsent(tp.topic(), n -> TopicProduceResponse.newBuilder().setName(n))
                        .addPartitions(PartitionProduceResponse.newBuilder()
                                .setPartition(tp.partition())
                                .setError(r.error().toProto())
                                .setBaseOffset(r.baseOffset())
                                .setLogAppendTimeMs(r.logAppendTimeMs())
                                .setLogStartOffset(r.logStartOffset())
                                .setCurrentLeader(r.currentLeader())
                                .setCurrentLeaderEpoch(r.currentLeaderEpoch()));
            }
            ProduceResponse.Builder response = ProduceResponse.newBuilder().setError(ApiError.NONE.toProto());
            byTopic.values().forEach(response::addTopics);
            return response.build();
        });
    }

    // ---- Fetch ----

    @Override
    public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
        MetadataImage image = metadata.image();
        int maxBytes = request.getMaxBytes() <= 0 ? FETCH_RESPONSE_MAX_BYTES
                : Math.min(request.getMaxBytes(), FETCH_RESPONSE_MAX_BYTES);
        Map<TopicPartition, FetchSpec> specs = new LinkedHashMap<>();
        Map<TopicPartition, FetchResult> refused = new HashMap<>();
        List<TopicPartition> order = new ArrayList<>();
        for (FetchTopic topic : request.getTopicsList()) {
            for (FetchPartition p : topic.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(topic.getName(), p.getPartition());
                if (order.contains(tp)) {
                    reply(observer, FetchResponse.newBuilder().setError(ApiError.of(ErrorCode.INVALID_REQUEST,
                            "%s appears twice in one fetch request", tp).toProto()).build());
                    return;
                }
                order.add(tp);
                if (p.getFetchOffset() < 0) {
                    refused.put(tp, new FetchResult(ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "fetch offset %d of"
                            + " %s is negative", p.getFetchOffset(), tp), -1, -1, ByteBuffer.allocate(0), -1, -1));
                    continue;
                }
                if (replicas.partition(tp) == null) {
                    refused.put(tp, new FetchResult(notServedHere(image, tp), -1, -1, ByteBuffer.allocate(0),
                            leaderOf(image, tp), leaderEpochOf(image, tp)));
                    continue;
                }
                int partitionMax = p.getPartitionMaxBytes() <= 0 ? maxBytes : p.getPartitionMaxBytes();
                specs.put(tp, new FetchSpec(p.getFetchOffset(), partitionMax, p.getCurrentLeaderEpoch()));
            }
        }
        long maxWaitMs = refused.isEmpty() ? Math.max(0, Math.min(request.getMaxWaitMs(), config.fetchMaxWaitCapMs()))
                : 0; // an error to report: answer now
        CompletableFuture<Map<TopicPartition, FetchResult>> fetched = specs.isEmpty()
                ? CompletableFuture.completedFuture(Map.of())
                : replicas.fetchMessages(maxWaitMs, request.getMinBytes(), maxBytes, specs);
        replyLater(observer, fetched, results -> {
            Map<String, FetchableTopicResponse.Builder> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : order) {
                FetchResult r = results.containsKey(tp) ? results.get(tp) : refused.get(tp);
                FetchablePartitionResponse.Builder p = FetchablePartitionResponse.newBuilder()
                        .setPartition(tp.partition())
                        .setError(r.error().toProto())
                        .setHighWatermark(r.highWatermark())
                        .setLogStartOffset(r.logStartOffset())
                        .setCurrentLeader(r.currentLeader())
                        .setCurrentLeaderEpoch(r.currentLeaderEpoch());
                if (r.records().hasRemaining()) {
                    // Read from the log for this response only: no copy needed.
                    p.setRecords(UnsafeByteOperations.unsafeWrap(r.records().duplicate()));
                }
                byTopic.computeIfAbsent(tp.topic(), n -> FetchableTopicResponse.newBuilder().setName(n))
                        .addPartitions(p);
            }
            FetchResponse.Builder response = FetchResponse.newBuilder().setError(ApiError.NONE.toProto());
            byTopic.values().forEach(response::addTopics);
            return response.build();
        }, e -> FetchResponse.newBuilder().setError(internal(e)).build());
    }

    // ---- ListOffsets ----

    @Override
    public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> observer) {
        MetadataImage image = metadata.image();
        ListOffsetsResponse.Builder response = ListOffsetsResponse.newBuilder().setError(ApiError.NONE.toProto());
        for (ListOffsetsTopic topic : request.getTopicsList()) {
            ListOffsetsTopicResponse.Builder t = ListOffsetsTopicResponse.newBuilder().setName(topic.getName());
            for (ListOffsetsPartition p : topic.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(topic.getName(), p.getPartition());
                ListOffsetsPartitionResponse.Builder out = ListOffsetsPartitionResponse.newBuilder()
                        .setPartition(p.getPartition());
                if (p.getTimestamp() < -2) {
                    out.setError(ApiError.of(ErrorCode.INVALID_REQUEST, "timestamp %d for %s: use -1 (latest), -2"
                            + " (earliest) or a time in ms", p.getTimestamp(), tp).toProto())
                            .setOffset(-1).setTimestamp(-1).setLeaderEpoch(-1);
                } else if (replicas.partition(tp) == null) {
                    out.setError(notServedHere(image, tp).toProto()).setOffset(-1).setTimestamp(-1)
                            .setLeaderEpoch(leaderEpochOf(image, tp));
                } else {
                    ReplicaManager.ListOffsetResult r = replicas.listOffset(tp, p.getTimestamp(),
                            p.getCurrentLeaderEpoch());
                    out.setError(r.error().toProto()).setOffset(r.offset()).setTimestamp(r.timestamp())
                            .setLeaderEpoch(r.leaderEpoch());
                }
                t.addPartitions(out);
            }
            response.addTopics(t);
        }
        reply(observer, response.build());
    }

    // ---- administration, forwarded ----

    @Override
    public void createTopics(CreateTopicsRequest request, StreamObserver<CreateTopicsResponse> observer) {
        forward(observer, controller.createTopics(request), CreateTopicsResponse::getError,
                CreateTopicsResponse::getMetadataOffset, e -> CreateTopicsResponse.newBuilder().setError(e).build());
    }

    @Override
    public void deleteTopics(DeleteTopicsRequest request, StreamObserver<DeleteTopicsResponse> observer) {
        forward(observer, controller.deleteTopics(request), DeleteTopicsResponse::getError,
                DeleteTopicsResponse::getMetadataOffset, e -> DeleteTopicsResponse.newBuilder().setError(e).build());
    }

    @Override
    public void createPartitions(CreatePartitionsRequest request,
            StreamObserver<CreatePartitionsResponse> observer) {
        forward(observer, controller.createPartitions(request), CreatePartitionsResponse::getError,
                CreatePartitionsResponse::getMetadataOffset,
                e -> CreatePartitionsResponse.newBuilder().setError(e).build());
    }

    @Override
    public void alterConfigs(AlterConfigsRequest request, StreamObserver<AlterConfigsResponse> observer) {
        forward(observer, controller.alterConfigs(request), AlterConfigsResponse::getError,
                AlterConfigsResponse::getMetadataOffset, e -> AlterConfigsResponse.newBuilder().setError(e).build());
    }

    @Override
    public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> observer) {
        forward(observer, controller.describeCluster(request), DescribeClusterResponse::getError, r -> -1L,
                e -> DescribeClusterResponse.newBuilder().setError(e).build());
    }

    /**
     * Topics from this broker's metadata, once it has applied {@code min_metadata_offset} (waiting
     * at most as long as the admin forwarding does; then REQUEST_TIMED_OUT naming both offsets).
     */
    @Override
    public void describeTopics(DescribeTopicsRequest request, StreamObserver<DescribeTopicsResponse> observer) {
        long minOffset = request.getMinMetadataOffset();
        CompletableFuture<DescribeTopicsResponse> answer = metadata.whenApplied(minOffset)
                .orTimeout(METADATA_CATCH_UP_MS, TimeUnit.MILLISECONDS)
                .handle((image, error) -> {
                    if (error != null) {
                        return DescribeTopicsResponse.newBuilder().setError(ApiError.of(ErrorCode.REQUEST_TIMED_OUT,
                                "broker %d has applied metadata up to offset %d; the request asked for %d and it did"
                                        + " not arrive within %d ms", brokerId, metadata.image().offset(), minOffset,
                                METADATA_CATCH_UP_MS).toProto()).build();
                    }
                    return TopicDescriptions.of(image, request.getNamesList()).build();
                });
        replyLater(observer, answer, Function.identity(), e -> DescribeTopicsResponse.newBuilder()
                .setError(internal(e)).build());
    }

    // ---- InitProducerId ----

    @Override
    public void initProducerId(InitProducerIdRequest request, StreamObserver<InitProducerIdResponse> observer) {
        replyLater(observer, initProducerId.handle(request), Function.identity(),
                e -> InitProducerIdResponse.newBuilder().setError(internal(e)).setProducerId(-1).setProducerEpoch(-1)
                        .build());
    }

    /**
     * Answers with the controller's response once this broker's metadata has reached the offset
     * the change committed at (bounded: the change is committed either way).
     */
    private <R> void forward(StreamObserver<R> observer, CompletableFuture<R> call, Function<R, Error> errorOf,
            ToLongFunction<R> offsetOf, Function<Error, R> onFailure) {
        CompletableFuture<R> answered = call.thenCompose(response -> {
            long offset = offsetOf.applyAsLong(response);
            if (errorOf.apply(response).getCode() != ErrorCode.NONE || offset < 0) {
                return CompletableFuture.completedFuture(response);
            }
            return metadata.whenApplied(offset)
                    .orTimeout(METADATA_CATCH_UP_MS, TimeUnit.MILLISECONDS)
                    .handle((image, error) -> response);
        });
        replyLater(observer, answered, Function.identity(), e -> onFailure.apply(controllerFailure(e)));
    }

    private static Error controllerFailure(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof StatusRuntimeException s) {
            Status.Code code = s.getStatus().getCode();
            if (code == Status.Code.DEADLINE_EXCEEDED) {
                return ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "the controller did not answer in time: %s",
                        s.getStatus().getDescription()).toProto();
            }
            if (code == Status.Code.UNAVAILABLE) {
                return ApiError.of(ErrorCode.NOT_CONTROLLER, "no active controller is reachable: %s",
                        s.getStatus().getDescription()).toProto();
            }
        }
        return internal(cause);
    }

    private static Error internal(Throwable t) {
        return ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "broker failed to handle the request: %s", unwrap(t))
                .toProto();
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static <R> void reply(StreamObserver<R> observer, R response) {
        observer.onNext(response);
        observer.onCompleted();
    }

    /** Sends the answer when {@code future} completes, unless the caller went away. */
    private static <T, R> void replyLater(StreamObserver<R> observer, CompletableFuture<T> future,
            Function<T, R> toResponse, Function<Throwable, R> onFailure) {
        ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) observer;
        call.setOnCancelHandler(() -> { });
        future.whenComplete((value, error) -> {
            if (call.isCancelled()) {
                return;
            }
            R response;
            try {
                response = error == null ? toResponse.apply(value) : onFailure.apply(error);
            } catch (RuntimeException e) {
                response = onFailure.apply(e);
            }
            try {
                call.onNext(response);
                call.onCompleted();
            } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
                // The call ended (cancelled, deadline) between the check and the answer.
            }
        });
    }
}
