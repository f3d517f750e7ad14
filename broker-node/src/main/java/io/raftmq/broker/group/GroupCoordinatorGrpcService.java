package io.raftmq.broker.group;

import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.stub.StreamObserver;
import io.raftmq.broker.Authorization;
import io.raftmq.broker.GrpcCallers;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.protocol.broker.DeleteGroupsRequest;
import io.raftmq.protocol.broker.DeleteGroupsResponse;
import io.raftmq.protocol.broker.DescribeGroupsRequest;
import io.raftmq.protocol.broker.DescribeGroupsResponse;
import io.raftmq.protocol.broker.FindCoordinatorRequest;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.broker.HeartbeatRequest;
import io.raftmq.protocol.broker.HeartbeatResponse;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.LeaveGroupRequest;
import io.raftmq.protocol.broker.LeaveGroupResponse;
import io.raftmq.protocol.broker.ListGroupsRequest;
import io.raftmq.protocol.broker.ListGroupsResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetDeleteTopic;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.rpc.UnaryAnswers;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.acl.AclOperation;

/**
 * The GroupCoordinator gRPC service: turns the SDK's calls into {@link GroupCoordinator} work
 * ({@link SdkGroupMembers} translates membership) and answers when it completes. A JoinGroup or SyncGroup is held open without a thread while the rebalance
 * runs. Each call first asks the broker's {@link Authorization} rules what the Kafka listener asks
 * for the same request (READ on the group to join, sync, heartbeat, leave or commit, and READ on
 * the committed topics; DESCRIBE on the group to find its coordinator, describe it or fetch its
 * offsets; DELETE to delete it or its offsets; listings show only what the caller may describe),
 * and refuses it with GROUP_/TOPIC_AUTHORIZATION_FAILED before the coordinator sees it.
 * Stateless; called on gRPC threads.
 */
final class GroupCoordinatorGrpcService extends GroupCoordinatorGrpc.GroupCoordinatorImplBase {
    private final GroupCoordinator coordinator;
    private final Authorization authz;

    private GroupCoordinatorGrpcService(GroupCoordinator coordinator, Authorization authz) {
        this.coordinator = coordinator;
        this.authz = authz;
    }

    /** The service behind {@link GrpcCallers#INTERCEPTOR}, which gives each call its caller's address. */
    static BindableService bindable(GroupCoordinator coordinator, Authorization authz) {
        GroupCoordinatorGrpcService service = new GroupCoordinatorGrpcService(coordinator, authz);
        return () -> ServerInterceptors.intercept(service, GrpcCallers.INTERCEPTOR);
    }

    @Override
    public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        if (!authz.mayDescribeGroup(caller, request.getGroupId())) {
            refuse(observer, Authorization.groupDenied(caller, AclOperation.DESCRIBE, request.getGroupId()),
                    e -> FindCoordinatorResponse.newBuilder().setError(e.toProto()).setNodeId(-1).build());
            return;
        }
        reply(observer, coordinator.findCoordinator(request.getGroupId(), BrokerRegistration.GRPC_LISTENER),
                e -> FindCoordinatorResponse.newBuilder().setError(e.toProto()).setNodeId(-1).build());
    }

    @Override
    public void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        if (refusedGroupRead(caller, request.getGroupId(), observer,
                e -> SdkGroupMembers.joinError(e, request.getMemberId()))) {
            return;
        }
        ClassicGroupApi.JoinRequest join = SdkGroupMembers.joinRequest(request, caller.host());
        if (join == null) {
            reply(observer, CompletableFuture.completedFuture(SdkGroupMembers.joinError(
                    SdkGroupMembers.unknownAssignors(request), request.getMemberId())), e -> null);
            return;
        }
        reply(observer, coordinator.joinGroup(join).thenApply(SdkGroupMembers::joinResponse),
                e -> SdkGroupMembers.joinError(e, request.getMemberId()));
    }

    @Override
    public void syncGroup(SyncGroupRequest request, StreamObserver<SyncGroupResponse> observer) {
        if (refusedGroupRead(GrpcCallers.current(), request.getGroupId(), observer,
                e -> SyncGroupResponse.newBuilder().setError(e.toProto()).build())) {
            return;
        }
        reply(observer, coordinator.syncGroup(SdkGroupMembers.syncRequest(request))
                .thenApply(SdkGroupMembers::syncResponse),
                e -> SyncGroupResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        if (refusedGroupRead(GrpcCallers.current(), request.getGroupId(), observer,
                e -> HeartbeatResponse.newBuilder().setError(e.toProto()).build())) {
            return;
        }
        reply(observer, coordinator.heartbeat(new ClassicGroupApi.HeartbeatRequest(request.getGroupId(),
                request.getMemberId(), null, request.getGenerationId()))
                .thenApply(e -> HeartbeatResponse.newBuilder().setError(e.toProto()).build()),
                e -> HeartbeatResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> observer) {
        if (refusedGroupRead(GrpcCallers.current(), request.getGroupId(), observer,
                e -> LeaveGroupResponse.newBuilder().setError(e.toProto()).build())) {
            return;
        }
        reply(observer, coordinator.leaveGroup(request.getGroupId(), List.of(new ClassicGroupApi.LeavingMember(
                request.getMemberId(), null, null))).thenApply(r -> {
                    ApiError error = r.error().isFailure() || r.members().isEmpty() ? r.error()
                            : r.members().get(0).error();
                    return LeaveGroupResponse.newBuilder().setError(error.toProto()).build();
                }), e -> LeaveGroupResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void offsetCommit(OffsetCommitRequest request, StreamObserver<OffsetCommitResponse> observer) {
        Function<ApiError, OffsetCommitResponse> onError = e -> OffsetCommitResponse.newBuilder()
                .setError(e.toProto()).build();
        Authorization.Caller caller = GrpcCallers.current();
        if (refusedGroupRead(caller, request.getGroupId(), observer, onError)) {
            return;
        }
        for (OffsetCommitTopic t : request.getTopicsList()) {
            if (!authz.mayCommitOffset(caller, t.getName())) {
                refuse(observer, Authorization.topicDenied(caller, AclOperation.READ, t.getName()), onError);
                return;
            }
        }
        reply(observer, coordinator.commitOffsets(request), onError);
    }

    @Override
    public void offsetFetch(OffsetFetchRequest request, StreamObserver<OffsetFetchResponse> observer) {
        Function<ApiError, OffsetFetchResponse> onError = e -> OffsetFetchResponse.newBuilder().setError(e.toProto())
                .build();
        Authorization.Caller caller = GrpcCallers.current();
        if (!authz.mayDescribeGroup(caller, request.getGroupId())) {
            refuse(observer, Authorization.groupDenied(caller, AclOperation.DESCRIBE, request.getGroupId()), onError);
            return;
        }
        for (OffsetFetchTopic t : request.getTopicsList()) {
            if (!authz.mayDescribeTopic(caller, t.getName())) {
                refuse(observer, Authorization.topicDenied(caller, AclOperation.DESCRIBE, t.getName()), onError);
                return;
            }
        }
        // Every committed partition (no topics named): only those of topics the caller may describe.
        reply(observer, coordinator.fetchOffsets(request).thenApply(r -> r.toBuilder().clearTopics()
                .addAllTopics(r.getTopicsList().stream().filter(t -> authz.mayDescribeTopic(caller, t.getName()))
                        .toList())
                .build()), onError);
    }

    @Override
    public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        reply(observer, coordinator.listGroups(request).thenApply(r -> r.toBuilder().clearGroups()
                .addAllGroups(r.getGroupsList().stream().filter(g -> authz.mayListGroup(caller, g.getGroupId()))
                        .toList())
                .build()), e -> ListGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void describeGroups(DescribeGroupsRequest request, StreamObserver<DescribeGroupsResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        for (String group : request.getGroupIdsList()) {
            if (!authz.mayDescribeGroup(caller, group)) {
                refuse(observer, Authorization.groupDenied(caller, AclOperation.DESCRIBE, group),
                        e -> DescribeGroupsResponse.newBuilder().setError(e.toProto()).build());
                return;
            }
        }
        reply(observer, coordinator.describeGroups(request.getGroupIdsList()).thenApply(groups -> {
            DescribeGroupsResponse.Builder out = DescribeGroupsResponse.newBuilder().setError(ApiError.NONE.toProto());
            groups.forEach(g -> out.addGroups(SdkGroupMembers.describedGroup(g, coordinator.brokerId())));
            return out.build();
        }), e -> DescribeGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void deleteGroups(DeleteGroupsRequest request, StreamObserver<DeleteGroupsResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        for (String group : request.getGroupIdsList()) {
            if (!authz.mayDeleteGroup(caller, group)) {
                refuse(observer, Authorization.groupDenied(caller, AclOperation.DELETE, group),
                        e -> DeleteGroupsResponse.newBuilder().setError(e.toProto()).build());
                return;
            }
        }
        reply(observer, coordinator.deleteGroups(request),
                e -> DeleteGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void offsetDelete(OffsetDeleteRequest request, StreamObserver<OffsetDeleteResponse> observer) {
        Authorization.Caller caller = GrpcCallers.current();
        Function<ApiError, OffsetDeleteResponse> onError = e -> OffsetDeleteResponse.newBuilder()
                .setError(e.toProto()).build();
        if (!authz.mayDeleteGroup(caller, request.getGroupId())) {
            refuse(observer, Authorization.groupDenied(caller, AclOperation.DELETE, request.getGroupId()), onError);
            return;
        }
        for (OffsetDeleteTopic t : request.getTopicsList()) {
            if (!authz.mayCommitOffset(caller, t.getName())) {
                refuse(observer, Authorization.topicDenied(caller, AclOperation.READ, t.getName()), onError);
                return;
            }
        }
        reply(observer, coordinator.deleteOffsets(request),
                e -> OffsetDeleteResponse.newBuilder().setError(e.toProto()).build());
    }

    /** Answers {@code onFailure} of GROUP_AUTHORIZATION_FAILED, and true, when the caller may not READ the group. */
    private <R> boolean refusedGroupRead(Authorization.Caller caller, String group, StreamObserver<R> observer,
            Function<ApiError, R> onFailure) {
        if (authz.mayUseGroup(caller, group)) {
            return false;
        }
        refuse(observer, Authorization.groupDenied(caller, AclOperation.READ, group), onFailure);
        return true;
    }

    /** Answers a refused call at once: nothing was done. */
    private static <R> void refuse(StreamObserver<R> observer, ApiError denied, Function<ApiError, R> onFailure) {
        observer.onNext(onFailure.apply(denied));
        observer.onCompleted();
    }

    /** Sends the answer when it is ready, unless the caller went away. */
    private static <R> void reply(StreamObserver<R> observer, CompletableFuture<R> answer,
            Function<ApiError, R> onFailure) {
        UnaryAnswers.answerWhenDone(observer, answer, (response, error) -> error == null ? response
                : onFailure.apply(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                        "the coordinator failed to handle the request: %s", error)));
    }
}
