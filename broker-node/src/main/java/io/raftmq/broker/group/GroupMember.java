package io.raftmq.broker.group;

import com.google.protobuf.ByteString;
import io.raftmq.broker.group.ClassicGroupApi.JoinResult;
import io.raftmq.broker.group.ClassicGroupApi.Protocol;
import io.raftmq.broker.group.ClassicGroupApi.SyncResult;
import io.raftmq.protocol.broker.TopicPartitions;
import io.raftmq.protocol.group.GroupMemberValue;
import io.raftmq.protocol.group.ProtocolMetadata;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One member of a classic group: the protocols (with metadata) of its last JoinGroup, its
 * assignment (opaque bytes), the JoinGroup or SyncGroup it is waiting on, and when its session
 * expires. Owned by the thread that owns its group's shard.
 */
final class GroupMember {
    static final byte[] NO_BYTES = new byte[0];

    final String memberId;
    /** group.instance.id of a static member; null for a dynamic one. */
    final String groupInstanceId;
    final String clientId;
    final String clientHost;
    /** The member never computes assignments (an SDK member): when it leads, the coordinator assigns. */
    final boolean coordinatorAssigns;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    /** Supported protocols, most preferred first. */
    List<Protocol> protocols;
    /** The topics of its consumer-protocol subscription (empty when its metadata is not one). */
    List<String> topics;
    /** This generation's assignment; empty when none. */
    byte[] assignment = NO_BYTES;
    /** The member's JoinGroup, held until the rebalance completes; null when none waits. */
    Consumer<JoinResult> pendingJoin;
    /** The member's SyncGroup, held until the generation's assignment is stored; null when none waits. */
    Consumer<SyncResult> pendingSync;
    /** Monotonic time at which the member is removed unless it is heard from. */
    long sessionDeadlineMs;

    GroupMember(String memberId, String groupInstanceId, String clientId, String clientHost,
            boolean coordinatorAssigns, int sessionTimeoutMs, int rebalanceTimeoutMs, List<Protocol> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.coordinatorAssigns = coordinatorAssigns;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        setProtocols(protocols);
    }

    /** A copy under a new member id (a static member replaced by its instance's new incarnation). */
    GroupMember withMemberId(String newMemberId) {
        GroupMember m = new GroupMember(newMemberId, groupInstanceId, clientId, clientHost, coordinatorAssigns,
                sessionTimeoutMs, rebalanceTimeoutMs, protocols);
        m.assignment = assignment;
        m.sessionDeadlineMs = sessionDeadlineMs;
        return m;
    }

    void setProtocols(List<Protocol> newProtocols) {
        protocols = List.copyOf(newProtocols);
        topics = protocols.isEmpty() ? List.of() : ConsumerProtocolBytes.topics(protocols.get(0).metadata());
    }

    /** Whether a JoinGroup with these protocols asks for nothing new (same names and metadata, same order). */
    boolean matches(List<Protocol> other) {
        if (other.size() != protocols.size()) {
            return false;
        }
        for (int i = 0; i < other.size(); i++) {
            if (!other.get(i).name().equals(protocols.get(i).name())
                    || !Arrays.equals(other.get(i).metadata(), protocols.get(i).metadata())) {
                return false;
            }
        }
        return true;
    }

    List<String> protocolNames() {
        return protocols.stream().map(Protocol::name).toList();
    }

    /** Its metadata for {@code protocolName}; empty when it does not support it. */
    byte[] metadata(String protocolName) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocolName)) {
                return p.metadata();
            }
        }
        return NO_BYTES;
    }

    /** Waiting on a JoinGroup or SyncGroup: the member is alive by definition (its call is open). */
    boolean isAwaiting() {
        return pendingJoin != null || pendingSync != null;
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    void heardFrom(long nowMs) {
        sessionDeadlineMs = nowMs + sessionTimeoutMs;
    }

    GroupMemberValue toValue() {
        GroupMemberValue.Builder b = GroupMemberValue.newBuilder()
                .setMemberId(memberId)
                .setClientId(clientId)
                .setClientHost(clientHost)
                .setSessionTimeoutMs(sessionTimeoutMs)
                .setRebalanceTimeoutMs(rebalanceTimeoutMs)
                .setGroupInstanceId(groupInstanceId == null ? "" : groupInstanceId)
                .setAssignmentBytes(ByteString.copyFrom(assignment))
                .setCoordinatorAssigns(coordinatorAssigns);
        for (Protocol p : protocols) {
            b.addProtocols(ProtocolMetadata.newBuilder().setName(p.name())
                    .setMetadata(ByteString.copyFrom(p.metadata())));
        }
        return b.build();
    }

    /**
     * A stored member. One stored before protocol metadata existed (no protocols) was an SDK
     * member: its topics and assignors become one consumer-protocol subscription per assignor, its
     * assignment a consumer-protocol assignment.
     */
    static GroupMember fromValue(GroupMemberValue v) {
        String instanceId = v.getGroupInstanceId().isEmpty() ? null : v.getGroupInstanceId();
        if (v.getProtocolsCount() > 0) {
            List<Protocol> protocols = new ArrayList<>();
            for (ProtocolMetadata p : v.getProtocolsList()) {
                protocols.add(new Protocol(p.getName(), p.getMetadata().toByteArray()));
            }
            GroupMember m = new GroupMember(v.getMemberId(), instanceId, v.getClientId(), v.getClientHost(),
                    v.getCoordinatorAssigns(), v.getSessionTimeoutMs(), v.getRebalanceTimeoutMs(), protocols);
            m.assignment = v.getAssignmentBytes().toByteArray();
            return m;
        }
        byte[] subscription = ConsumerProtocolBytes.subscription(v.getTopicsList());
        List<Protocol> protocols = v.getAssignorsList().stream().map(a -> new Protocol(a, subscription)).toList();
        GroupMember m = new GroupMember(v.getMemberId(), instanceId, v.getClientId(), v.getClientHost(), true,
                v.getSessionTimeoutMs(), v.getRebalanceTimeoutMs(), protocols);
        SortedMap<String, List<Integer>> partitions = new TreeMap<>();
        for (TopicPartitions tp : v.getAssignmentList()) {
            partitions.put(tp.getTopic(), List.copyOf(tp.getPartitionsList()));
        }
        m.assignment = partitions.isEmpty() ? NO_BYTES
                : ConsumerProtocolBytes.assignment(partitions, ConsumerProtocolBytes.version(subscription));
        return m;
    }
}
