package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.util.Map;
import java.util.Optional;

/**
 * The Raft messages the metadata quorum exchanges, and nothing else: each request type with its
 * response type, as one unary gRPC method of the service {@value #SERVICE}. JRaft's administrative
 * requests (add, remove, reset or change peers, learners, transfer leadership, snapshot) are not
 * among them, so a server has no method for them and answers UNIMPLEMENTED. JRaft's ReadIndex is
 * not served either: the metadata log never calls {@code Node.readIndex}.
 *
 * <p>Ping is JRaft's connection check ({@code AbstractClientService.connect}, before a replicator
 * starts); TimeoutNow tells a follower to elect itself when the leader stops; GetFile copies a
 * snapshot to a follower that InstallSnapshot told to fetch one. Immutable.
 */
final class RaftMessages {
    static final String SERVICE = "raftmq.raft.RaftTransport";

    /** The method of each served request, by request class name. */
    private static final Map<String, MethodDescriptor<Message, Message>> METHODS = Map.of(
            name(RpcRequests.AppendEntriesRequest.class), method(RpcRequests.AppendEntriesRequest.getDefaultInstance(),
                    RpcRequests.AppendEntriesResponse.getDefaultInstance()),
            name(RpcRequests.RequestVoteRequest.class), method(RpcRequests.RequestVoteRequest.getDefaultInstance(),
                    RpcRequests.RequestVoteResponse.getDefaultInstance()),
            name(RpcRequests.InstallSnapshotRequest.class), method(
                    RpcRequests.InstallSnapshotRequest.getDefaultInstance(),
                    RpcRequests.InstallSnapshotResponse.getDefaultInstance()),
            name(RpcRequests.GetFileRequest.class), method(RpcRequests.GetFileRequest.getDefaultInstance(),
                    RpcRequests.GetFileResponse.getDefaultInstance()),
            name(RpcRequests.TimeoutNowRequest.class), method(RpcRequests.TimeoutNowRequest.getDefaultInstance(),
                    RpcRequests.TimeoutNowResponse.getDefaultInstance()),
            name(RpcRequests.PingRequest.class), method(RpcRequests.PingRequest.getDefaultInstance(),
                    RpcRequests.ErrorResponse.getDefaultInstance()));

    private RaftMessages() {}

    /** The method for a request class name (JRaft's processor "interest"), if it is served. */
    static Optional<MethodDescriptor<Message, Message>> method(String requestClassName) {
        return Optional.ofNullable(METHODS.get(requestClassName));
    }

    /** The response type (its default instance) of a served request class name. */
    static Message responseType(String requestClassName) {
        MethodDescriptor<Message, Message> method = METHODS.get(requestClassName);
        if (method == null) {
            throw new IllegalArgumentException("not a served Raft request: " + requestClassName);
        }
        return ((MethodDescriptor.PrototypeMarshaller<Message>) method.getResponseMarshaller()).getMessagePrototype();
    }

    /** The full gRPC method name of a request type: {@code raftmq.raft.RaftTransport/AppendEntriesRequest}. */
    static String fullMethodName(String requestSimpleName) {
        return MethodDescriptor.generateFullMethodName(SERVICE, requestSimpleName);
    }

    /**
     * The sender a request says it comes from ({@code serverId}, JRaft's peer id of the sending
     * voter), for the requests that carry one; empty for Ping and GetFile.
     */
    static Optional<PeerId> claimedSender(Message request) {
        String serverId;
        if (request instanceof RpcRequests.AppendEntriesRequest r) {
            serverId = r.getServerId();
        } else if (request instanceof RpcRequests.RequestVoteRequest r) {
            serverId = r.getServerId();
        } else if (request instanceof RpcRequests.InstallSnapshotRequest r) {
            serverId = r.getServerId();
        } else if (request instanceof RpcRequests.TimeoutNowRequest r) {
            serverId = r.getServerId();
        } else {
            return Optional.empty();
        }
        PeerId peer = new PeerId();
        // An unparsable id names nobody: the caller refuses it like a wrong one.
        return Optional.of(peer.parse(serverId) ? peer : PeerId.emptyPeer());
    }

    private static String name(Class<? extends Message> requestClass) {
        return requestClass.getName();
    }

    private static MethodDescriptor<Message, Message> method(Message request, Message response) {
        return MethodDescriptor.<Message, Message>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethodName(request.getClass().getSimpleName()))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
    }
}
