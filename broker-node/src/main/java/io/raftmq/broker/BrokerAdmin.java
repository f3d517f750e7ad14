package io.raftmq.broker;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.Acls;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.service.ScramCredentialDescriptions;
import io.raftmq.metadata.service.TopicDescriptions;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
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
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.DescribeUserScramCredentialsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.storage.LogManager;
import io.raftmq.storage.PartitionLog;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;

/**
 * The administrative part of the broker's client API ({@link BrokerApi#admin()}), protocol-neutral
 * like the rest: topic administration and leader elections forwarded to the active controller and
 * answered once this broker has applied the change (its replicas too, so that a client's next
 * produce finds a new partition open); describing topics and configs from this broker's metadata;
 * its log directory.
 *
 * <p>Stateless apart from its collaborators; called from any thread. Nothing here waits: forwarded
 * calls complete their futures later and never fail (a transport failure becomes the response's
 * error).
 */
public final class BrokerAdmin {
    /** How long an admin answer waits for this broker's metadata to include the change. */
    static final long METADATA_CATCH_UP_MS = 5_000;

    private final int brokerId;
    private final MetadataWatcher metadata;
    private final ReplicaManager replicas;
    private final ControllerClient controller;
    private final LogManager logs;
    private final ConfigDescriptions configDescriptions;
    private final UnaryOperator<MetadataImage> clientView;

    /** @param clientView the image as clients may be told it (see {@link BrokerApi#image()}) */
    BrokerAdmin(int brokerId, MetadataWatcher metadata, ReplicaManager replicas, ControllerClient controller,
            BrokerConfig config, LogManager logs, UnaryOperator<MetadataImage> clientView) {
        this.brokerId = brokerId;
        this.clientView = clientView;
        this.metadata = metadata;
        this.replicas = replicas;
        this.controller = controller;
        this.logs = logs;
        this.configDescriptions = new ConfigDescriptions(config);
    }

    // ---- administration, forwarded to the controller ----

    public CompletableFuture<CreateTopicsResponse> createTopics(CreateTopicsRequest request) {
        return forward(controller.createTopics(request), CreateTopicsResponse::getError,
                CreateTopicsResponse::getMetadataOffset, e -> CreateTopicsResponse.newBuilder().setError(e).build());
    }

    public CompletableFuture<DeleteTopicsResponse> deleteTopics(DeleteTopicsRequest request) {
        return forward(controller.deleteTopics(request), DeleteTopicsResponse::getError,
                DeleteTopicsResponse::getMetadataOffset, e -> DeleteTopicsResponse.newBuilder().setError(e).build());
    }

    public CompletableFuture<CreatePartitionsResponse> createPartitions(CreatePartitionsRequest request) {
        return forward(controller.createPartitions(request), CreatePartitionsResponse::getError,
                CreatePartitionsResponse::getMetadataOffset,
                e -> CreatePartitionsResponse.newBuilder().setError(e).build());
    }

    public CompletableFuture<AlterConfigsResponse> alterConfigs(AlterConfigsRequest request) {
        return forward(controller.alterConfigs(request), AlterConfigsResponse::getError,
                AlterConfigsResponse::getMetadataOffset, e -> AlterConfigsResponse.newBuilder().setError(e).build());
    }

    /** ACLs added by the controller; answered once this broker's metadata has them. */
    public CompletableFuture<CreateAclsResponse> createAcls(CreateAclsRequest request) {
        return forward(controller.createAcls(request), CreateAclsResponse::getError,
                CreateAclsResponse::getMetadataOffset, e -> CreateAclsResponse.newBuilder().setError(e).build());
    }

    /** ACLs matching the filters removed by the controller; answered once this broker's metadata has it. */
    public CompletableFuture<DeleteAclsResponse> deleteAcls(DeleteAclsRequest request) {
        return forward(controller.deleteAcls(request), DeleteAclsResponse::getError,
                DeleteAclsResponse::getMetadataOffset, e -> DeleteAclsResponse.newBuilder().setError(e).build());
    }

    /**
     * Sets and deletes users' SCRAM credentials, decided by the controller; answered once this
     * broker's metadata has them, so that the client's next connection here authenticates with them.
     */
    public CompletableFuture<AlterUserScramCredentialsResponse> alterUserScramCredentials(
            AlterUserScramCredentialsRequest request) {
        return forward(controller.alterUserScramCredentials(request), AlterUserScramCredentialsResponse::getError,
                AlterUserScramCredentialsResponse::getMetadataOffset,
                e -> AlterUserScramCredentialsResponse.newBuilder().setError(e).build());
    }

    /** Users' SCRAM mechanisms and iterations from this broker's metadata (every user when none is named). */
    public DescribeUserScramCredentialsResponse describeUserScramCredentials(List<String> users) {
        return ScramCredentialDescriptions.of(metadata.image(), users);
    }

    /**
     * Preferred or unclean leader election for the listed partitions (none listed: all), decided
     * by the controller; answered once this broker's metadata has the new leaders.
     */
    public CompletableFuture<ElectLeadersResponse> electLeaders(ElectLeadersRequest request) {
        return forward(controller.electLeaders(request), ElectLeadersResponse::getError,
                ElectLeadersResponse::getMetadataOffset, e -> ElectLeadersResponse.newBuilder().setError(e).build());
    }

    /** The quorum as the controller describes it (voters, leader, every registered broker). */
    public CompletableFuture<DescribeClusterResponse> describeCluster(DescribeClusterRequest request) {
        return forward(controller.describeCluster(request), DescribeClusterResponse::getError, r -> -1L,
                e -> DescribeClusterResponse.newBuilder().setError(e).build());
    }

    /**
     * Topics from this broker's metadata, once it has applied {@code min_metadata_offset} (waiting
     * at most as long as the admin forwarding does; then REQUEST_TIMED_OUT naming both offsets).
     */
    public CompletableFuture<DescribeTopicsResponse> describeTopics(DescribeTopicsRequest request) {
        long minOffset = request.getMinMetadataOffset();
        return metadata.whenApplied(minOffset)
                .orTimeout(METADATA_CATCH_UP_MS, TimeUnit.MILLISECONDS)
                .handle((image, error) -> {
                    if (error != null) {
                        return DescribeTopicsResponse.newBuilder().setError(ApiError.of(ErrorCode.REQUEST_TIMED_OUT,
                                "broker %d has applied metadata up to offset %d; the request asked for %d and it did"
                                        + " not arrive within %d ms", brokerId, metadata.image().offset(), minOffset,
                                METADATA_CATCH_UP_MS).toProto()).build();
                    }
                    return TopicDescriptions.of(clientView.apply(image), request.getNamesList()).build();
                });
    }

    /** The ACLs matching the request's filter, from this broker's metadata once it has {@code min_metadata_offset}. */
    public CompletableFuture<DescribeAclsResponse> describeAcls(DescribeAclsRequest request) {
        long minOffset = request.getMinMetadataOffset();
        return metadata.whenApplied(minOffset)
                .orTimeout(METADATA_CATCH_UP_MS, TimeUnit.MILLISECONDS)
                .handle((image, error) -> {
                    if (error != null) {
                        return DescribeAclsResponse.newBuilder().setError(ApiError.of(ErrorCode.REQUEST_TIMED_OUT,
                                "broker %d has applied metadata up to offset %d; the request asked for %d and it did"
                                        + " not arrive within %d ms", brokerId, metadata.image().offset(), minOffset,
                                METADATA_CATCH_UP_MS).toProto()).build();
                    }
                    DescribeAclsResponse.Builder out = DescribeAclsResponse.newBuilder()
                            .setError(ApiError.NONE.toProto()).setMetadataOffset(image.offset());
                    Acls.matching(image.acls(), Acls.toFilter(request.getFilter()))
                            .forEach(a -> out.addAcls(Acls.toEntry(a)));
                    return out.build();
                });
    }

    /**
     * Answers with the controller's response once this broker's metadata has reached the offset
     * the change committed at (bounded: the change is committed either way). Never fails: a
     * transport failure becomes the response's error.
     */
    private <R> CompletableFuture<R> forward(CompletableFuture<R> call, Function<R, Error> errorOf,
            ToLongFunction<R> offsetOf, Function<Error, R> onFailure) {
        return call.thenCompose(response -> {
            long offset = offsetOf.applyAsLong(response);
            if (errorOf.apply(response).getCode() != ErrorCode.NONE || offset < 0) {
                return CompletableFuture.completedFuture(response);
            }
            // The replicas, not only the image: a client's next Produce to a partition just created
            // here must find it open.
            return replicas.whenApplied(offset)
                    .orTimeout(METADATA_CATCH_UP_MS, TimeUnit.MILLISECONDS)
                    .handle((applied, error) -> response);
        }).exceptionally(e -> onFailure.apply(controllerFailure(e).toProto()));
    }

    private static ApiError controllerFailure(Throwable t) {
        Throwable cause = Failures.unwrap(t);
        if (cause instanceof StatusRuntimeException s) {
            Status.Code code = s.getStatus().getCode();
            if (code == Status.Code.DEADLINE_EXCEEDED) {
                return ApiError.of(ErrorCode.REQUEST_TIMED_OUT, "the controller did not answer in time: %s",
                        s.getStatus().getDescription());
            }
            if (code == Status.Code.UNAVAILABLE) {
                return ApiError.of(ErrorCode.NOT_CONTROLLER, "no active controller is reachable: %s",
                        s.getStatus().getDescription());
            }
        }
        return BrokerApi.internal(cause);
    }

    // ---- configs ----

    /** Every config of topic {@code name} with its value and source, or null when the topic does not exist. */
    public List<ConfigDescriptions.Described> describeTopicConfigs(String name) {
        TopicImage topic = metadata.image().topic(name);
        return topic == null ? null : configDescriptions.topic(topic);
    }

    /**
     * Every config a topic created now with {@code overrides} would have (what a CreateTopics answer
     * reports, also for a validate-only request, which creates nothing). The overrides are assumed
     * valid: the controller checks them.
     */
    public List<ConfigDescriptions.Described> describeNewTopicConfigs(Map<String, String> overrides) {
        return configDescriptions.topic(overrides);
    }

    /** Every setting of this broker (read-only). */
    public List<ConfigDescriptions.Described> describeBrokerConfigs() {
        return configDescriptions.broker();
    }

    // ---- log directories ----

    /** A partition's log on this broker. */
    public record LogDirPartition(TopicPartition tp, long sizeBytes) {}

    /**
     * This broker's log directory: its path, the partitions in it with their sizes, and the disk's
     * total and usable bytes (-1 when unknown), or the error reading it.
     */
    public record LogDir(String path, ApiError error, long totalBytes, long usableBytes,
            List<LogDirPartition> partitions) {}

    public LogDir describeLogDir() {
        List<LogDirPartition> partitions = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionLog> e : logs.logs().entrySet()) {
            partitions.add(new LogDirPartition(e.getKey(), e.getValue().sizeInBytes()));
        }
        String path = logs.dir().toAbsolutePath().toString();
        try {
            FileStore store = Files.getFileStore(logs.dir());
            return new LogDir(path, ApiError.NONE, store.getTotalSpace(), store.getUsableSpace(), partitions);
        } catch (IOException e) {
            return new LogDir(path, ApiError.of(ErrorCode.STORAGE_ERROR, "cannot read the disk of %s: %s", path, e),
                    -1, -1, partitions);
        }
    }
}
