package io.raftmq.client;

import io.grpc.stub.StreamObserver;
import io.raftmq.protocol.broker.FindCoordinatorRequest;
import io.raftmq.protocol.broker.FindCoordinatorResponse;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.broker.HeartbeatRequest;
import io.raftmq.protocol.broker.HeartbeatResponse;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.LeaveGroupRequest;
import io.raftmq.protocol.broker.LeaveGroupResponse;
import io.raftmq.protocol.broker.OffsetCommitPartition;
import io.raftmq.protocol.broker.OffsetCommitPartitionResponse;
import io.raftmq.protocol.broker.OffsetCommitRequest;
import io.raftmq.protocol.broker.OffsetCommitResponse;
import io.raftmq.protocol.broker.OffsetCommitTopic;
import io.raftmq.protocol.broker.OffsetCommitTopicResponse;
import io.raftmq.protocol.broker.OffsetFetchPartitionResponse;
import io.raftmq.protocol.broker.OffsetFetchRequest;
import io.raftmq.protocol.broker.OffsetFetchResponse;
import io.raftmq.protocol.broker.OffsetFetchTopic;
import io.raftmq.protocol.broker.OffsetFetchTopicResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A single-member fake of the GroupCoordinator service, for the consumer's unit tests: every
 * JoinGroup completes at once with a new generation, SyncGroup assigns every partition of the
 * member's topics, a heartbeat can be told to answer an error once, commits are checked against the
 * generation and stored. Thread-safe (synchronized).
 */
final class FakeGroupCoordinator extends GroupCoordinatorGrpc.GroupCoordinatorImplBase {
    private final FakeBroker broker;
    private int generation;
    private String member = "";
    private List<String> topics = List.of();
    final Map<TopicPartition, Long> committed = new ConcurrentHashMap<>();
    final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile ErrorCode heartbeatErrorOnce = ErrorCode.NONE;

    FakeGroupCoordinator(FakeBroker broker) {
        this.broker = broker;
    }

    private static Error ok() {
        return Error.newBuilder().setCode(ErrorCode.NONE).build();
    }

    @Override
    public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> observer) {
        String[] hostPort = broker.bootstrap().split(":");
        observer.onNext(FindCoordinatorResponse.newBuilder().setError(ok()).setNodeId(1).setHost(hostPort[0])
                .setPort(Integer.parseInt(hostPort[1])).build());
        observer.onCompleted();
    }

    @Override
    public synchronized void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> observer) {
        calls.add("join:" + request.getMemberId());
        generation++;
        member = request.getMemberId().isEmpty() ? "member-" + generation : request.getMemberId();
        topics = List.copyOf(request.getTopicsList());
        observer.onNext(JoinGroupResponse.newBuilder().setError(ok()).setGenerationId(generation).setMemberId(member)
                .setLeaderId(member).setAssignor(request.getAssignors(0)).build());
        observer.onCompleted();
    }

    @Override
    public synchronized void syncGroup(SyncGroupRequest request, StreamObserver<SyncGroupResponse> observer) {
        calls.add("sync:" + request.getGenerationId());
        SyncGroupResponse.Builder r = SyncGroupResponse.newBuilder().setError(ok());
        for (String t : topics) {
            TopicPartitions.Builder tp = TopicPartitions.newBuilder().setTopic(t);
            List<Integer> parts = new ArrayList<>();
            int count = broker.partitionCount(t);
            for (int p = 0; p < count; p++) {
                parts.add(p);
            }
            r.addAssignment(tp.addAllPartitions(parts));
        }
        observer.onNext(r.build());
        observer.onCompleted();
    }

    @Override
    public synchronized void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        ErrorCode code = heartbeatErrorOnce;
        heartbeatErrorOnce = ErrorCode.NONE;
        if (code == ErrorCode.NONE && request.getGenerationId() != generation) {
            code = ErrorCode.ILLEGAL_GENERATION;
        }
        if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
            member = "";
        }
        calls.add("heartbeat:" + code);
        observer.onNext(HeartbeatResponse.newBuilder().setError(Error.newBuilder().setCode(code)).build());
        observer.onCompleted();
    }

    @Override
    public synchronized void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> observer) {
        calls.add("leave:" + request.getMemberId());
        member = "";
        observer.onNext(LeaveGroupResponse.newBuilder().setError(ok()).build());
        observer.onCompleted();
    }

    @Override
    public synchronized void offsetCommit(OffsetCommitRequest request, StreamObserver<OffsetCommitResponse> observer) {
        boolean valid = request.getGenerationId() == -1 || request.getGenerationId() == generation
                && request.getMemberId().equals(member);
        calls.add("commit:" + request.getGenerationId() + (valid ? "" : ":refused"));
        OffsetCommitResponse.Builder r = OffsetCommitResponse.newBuilder().setError(ok());
        for (OffsetCommitTopic t : request.getTopicsList()) {
            OffsetCommitTopicResponse.Builder tr = OffsetCommitTopicResponse.newBuilder().setName(t.getName());
            for (OffsetCommitPartition p : t.getPartitionsList()) {
                if (valid) {
                    committed.put(new TopicPartition(t.getName(), p.getPartition()), p.getCommittedOffset());
                }
                tr.addPartitions(OffsetCommitPartitionResponse.newBuilder().setPartition(p.getPartition())
                        .setError(valid ? ok() : Error.newBuilder().setCode(ErrorCode.ILLEGAL_GENERATION)
                                .setMessage("generation " + request.getGenerationId() + " is not " + generation)
                                .build()));
            }
            r.addTopics(tr);
        }
        observer.onNext(r.build());
        observer.onCompleted();
    }

    @Override
    public void offsetFetch(OffsetFetchRequest request, StreamObserver<OffsetFetchResponse> observer) {
        OffsetFetchResponse.Builder r = OffsetFetchResponse.newBuilder().setError(ok());
        for (OffsetFetchTopic t : request.getTopicsList()) {
            OffsetFetchTopicResponse.Builder tr = OffsetFetchTopicResponse.newBuilder().setName(t.getName());
            for (int p : t.getPartitionsList()) {
                tr.addPartitions(OffsetFetchPartitionResponse.newBuilder().setPartition(p).setError(ok())
                        .setCommittedLeaderEpoch(-1)
                        .setCommittedOffset(committed.getOrDefault(new TopicPartition(t.getName(), p), -1L)));
            }
            r.addTopics(tr);
        }
        observer.onNext(r.build());
        observer.onCompleted();
    }
}
