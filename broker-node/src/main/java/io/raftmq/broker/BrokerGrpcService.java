package io.raftmq.broker;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
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
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.metadata.ConfigResourceType;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.DescribeAclsRequest;
import io.raftmq.protocol.controller.DescribeAclsResponse;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsRequest;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.rpc.InOrderAnswers;
import io.raftmq.protocol.rpc.UnaryAnswers;
import io.raftmq.replication.FetchResult;
import io.raftmq.replication.FetchSpec;
import io.raftmq.replication.ProduceResult;
import io.raftmq.replication.ReplicaManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.apache.kafka.common.acl.AclOperation;

/**
 * The Broker gRPC service: the gRPC front end of this broker's client API. It translates each
 * call to the protocol-neutral {@link BrokerApi} (which holds every rule) and its answer back.
 *
 * <p>Each call first asks the broker's {@link Authorization} rules, for the caller {@link
 * GrpcCallers} names, what the Kafka listener asks for the same request: a produce needs WRITE on
 * its topics, a fetch READ, metadata, list offsets and describe topics DESCRIBE (a listing of every
 * topic shows only those; config overrides only with DESCRIBE_CONFIGS), topic administration
 * CREATE / DELETE / ALTER, configs ALTER_CONFIGS, ElectLeaders and the ACL and SCRAM calls ALTER
 * or DESCRIBE on the cluster, an idempotent producer id IDEMPOTENT_WRITE
 * or WRITE on some topic. A produce refuses the partitions of the topics it may not write (the
 * others are appended); any other call that names a resource the caller may not use is refused as
 * a whole, with TOPIC_/CLUSTER_AUTHORIZATION_FAILED naming it, before anything changes.
 *
 * <p>Stateless apart from its collaborators; called on gRPC threads. Long polls and acks=all
 * produces hold no thread while they wait.
 */
final class BrokerGrpcService extends BrokerGrpc.BrokerImplBase {
    /** The most one fetch response carries, under the gRPC message limit (64 MiB). */
    static final int FETCH_RESPONSE_MAX_BYTES = 32 << 20;

    private final BrokerApi api;

    BrokerGrpcService(BrokerApi api) {
        this.api = api;
    }

    /** The service behind {@link GrpcCallers#INTERCEPTOR}, which gives each call its caller's address. */
    static BindableService bindable(BrokerApi api) {
        BrokerGrpcService service = new BrokerGrpcService(api);
        return () -> ServerInterceptors.intercept(service, GrpcCallers.INTERCEPTOR);
    }

    // ---- Metadata ----

    @Override
    public void metadata(MetadataRequest request, StreamObserver<MetadataResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        boolean everyTopic = request.getTopicsCount() == 0;
        // Our SDK asks for topics it knows; topics are created explicitly (no auto-creation here).
        replyLater(observer, api.topics(everyTopic ? null : request.getTopicsList(), false),
                lookups -> metadataResponse(api.image(), describable(caller, everyTopic, lookups)),
                e -> MetadataResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    /**
     * The lookups the caller may see, as Kafka's Metadata: a topic asked for by name without DESCRIBE
     * is answered TOPIC_AUTHORIZATION_FAILED, one of every topic's listing is left out.
     */
    private List<BrokerApi.TopicLookup> describable(Authorization.Caller caller, boolean everyTopic,
            List<BrokerApi.TopicLookup> lookups) {
        List<BrokerApi.TopicLookup> out = new ArrayList<>();
        for (BrokerApi.TopicLookup lookup : lookups) {
            if (api.authorization().mayDescribeTopic(caller, lookup.name())) {
                out.add(lookup);
            } else if (!everyTopic) {
                out.add(new BrokerApi.TopicLookup(lookup.name(), null,
                        Authorization.topicDenied(caller, AclOperation.DESCRIBE, lookup.name())));
            }
        }
        return out;
    }

    private static MetadataResponse metadataResponse(MetadataImage image, List<BrokerApi.TopicLookup> lookups) {
        MetadataResponse.Builder response = MetadataResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setControllerId(image.controller() == null ? -1 : image.controller().controllerId())
                .setMetadataOffset(image.offset());
        for (BrokerRegistration b : image.brokersSorted()) {
            Endpoint e = b.endpoint(BrokerRegistration.GRPC_LISTENER).orElse(null);
            if (b.state() == BrokerState.FENCED || e == null) {
                continue;
            }
            response.addBrokers(BrokerInfo.newBuilder().setBrokerId(b.id()).setHost(e.getHost()).setPort(e.getPort())
                    .setRack(b.rack()));
        }
        for (BrokerApi.TopicLookup lookup : lookups) {
            TopicImage topic = lookup.topic();
            if (topic == null) {
                response.addTopics(TopicMetadata.newBuilder().setName(lookup.name())
                        .setError(lookup.error().toProto()));
                continue;
            }
            TopicMetadata.Builder t = TopicMetadata.newBuilder()
                    .setName(topic.name())
                    .setError(ApiError.NONE.toProto())
                    .setTopicId(Uuids.toProto(topic.id()));
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration p = topic.partition(i);
                t.addPartitions(PartitionMetadata.newBuilder()
                        .setPartition(i)
                        .setError(BrokerApi.partitionError(topic, i, p).toProto())
                        .setLeader(p.leader())
                        .setLeaderEpoch(p.leaderEpoch())
                        .addAllReplicas(p.replicas())
                        .addAllIsr(p.isr()));
            }
            response.addTopics(t);
        }
        return response.build();
    }

    // ---- Produce ----

    @Override
    public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
        replyLater(observer, answerProduce(GrpcCallers.current(), request), r -> r,
                BrokerGrpcService::produceFailure);
    }

    /**
     * One stream per producer connection, run on the transport thread (registered inline): each
     * request is appended as it arrives, so in the order sent, and the answers go out in the same
     * order (a chain of futures), as Kafka answers a connection's requests.
     */
    @Override
    public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        return new InOrderAnswers<>(observer, request -> answerProduce(caller, request),
                BrokerGrpcService::produceFailure);
    }

    private static ProduceResponse produceFailure(Throwable e) {
        return ProduceResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build();
    }

    /** Validates and appends one request; the answer completes when its acks are met. */
    private CompletableFuture<ProduceResponse> answerProduce(Authorization.Caller caller, ProduceRequest request) {
        List<BrokerApi.PartitionRecords> partitions = new ArrayList<>();
        Map<TopicPartition, ApiError> denied = new LinkedHashMap<>();
        for (TopicProduceData topic : request.getTopicsList()) {
            ApiError refusal = api.authorization().mayProduce(caller, topic.getName()) ? null
                    : Authorization.topicDenied(caller, AclOperation.WRITE, topic.getName());
            for (PartitionProduceData data : topic.getPartitionsList()) {
                if (refusal != null) {
                    denied.put(new TopicPartition(topic.getName(), data.getPartition()), refusal);
                    continue;
                }
                // A read-only view of the request's bytes: the API checks the batch sizes first and
                // copies them into a writable buffer (the leader stamps offsets into it) only then.
                partitions.add(new BrokerApi.PartitionRecords(new TopicPartition(topic.getName(),
                        data.getPartition()), data.getRecords().asReadOnlyByteBuffer()));
            }
        }
        if (partitions.isEmpty() && !denied.isEmpty()) {
            return CompletableFuture.completedFuture(produceResponse(Map.of(), denied));
        }
        // Our protocol has no transactional id; a transactional batch is still refused by the API.
        return api.produce(null, request.getAcks(), request.getTimeoutMs(), partitions).thenApply(answer -> {
            if (answer.error().isFailure()) {
                return ProduceResponse.newBuilder().setError(answer.error().toProto()).build();
            }
            return produceResponse(answer.results(), denied);
        });
    }

    /** The response of appended partitions' results and of those refused (each with its error). */
    private static ProduceResponse produceResponse(Map<TopicPartition, ProduceResult> results,
            Map<TopicPartition, ApiError> denied) {
        Map<String, TopicProduceResponse.Builder> byTopic = new LinkedHashMap<>();
        denied.forEach((tp, error) -> byTopic.computeIfAbsent(tp.topic(),
                n -> TopicProduceResponse.newBuilder().setName(n)).addPartitions(
                PartitionProduceResponse.newBuilder().setPartition(tp.partition()).setError(error.toProto())
                        .setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1).setCurrentLeader(-1)
                        .setCurrentLeaderEpoch(-1)));
        results.forEach((tp, r) -> byTopic.computeIfAbsent(tp.topic(),
                n -> TopicProduceResponse.newBuilder().setName(n)).addPartitions(
                PartitionProduceResponse.newBuilder()
                        .setPartition(tp.partition())
                        .setError(r.error().toProto())
                        .setBaseOffset(r.baseOffset())
                        .setLogAppendTimeMs(r.logAppendTimeMs())
                        .setLogStartOffset(r.logStartOffset())
                        .setCurrentLeader(r.currentLeader())
                        .setCurrentLeaderEpoch(r.currentLeaderEpoch())));
        ProduceResponse.Builder response = ProduceResponse.newBuilder().setError(ApiError.NONE.toProto());
        byTopic.values().forEach(response::addTopics);
        return response.build();
    }

    // ---- Fetch ----

    @Override
    public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
        int maxBytes = request.getMaxBytes() <= 0 ? FETCH_RESPONSE_MAX_BYTES
                : Math.min(request.getMaxBytes(), FETCH_RESPONSE_MAX_BYTES);
        Authorization.Caller caller = GrpcCallers.current();
        List<BrokerApi.FetchPartition> partitions = new ArrayList<>();
        for (FetchTopic topic : request.getTopicsList()) {
            if (!api.authorization().mayFetch(caller, topic.getName())) {
                refuse(observer, Authorization.topicDenied(caller, AclOperation.READ, topic.getName()),
                        e -> FetchResponse.newBuilder().setError(e).build());
                return;
            }
            for (FetchPartition p : topic.getPartitionsList()) {
                partitions.add(new BrokerApi.FetchPartition(new TopicPartition(topic.getName(), p.getPartition()),
                        new FetchSpec(p.getFetchOffset(), p.getPartitionMaxBytes(), p.getCurrentLeaderEpoch())));
            }
        }
        replyLater(observer, api.fetch(request.getMaxWaitMs(), request.getMinBytes(), maxBytes, partitions),
                BrokerGrpcService::fetchResponse,
                e -> FetchResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    private static FetchResponse fetchResponse(BrokerApi.FetchAnswer answer) throws IOException {
        if (answer.error().isFailure()) {
            return FetchResponse.newBuilder().setError(answer.error().toProto()).build();
        }
        Map<String, FetchableTopicResponse.Builder> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, FetchResult> entry : answer.results().entrySet()) {
            TopicPartition tp = entry.getKey();
            FetchResult r = entry.getValue();
            FetchablePartitionResponse.Builder p = FetchablePartitionResponse.newBuilder()
                    .setPartition(tp.partition())
                    .setError(r.error().toProto())
                    .setHighWatermark(r.highWatermark())
                    .setLogStartOffset(r.logStartOffset())
                    .setCurrentLeader(r.currentLeader())
                    .setCurrentLeaderEpoch(r.currentLeaderEpoch());
            if (!r.records().isEmpty()) {
                // Read from the log for this response only: no second copy.
                p.setRecords(UnsafeByteOperations.unsafeWrap(r.records().read()));
            }
            byTopic.computeIfAbsent(tp.topic(), n -> FetchableTopicResponse.newBuilder().setName(n)).addPartitions(p);
        }
        FetchResponse.Builder response = FetchResponse.newBuilder().setError(ApiError.NONE.toProto());
        byTopic.values().forEach(response::addTopics);
        return response.build();
    }

    // ---- ListOffsets ----

    @Override
    public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        List<BrokerApi.OffsetQuery> queries = new ArrayList<>();
        for (ListOffsetsTopic topic : request.getTopicsList()) {
            if (!api.authorization().mayDescribeTopic(caller, topic.getName())) {
                refuse(observer, Authorization.topicDenied(caller, AclOperation.DESCRIBE, topic.getName()),
                        e -> ListOffsetsResponse.newBuilder().setError(e).build());
                return;
            }
            for (ListOffsetsPartition p : topic.getPartitionsList()) {
                queries.add(new BrokerApi.OffsetQuery(new TopicPartition(topic.getName(), p.getPartition()),
                        p.getTimestamp(), p.getCurrentLeaderEpoch()));
            }
        }
        Iterator<ReplicaManager.ListOffsetResult> results = api.listOffsets(queries).iterator();
        ListOffsetsResponse.Builder response = ListOffsetsResponse.newBuilder().setError(ApiError.NONE.toProto());
        for (ListOffsetsTopic topic : request.getTopicsList()) {
            ListOffsetsTopicResponse.Builder t = ListOffsetsTopicResponse.newBuilder().setName(topic.getName());
            for (ListOffsetsPartition p : topic.getPartitionsList()) {
                ReplicaManager.ListOffsetResult r = results.next();
                t.addPartitions(ListOffsetsPartitionResponse.newBuilder()
                        .setPartition(p.getPartition())
                        .setError(r.error().toProto())
                        .setOffset(r.offset())
                        .setTimestamp(r.timestamp())
                        .setLeaderEpoch(r.leaderEpoch()));
            }
            response.addTopics(t);
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    // ---- administration, forwarded ----

    @Override
    public void createTopics(CreateTopicsRequest request, StreamObserver<CreateTopicsResponse> observer) {
        ApiError denied = createTopicsRefusal(GrpcCallers.current(), request);
        if (denied != null) {
            refuse(observer, denied, e -> CreateTopicsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().createTopics(request), r -> r,
                e -> CreateTopicsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void deleteTopics(DeleteTopicsRequest request, StreamObserver<DeleteTopicsResponse> observer) {
        ApiError denied = deleteTopicsRefusal(GrpcCallers.current(), request);
        if (denied != null) {
            refuse(observer, denied, e -> DeleteTopicsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().deleteTopics(request), r -> r,
                e -> DeleteTopicsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void createPartitions(CreatePartitionsRequest request,
            StreamObserver<CreatePartitionsResponse> observer) {
        ApiError denied = firstTopicRefused(GrpcCallers.current(), request.getTopicsList().stream()
                .map(CreatePartitionsTopic::getName).toList(), AclOperation.ALTER, api.authorization()::mayAlterTopic);
        if (denied != null) {
            refuse(observer, denied, e -> CreatePartitionsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().createPartitions(request), r -> r,
                e -> CreatePartitionsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void alterConfigs(AlterConfigsRequest request, StreamObserver<AlterConfigsResponse> observer) {
        ApiError denied = alterConfigsRefusal(GrpcCallers.current(), request);
        if (denied != null) {
            refuse(observer, denied, e -> AlterConfigsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().alterConfigs(request), r -> r,
                e -> AlterConfigsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void electLeaders(ElectLeadersRequest request, StreamObserver<ElectLeadersResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayElectLeaders(GrpcCallers.current()),
                AclOperation.ALTER);
        if (denied != null) {
            refuse(observer, denied, e -> ElectLeadersResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().electLeaders(request), r -> r,
                e -> ElectLeadersResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void createAcls(CreateAclsRequest request, StreamObserver<CreateAclsResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayAlterAcls(GrpcCallers.current()), AclOperation.ALTER);
        if (denied != null) {
            refuse(observer, denied, e -> CreateAclsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().createAcls(request), r -> r,
                e -> CreateAclsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void deleteAcls(DeleteAclsRequest request, StreamObserver<DeleteAclsResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayAlterAcls(GrpcCallers.current()), AclOperation.ALTER);
        if (denied != null) {
            refuse(observer, denied, e -> DeleteAclsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().deleteAcls(request), r -> r,
                e -> DeleteAclsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void describeAcls(DescribeAclsRequest request, StreamObserver<DescribeAclsResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayDescribeAcls(GrpcCallers.current()),
                AclOperation.DESCRIBE);
        if (denied != null) {
            refuse(observer, denied, e -> DescribeAclsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().describeAcls(request), r -> r,
                e -> DescribeAclsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void alterUserScramCredentials(AlterUserScramCredentialsRequest request,
            StreamObserver<AlterUserScramCredentialsResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayAlterScramCredentials(GrpcCallers.current()),
                AclOperation.ALTER);
        if (denied != null) {
            refuse(observer, denied, e -> AlterUserScramCredentialsResponse.newBuilder().setError(e).build());
            return;
        }
        replyLater(observer, api.admin().alterUserScramCredentials(request), r -> r,
                e -> AlterUserScramCredentialsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void describeUserScramCredentials(DescribeUserScramCredentialsRequest request,
            StreamObserver<DescribeUserScramCredentialsResponse> observer) {
        ApiError denied = clusterRefusal(api.authorization().mayDescribeScramCredentials(GrpcCallers.current()),
                AclOperation.DESCRIBE);
        if (denied != null) {
            refuse(observer, denied, e -> DescribeUserScramCredentialsResponse.newBuilder().setError(e).build());
            return;
        }
        observer.onNext(api.admin().describeUserScramCredentials(request.getUsersList()));
        observer.onCompleted();
    }

    @Override
    public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> observer) {
        replyLater(observer, api.admin().describeCluster(request), r -> r,
                e -> DescribeClusterResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    @Override
    public void describeTopics(DescribeTopicsRequest request, StreamObserver<DescribeTopicsResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        ApiError denied = firstTopicRefused(caller, request.getNamesList(), AclOperation.DESCRIBE,
                api.authorization()::mayDescribeTopic);
        if (denied != null) {
            refuse(observer, denied, e -> DescribeTopicsResponse.newBuilder().setError(e).build());
            return;
        }
        // Every topic asked for (no names): only those the caller may describe, as Kafka lists them;
        // a topic's config overrides only to who may DESCRIBE_CONFIGS it.
        replyLater(observer, api.admin().describeTopics(request), r -> r.toBuilder().clearTopics()
                        .addAllTopics(r.getTopicsList().stream()
                                .filter(t -> api.authorization().mayDescribeTopic(caller, t.getName()))
                                .map(t -> api.authorization().mayConfigs(caller, AclOperation.DESCRIBE_CONFIGS,
                                        t.getName()) ? t : t.toBuilder().clearConfigs().build())
                                .toList())
                        .build(),
                e -> DescribeTopicsResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).build());
    }

    // ---- InitProducerId ----

    @Override
    public void initProducerId(InitProducerIdRequest request, StreamObserver<InitProducerIdResponse> observer) {
        if (request.getTransactionalId().isEmpty()
                && !api.authorization().mayInitIdempotentProducer(GrpcCallers.current())) {
            refuse(observer, Authorization.clusterDenied(GrpcCallers.current(), AclOperation.IDEMPOTENT_WRITE),
                    e -> InitProducerIdResponse.newBuilder().setError(e).setProducerId(-1).setProducerEpoch(-1)
                            .build());
            return;
        }
        replyLater(observer, api.initProducerId(request.getTransactionalId(), request.getProducerId(),
                request.getProducerEpoch()), r -> InitProducerIdResponse.newBuilder()
                        .setError(r.error().toProto())
                        .setProducerId(r.producerId())
                        .setProducerEpoch(r.producerEpoch())
                        .build(),
                e -> InitProducerIdResponse.newBuilder().setError(BrokerApi.internal(e).toProto()).setProducerId(-1)
                        .setProducerEpoch(-1).build());
    }

    // ---- refusals ----

    private ApiError createTopicsRefusal(Authorization.Caller caller, CreateTopicsRequest request) {
        return firstTopicRefused(caller, request.getTopicsList().stream().map(CreatableTopic::getName).toList(),
                AclOperation.CREATE, api.authorization()::mayCreateTopic);
    }

    /** Topics deleted by id are checked under the name this broker's metadata has for them (unknown ids pass on). */
    private ApiError deleteTopicsRefusal(Authorization.Caller caller, DeleteTopicsRequest request) {
        List<String> names = new ArrayList<>(request.getNamesList());
        MetadataImage image = api.image();
        request.getTopicIdsList().forEach(id -> {
            TopicImage topic = image.topic(Uuids.fromProto(id));
            if (topic != null) {
                names.add(topic.name());
            }
        });
        return firstTopicRefused(caller, names, AclOperation.DELETE, api.authorization()::mayDeleteTopic);
    }

    private ApiError alterConfigsRefusal(Authorization.Caller caller, AlterConfigsRequest request) {
        for (AlterConfigsResource r : request.getResourcesList()) {
            String topic = r.getResourceType() == ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC ? r.getResourceName()
                    : null;
            if (!api.authorization().mayConfigs(caller, AclOperation.ALTER_CONFIGS, topic)) {
                return topic == null ? Authorization.clusterDenied(caller, AclOperation.ALTER_CONFIGS)
                        : Authorization.topicDenied(caller, AclOperation.ALTER_CONFIGS, topic);
            }
        }
        return null;
    }

    /** The refusal of the first of {@code topics} the rule refuses, or null when it allows them all. */
    private static ApiError firstTopicRefused(Authorization.Caller caller, List<String> topics, AclOperation op,
            BiPredicate<Authorization.Caller, String> rule) {
        for (String topic : topics) {
            if (!rule.test(caller, topic)) {
                return Authorization.topicDenied(caller, op, topic);
            }
        }
        return null;
    }

    private static ApiError clusterRefusal(boolean allowed, AclOperation op) {
        return allowed ? null : Authorization.clusterDenied(GrpcCallers.current(), op);
    }

    /** Answers a refused call at once: nothing was done. */
    private static <R> void refuse(StreamObserver<R> observer, ApiError denied,
            Function<io.raftmq.protocol.common.Error, R> toResponse) {
        observer.onNext(toResponse.apply(denied.toProto()));
        observer.onCompleted();
    }

    /** Turns an answer into the response; may fail reading the log (the response is then the failure's). */
    @FunctionalInterface
    private interface ToResponse<T, R> {
        R apply(T value) throws IOException;
    }

    /** Sends the answer when {@code future} completes, unless the caller went away. */
    private static <T, R> void replyLater(StreamObserver<R> observer, CompletableFuture<T> future,
            ToResponse<T, R> toResponse, Function<Throwable, R> onFailure) {
        UnaryAnswers.answerWhenDone(observer, future, (value, error) -> {
            try {
                return error == null ? toResponse.apply(value) : onFailure.apply(error);
            } catch (IOException | RuntimeException e) {
                return onFailure.apply(e);
            }
        });
    }
}
