package io.raftmq.metadata.service;

import io.grpc.stub.StreamObserver;
import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.controller.ClientConnection;
import io.raftmq.metadata.controller.Committed;
import io.raftmq.metadata.controller.ControllerBusyException;
import io.raftmq.metadata.controller.ControllerHints;
import io.raftmq.metadata.controller.NotControllerException;
import io.raftmq.metadata.controller.QuorumController;
import io.raftmq.metadata.image.Acls;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.loader.MetadataLoader;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.Voter;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.BrokerDescription;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.BrokerState;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.ControllerHint;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.DescribeAclsRequest;
import io.raftmq.protocol.controller.DescribeAclsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsRequest;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.MetadataEvent;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import io.raftmq.protocol.controller.TopicDescription;
import io.raftmq.protocol.controller.VoterDescription;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Controller gRPC service of one voter. Writes go to the {@link QuorumController} and are
 * answered once their records commit (or NOT_CONTROLLER with a hint, on a voter that is not
 * active); reads are answered from this voter's applied image, after waiting (bounded) for the
 * offset the caller asks for; WatchMetadata goes to the {@link MetadataWatchService}.
 *
 * <p>RegisterBroker and BrokerHeartbeat pass the controller the connection they came over (from
 * {@link ClientConnections}, when the server hosts this service through it), so that the
 * controller can tell when a broker's heartbeat connection closes.
 *
 * <p>Called on gRPC's threads; holds no mutable state of its own.
 */
public final class ControllerGrpcService extends ControllerGrpc.ControllerImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerGrpcService.class);

    /**
     * @param requestTimeoutMs how long a write may wait for its records to commit
     * @param readWaitMs how long a read may wait for this voter to apply the asked offset
     */
    public record Options(int nodeId, List<Voter> voters, long requestTimeoutMs, long readWaitMs) {}

    private final Options options;
    private final QuorumController controller;
    private final MetadataLoader loader;
    private final MetadataWatchService watches;

    public ControllerGrpcService(
            Options options, QuorumController controller, MetadataLoader loader, MetadataWatchService watches) {
        this.options = options;
        this.controller = controller;
        this.loader = loader;
        this.watches = watches;
    }

    // ---- writes ----

    @Override
    public void registerBroker(RegisterBrokerRequest request, StreamObserver<RegisterBrokerResponse> observer) {
        ClientConnection connection = ClientConnections.current();
        respond("RegisterBroker", controller.registerBroker(request, connection), observer, committed -> {
            BrokerRegistration registered = committed.image().broker(request.getBrokerId());
            RegisterBrokerResponse.Builder reply = committed.reply().toBuilder();
            if (registered != null && reply.getError().getCode() == ErrorCode.NONE) {
                reply.setRegistrationOffset(registered.registrationOffset());
            }
            return reply.build();
        }, (error, hint) -> RegisterBrokerResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void brokerHeartbeat(BrokerHeartbeatRequest request, StreamObserver<BrokerHeartbeatResponse> observer) {
        ClientConnection connection = ClientConnections.current();
        respond("BrokerHeartbeat", controller.brokerHeartbeat(request, connection), observer,
                committed -> committed.reply().toBuilder().setMetadataOffset(committed.offset()).build(),
                (error, hint) -> BrokerHeartbeatResponse.newBuilder()
                        .setError(error).setController(hint).setIsFenced(true).build());
    }

    @Override
    public void alterPartition(AlterPartitionRequest request, StreamObserver<AlterPartitionResponse> observer) {
        respond("AlterPartition", controller.alterPartition(request), observer, Committed::reply,
                (error, hint) -> AlterPartitionResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void allocateProducerIds(AllocateProducerIdsRequest request,
            StreamObserver<AllocateProducerIdsResponse> observer) {
        respond("AllocateProducerIds", controller.allocateProducerIds(request), observer, Committed::reply,
                (error, hint) -> AllocateProducerIdsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void createTopics(CreateTopicsRequest request, StreamObserver<CreateTopicsResponse> observer) {
        respond("CreateTopics", controller.createTopics(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> CreateTopicsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void deleteTopics(DeleteTopicsRequest request, StreamObserver<DeleteTopicsResponse> observer) {
        respond("DeleteTopics", controller.deleteTopics(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> DeleteTopicsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void createPartitions(CreatePartitionsRequest request, StreamObserver<CreatePartitionsResponse> observer) {
        respond("CreatePartitions", controller.createPartitions(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> CreatePartitionsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void alterConfigs(AlterConfigsRequest request, StreamObserver<AlterConfigsResponse> observer) {
        respond("AlterConfigs", controller.alterConfigs(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> AlterConfigsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void createAcls(CreateAclsRequest request, StreamObserver<CreateAclsResponse> observer) {
        respond("CreateAcls", controller.createAcls(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> CreateAclsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void deleteAcls(DeleteAclsRequest request, StreamObserver<DeleteAclsResponse> observer) {
        respond("DeleteAcls", controller.deleteAcls(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.offset()).build(),
                (error, hint) -> DeleteAclsResponse.newBuilder().setError(error).setController(hint).build());
    }

    /**
     * Answered once the changes commit (the offset of their batch; 0 when every user was refused).
     * Any client of this port may call it: the gRPC port is not authenticated yet, which is how
     * the first user of a SASL-only cluster is made ({@code raftmq users add}).
     */
    @Override
    public void alterUserScramCredentials(AlterUserScramCredentialsRequest request,
            StreamObserver<AlterUserScramCredentialsResponse> observer) {
        respond("AlterUserScramCredentials", controller.alterUserScramCredentials(request), observer,
                c -> c.reply().toBuilder().setMetadataOffset(c.reply().getResultsList().stream()
                        .anyMatch(r -> r.getError().getCode() == ErrorCode.NONE) ? c.offset() : 0).build(),
                (error, hint) -> AlterUserScramCredentialsResponse.newBuilder().setError(error).setController(hint)
                        .build());
    }

    @Override
    public void describeUserScramCredentials(DescribeUserScramCredentialsRequest request,
            StreamObserver<DescribeUserScramCredentialsResponse> observer) {
        read(0, observer, image -> ScramCredentialDescriptions.of(image, request.getUsersList()),
                (error, hint) -> DescribeUserScramCredentialsResponse.newBuilder().setError(error).build());
    }

    /**
     * The offset of the batch with the new leaders, or -1 when no election succeeded: a successful
     * election always writes a record, so then nothing was written.
     */
    @Override
    public void electLeaders(ElectLeadersRequest request, StreamObserver<ElectLeadersResponse> observer) {
        respond("ElectLeaders", controller.electLeaders(request), observer, c -> {
            boolean wrote = c.reply().getResultsList().stream()
                    .anyMatch(r -> r.getError().getCode() == ErrorCode.NONE);
            return c.reply().toBuilder().setMetadataOffset(wrote ? c.offset() : -1).build();
        }, (error, hint) -> ElectLeadersResponse.newBuilder().setError(error).setController(hint)
                .setMetadataOffset(-1).build());
    }

    /**
     * Sends the committed reply, or the error response for why there is none: NOT_CONTROLLER with
     * the hint, REQUEST_TIMED_OUT (the outcome is unknown), or UNKNOWN_SERVER_ERROR.
     */
    private <T, R> void respond(String name, CompletableFuture<Committed<T>> future, StreamObserver<R> observer,
            Function<Committed<T>, R> success, BiFunction<Error, ControllerHint, R> failure) {
        future.orTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS).whenComplete((committed, thrown) -> {
            R response;
            if (thrown == null) {
                response = success.apply(committed);
            } else {
                Throwable cause = Failures.unwrap(thrown);
                ControllerHint hint = ControllerHints.of(loader.leader(), loader.image());
                if (cause instanceof NotControllerException nce) {
                    response = failure.apply(ApiError.of(ErrorCode.NOT_CONTROLLER, nce.getMessage()).toProto(),
                            nce.hint());
                } else if (cause instanceof TimeoutException) {
                    response = failure.apply(ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "%s was not committed within"
                            + " %d ms; its outcome is unknown", name, options.requestTimeoutMs()).toProto(), hint);
                } else if (cause instanceof ControllerBusyException) {
                    response = failure.apply(ApiError.of(ErrorCode.REQUEST_TIMED_OUT, cause.getMessage()).toProto(),
                            hint);
                } else {
                    LOG.error("[node {}] {} failed", options.nodeId(), name, cause);
                    response = failure.apply(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "%s failed on node %d: %s",
                            name, options.nodeId(), cause).toProto(), hint);
                }
            }
            try {
                observer.onNext(response);
                observer.onCompleted();
            } catch (RuntimeException callClosed) {
                // The caller went away (deadline or cancel): nobody to answer.
            }
        });
    }

    // ---- reads ----

    @Override
    public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> observer) {
        read(request.getMinMetadataOffset(), observer, image -> {
            LeaderAndEpoch leader = loader.leader();
            DescribeClusterResponse.Builder out = DescribeClusterResponse.newBuilder()
                    .setError(ApiError.NONE.toProto())
                    .setController(ControllerHints.of(leader, image))
                    .setControllerEpoch(leader.epoch())
                    .setMetadataOffset(image.offset())
                    .setAnsweredBy(options.nodeId());
            if (image.clusterId() != null) {
                out.setClusterId(image.clusterId());
            }
            for (Voter voter : options.voters()) {
                out.addVoters(VoterDescription.newBuilder()
                        .setNodeId(voter.nodeId())
                        .setRaftHost(voter.host())
                        .setRaftPort(voter.port())
                        .setIsLeader(leader.isLeader(voter.nodeId())));
            }
            for (BrokerRegistration broker : image.brokersSorted()) {
                out.addBrokers(BrokerDescription.newBuilder()
                        .setBrokerId(broker.id())
                        .setBrokerEpoch(broker.epoch())
                        .setIncarnationId(Uuids.toProto(broker.incarnationId()))
                        .addAllEndpoints(broker.endpoints())
                        .setRack(broker.rack())
                        .setState(switch (broker.state()) {
                            case FENCED -> BrokerState.FENCED;
                            case UNFENCED -> BrokerState.UNFENCED;
                            case CONTROLLED_SHUTDOWN -> BrokerState.CONTROLLED_SHUTDOWN;
                        }));
            }
            return out.build();
        }, (error, hint) -> DescribeClusterResponse.newBuilder().setError(error).setController(hint)
                .setAnsweredBy(options.nodeId()).build());
    }

    @Override
    public void describeTopics(DescribeTopicsRequest request, StreamObserver<DescribeTopicsResponse> observer) {
        read(request.getMinMetadataOffset(), observer, image -> TopicDescriptions.of(image, request.getNamesList())
                        .setController(ControllerHints.of(loader.leader(), image)).build(),
                (error, hint) -> DescribeTopicsResponse.newBuilder().setError(error).setController(hint).build());
    }

    @Override
    public void describeAcls(DescribeAclsRequest request, StreamObserver<DescribeAclsResponse> observer) {
        read(request.getMinMetadataOffset(), observer, image -> {
            DescribeAclsResponse.Builder out = DescribeAclsResponse.newBuilder()
                    .setError(ApiError.NONE.toProto())
                    .setController(ControllerHints.of(loader.leader(), image))
                    .setMetadataOffset(image.offset());
            Acls.matching(image.acls(), Acls.toFilter(request.getFilter())).forEach(a -> out.addAcls(Acls.toEntry(a)));
            return out.build();
        }, (error, hint) -> DescribeAclsResponse.newBuilder().setError(error).setController(hint).build());
    }

    private <R> void read(long minOffset, StreamObserver<R> observer, Function<MetadataImage, R> answer,
            BiFunction<Error, ControllerHint, R> failure) {
        loader.whenApplied(minOffset).orTimeout(options.readWaitMs(), TimeUnit.MILLISECONDS)
                .whenComplete((image, thrown) -> {
                    R response;
                    if (thrown == null) {
                        response = answer.apply(image);
                    } else {
                        MetadataImage current = loader.image();
                        response = failure.apply(ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "node %d has applied"
                                        + " metadata up to offset %d; the request asked for %d and it did not arrive"
                                        + " within %d ms", options.nodeId(), current.offset(), minOffset,
                                options.readWaitMs()).toProto(), ControllerHints.of(loader.leader(), current));
                    }
                    try {
                        observer.onNext(response);
                        observer.onCompleted();
                    } catch (RuntimeException callClosed) {
                        // The caller went away.
                    }
                });
    }

    // ---- watch ----

    @Override
    public void watchMetadata(WatchMetadataRequest request, StreamObserver<MetadataEvent> observer) {
        watches.watch(request, observer);
    }
}
