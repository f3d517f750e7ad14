package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.broker.DescribedGroup;
import io.raftmq.protocol.broker.DescribedGroupMember;
import io.raftmq.protocol.broker.JoinGroupRequest;
import io.raftmq.protocol.broker.JoinGroupResponse;
import io.raftmq.protocol.broker.SyncGroupRequest;
import io.raftmq.protocol.broker.SyncGroupResponse;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.common.ErrorCode;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * The raftmq SDK's group messages (gRPC, {@code group.proto}) as classic membership: an SDK
 * member's topics and assignor names become one consumer-protocol subscription per assignor (it
 * never computes assignments, so the coordinator does when it leads), and consumer-protocol
 * assignments and subscriptions are decoded back to topic partitions for its answers and
 * DescribeGroups. Stateless.
 */
final class SdkGroupMembers {
    private SdkGroupMembers() {}

    /**
     * The SDK's JoinGroup, or null when none of its assignors is known here ({@link #unknownAssignors}).
     * No assignor named: range.
     */
    static ClassicGroupApi.JoinRequest joinRequest(JoinGroupRequest req, String clientHost) {
        List<String> assignorNames = req.getAssignorsList().isEmpty() ? List.of(RangeAssignor.NAME)
                : req.getAssignorsList().stream().filter(PartitionAssignor.known()::containsKey).distinct().toList();
        if (assignorNames.isEmpty()) {
            return null;
        }
        byte[] subscription = ConsumerProtocolBytes.subscription(req.getTopicsList().stream().distinct().sorted()
                .toList());
        List<ClassicGroupApi.Protocol> protocols = assignorNames.stream()
                .map(a -> new ClassicGroupApi.Protocol(a, subscription)).toList();
        String protocolType = req.getProtocolType().isEmpty() ? ClassicGroupApi.CONSUMER_PROTOCOL_TYPE
                : req.getProtocolType();
        String clientId = req.getClientId().isEmpty() ? "consumer" : req.getClientId();
        return new ClassicGroupApi.JoinRequest(req.getGroupId(), req.getMemberId(), null, clientId, clientHost,
                req.getSessionTimeoutMs(), req.getRebalanceTimeoutMs(), protocolType, protocols, false, false, true,
                null);
    }

    static ApiError unknownAssignors(JoinGroupRequest req) {
        return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "none of the assignors %s is known to the"
                + " coordinator, which has %s", req.getAssignorsList(), new TreeSet<>(PartitionAssignor.known()
                        .keySet()));
    }

    static JoinGroupResponse joinResponse(ClassicGroupApi.JoinResult r) {
        return JoinGroupResponse.newBuilder()
                .setError(r.error().toProto())
                .setGenerationId(r.generationId())
                .setMemberId(r.memberId())
                .setLeaderId(r.leaderId() == null ? "" : r.leaderId())
                .setAssignor(r.protocolName() == null ? "" : r.protocolName())
                .build();
    }

    static JoinGroupResponse joinError(ApiError error, String memberId) {
        return JoinGroupResponse.newBuilder().setError(error.toProto()).setGenerationId(-1).setMemberId(memberId)
                .build();
    }

    static ClassicGroupApi.SyncRequest syncRequest(SyncGroupRequest req) {
        return new ClassicGroupApi.SyncRequest(req.getGroupId(), req.getMemberId(), null, req.getGenerationId(),
                null, null, Map.of());
    }

    static SyncGroupResponse syncResponse(ClassicGroupApi.SyncResult r) {
        return SyncGroupResponse.newBuilder().setError(r.error().toProto())
                .addAllAssignment(topicPartitions(ConsumerProtocolBytes.partitions(r.assignment()))).build();
    }

    /** A group as the SDK's DescribeGroups shows it: subscribed topics and assignments decoded (consumer groups). */
    static DescribedGroup describedGroup(ClassicGroupApi.GroupDescription g, int coordinatorId) {
        DescribedGroup.Builder out = DescribedGroup.newBuilder().setGroupId(g.groupId()).setError(g.error().toProto())
                .setCoordinatorId(coordinatorId).setState(g.state()).setProtocolType(g.protocolType())
                .setAssignor(g.protocolName()).setGenerationId(Math.max(0, g.generationId()));
        boolean consumer = ClassicGroupApi.CONSUMER_PROTOCOL_TYPE.equals(g.protocolType());
        for (ClassicGroupApi.MemberDescription m : g.members()) {
            DescribedGroupMember.Builder d = DescribedGroupMember.newBuilder().setMemberId(m.memberId())
                    .setClientId(m.clientId()).setClientHost(m.clientHost());
            if (consumer) {
                d.addAllSubscribedTopics(ConsumerProtocolBytes.topics(m.metadata()));
                if (g.assigned()) {
                    d.addAllAssignment(topicPartitions(ConsumerProtocolBytes.partitions(m.assignment())));
                }
            }
            out.addMembers(d);
        }
        return out.build();
    }

    static List<TopicPartitions> topicPartitions(SortedMap<String, List<Integer>> assignment) {
        return assignment.entrySet().stream()
                .map(e -> TopicPartitions.newBuilder().setTopic(e.getKey()).addAllPartitions(e.getValue()).build())
                .toList();
    }
}
