package io.raftmq.broker.group;

import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
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
import io.raftmq.protocol.broker.OffsetDeleteRequest;
import io.raftmq.protocol.broker.OffsetDeleteResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The GroupCoordinator gRPC service: turns the SDK's calls into {@link GroupCoordinator} work
 * ({@link SdkGroupMembers} translates membership) and answers when it completes. A JoinGroup or SyncGroup is held open without a thread while the rebalance
 * runs. Stateless; called on gRPC threads.
 */
final class GroupCoordinatorGrpcService extends GroupCoordinatorGrpc.GroupCoordinatorImplBase {
    /** The caller's address, put in the call's context by {@link #CLIENT_ADDRESS}. */
    private static final Context.Key<String> CLIENT_HOST = Context.key("raftmq-client-host");

    private static final ServerInterceptor CLIENT_ADDRESS = new ServerInterceptor() {
        @Override
        public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            String host = remote instanceof InetSocketAddress inet
                    ? (inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString())
                    : String.valueOf(remote);
            return Contexts.interceptCall(Context.current().withValue(CLIENT_HOST, host), call, headers, next);
        }
    };

    private final GroupCoordinator coordinator;

    private GroupCoordinatorGrpcService(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    static BindableService bindable(GroupCoordinator coordinator) {
        GroupCoordinatorGrpcService service = new GroupCoordinatorGrpcService(coordinator);
        return () -> ServerInterceptors.intercept(service, CLIENT_ADDRESS);
    }

    @Override
    public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> observer) {
        reply(observer, coordinator.findCoordinator(request.getGroupId(), BrokerRegistration.GRPC_LISTENER),
                e -> FindCoordinatorResponse.newBuilder().setError(e.toProto()).setNodeId(-1).build());
    }

    @Override
    public void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> observer) {
        String host = CLIENT_HOST.get();
        ClassicGroupApi.JoinRequest join = SdkGroupMembers.joinRequest(request, host == null ? "" : host);
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
        reply(observer, coordinator.syncGroup(SdkGroupMembers.syncRequest(request))
                .thenApply(SdkGroupMembers::syncResponse),
                e -> SyncGroupResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        reply(observer, coordinator.heartbeat(new ClassicGroupApi.HeartbeatRequest(request.getGroupId(),
                request.getMemberId(), null, request.getGenerationId()))
                .thenApply(e -> HeartbeatResponse.newBuilder().setError(e.toProto()).build()),
                e -> HeartbeatResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> observer) {
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
        reply(observer, coordinator.commitOffsets(request), onError);
    }

    @Override
    public void offsetFetch(OffsetFetchRequest request, StreamObserver<OffsetFetchResponse> observer) {
        Function<ApiError, OffsetFetchResponse> onError = e -> OffsetFetchResponse.newBuilder().setError(e.toProto())
                .build();
        reply(observer, coordinator.fetchOffsets(request), onError);
    }

    @Override
    public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> observer) {
        reply(observer, coordinator.listGroups(request),
                e -> ListGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void describeGroups(DescribeGroupsRequest request, StreamObserver<DescribeGroupsResponse> observer) {
        reply(observer, coordinator.describeGroups(request.getGroupIdsList()).thenApply(groups -> {
            DescribeGroupsResponse.Builder out = DescribeGroupsResponse.newBuilder().setError(ApiError.NONE.toProto());
            groups.forEach(g -> out.addGroups(SdkGroupMembers.describedGroup(g, coordinator.brokerId())));
            return out.build();
        }), e -> DescribeGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void deleteGroups(DeleteGroupsRequest request, StreamObserver<DeleteGroupsResponse> observer) {
        reply(observer, coordinator.deleteGroups(request),
                e -> DeleteGroupsResponse.newBuilder().setError(e.toProto()).build());
    }

    @Override
    public void offsetDelete(OffsetDeleteRequest request, StreamObserver<OffsetDeleteResponse> observer) {
        reply(observer, coordinator.deleteOffsets(request),
                e -> OffsetDeleteResponse.newBuilder().setError(e.toProto()).build());
    }

    /** Sends the answer when it is ready, unless the caller went away. */
    private static <R> void reply(StreamObserver<R> observer, CompletableFuture<R> answer,
            Function<ApiError, R> onFailure) {
        ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) observer;
        call.setOnCancelHandler(() -> { });
        answer.whenComplete((response, error) -> {
            if (call.isCancelled()) {
                return;
            }
            R out = error == null ? response : onFailure.apply(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                    "the coordinator failed to handle the request: %s", error));
            try {
                call.onNext(out);
                call.onCompleted();
            } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
                // The call ended (cancelled, deadline) between the check and the answer.
            }
        });
    }
}
