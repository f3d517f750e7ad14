package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.common.HostPort;
import io.raftmq.protocol.broker.FindCoordinatorRequest;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.broker.HeartbeatRequest;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A raw gRPC client of the GroupCoordinator service for tests: finds a group's coordinator and
 * retries on the errors that mean "ask again" (not the coordinator, still loading, not available).
 *
 * <p>Thread-safe: channels are concurrent.
 */
final class TestGroupClient implements AutoCloseable {
    static final Set<ErrorCode> RETRY = Set.of(ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
            ErrorCode.COORDINATOR_NOT_AVAILABLE);

    private final List<HostPort> bootstrap;
    private final Map<HostPort, ManagedChannel> channels = new ConcurrentHashMap<>();

    TestGroupClient(List<HostPort> bootstrap) {
        this.bootstrap = bootstrap;
    }

    GroupCoordinatorGrpc.GroupCoordinatorBlockingStub stub(HostPort address, long deadlineMs) {
        ManagedChannel channel = channels.computeIfAbsent(address, a -> NettyChannelBuilder
                .forAddress(a.host(), a.port()).usePlaintext().build());
        channel.resetConnectBackoff();
        return GroupCoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    /** One FindCoordinator call to {@code broker}, whatever it answers. */
    FindCoordinatorResponse findCoordinatorOnce(HostPort broker, String groupId) {
        return stub(broker, 12_000).findCoordinator(FindCoordinatorRequest.newBuilder().setGroupId(groupId).build());
    }

    /** The coordinator's FindCoordinator answer, retried until it names one. */
    FindCoordinatorResponse findCoordinator(String groupId) {
        AtomicReference<FindCoordinatorResponse> found = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
            for (HostPort b : bootstrap) {
                try {
                    FindCoordinatorResponse r = stub(b, 12_000).findCoordinator(FindCoordinatorRequest.newBuilder()
                            .setGroupId(groupId).build());
                    if (r.getError().getCode() == ErrorCode.NONE) {
                        found.set(r);
                        return true;
                    }
                } catch (RuntimeException unreachable) {
                    // next broker
                }
            }
            return false;
        });
        return found.get();
    }

    /** Calls the group's coordinator, finding it again while the answer says to. */
    <R> R call(String groupId, long deadlineMs, Function<GroupCoordinatorGrpc.GroupCoordinatorBlockingStub, R> rpc,
            Function<R, ErrorCode> errorOf) {
        AtomicReference<R> out = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
            FindCoordinatorResponse c = findCoordinator(groupId);
            R r = rpc.apply(stub(new HostPort(c.getHost(), c.getPort()), deadlineMs));
            if (RETRY.contains(errorOf.apply(r))) {
                return false;
            }
            out.set(r);
            return true;
        });
        return out.get();
    }

    JoinGroupResponse join(String groupId, String memberId, String clientId, int sessionTimeoutMs,
            List<String> topics, List<String> assignors) {
        JoinGroupRequest request = JoinGroupRequest.newBuilder().setGroupId(groupId).setMemberId(memberId)
                .setClientId(clientId).setSessionTimeoutMs(sessionTimeoutMs).setRebalanceTimeoutMs(10_000)
                .setProtocolType("consumer").addAllTopics(topics).addAllAssignors(assignors).build();
        return call(groupId, 20_000, s -> s.joinGroup(request), r -> r.getError().getCode());
    }

    SyncGroupResponse sync(String groupId, String memberId, int generation) {
        return call(groupId, 10_000, s -> s.syncGroup(SyncGroupRequest.newBuilder().setGroupId(groupId)
                .setMemberId(memberId).setGenerationId(generation).build()), r -> r.getError().getCode());
    }

    ErrorCode heartbeat(String groupId, String memberId, int generation) {
        return call(groupId, 10_000, s -> s.heartbeat(HeartbeatRequest.newBuilder().setGroupId(groupId)
                .setMemberId(memberId).setGenerationId(generation).build()), r -> r.getError().getCode())
                .getError().getCode();
    }

    OffsetCommitResponse commit(String groupId, String memberId, int generation, String topic,
            Map<Integer, Long> offsets) {
        OffsetCommitTopic.Builder t = OffsetCommitTopic.newBuilder().setName(topic);
        offsets.forEach((p, o) -> t.addPartitions(OffsetCommitPartition.newBuilder().setPartition(p)
                .setCommittedOffset(o).setCommittedLeaderEpoch(-1).setMetadata("m" + o)));
        OffsetCommitRequest request = OffsetCommitRequest.newBuilder().setGroupId(groupId).setMemberId(memberId)
                .setGenerationId(generation).addTopics(t).build();
        return call(groupId, 10_000, s -> s.offsetCommit(request), r -> r.getTopicsCount() > 0
                && r.getTopics(0).getPartitionsCount() > 0 ? r.getTopics(0).getPartitions(0).getError().getCode()
                : r.getError().getCode());
    }

    OffsetFetchResponse fetchAll(String groupId) {
        return call(groupId, 10_000, s -> s.offsetFetch(OffsetFetchRequest.newBuilder().setGroupId(groupId)
                .build()), r -> r.getError().getCode());
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
