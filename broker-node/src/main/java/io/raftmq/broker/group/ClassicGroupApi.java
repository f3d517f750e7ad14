package io.raftmq.broker.group;

import io.raftmq.common.ApiError;
import java.util.List;
import java.util.Map;

/**
 * The inputs and outputs of Kafka's classic group membership as the coordinator takes and gives
 * them, protocol-neutral: front ends (the Kafka listener, the SDK's gRPC service) translate their
 * messages to these and back. Protocol metadata and assignments are opaque bytes, as in Kafka's
 * protocol; for protocol type "consumer" they are kafka-clients' ConsumerProtocol encodings.
 * Immutable values (the byte arrays are never written after construction); any thread.
 */
public final class ClassicGroupApi {
    private ClassicGroupApi() {}

    /** Protocol type of consumers (Kafka's and the SDK's). */
    public static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    /** One protocol a member supports, with its metadata for it. */
    public record Protocol(String name, byte[] metadata) {}

    /**
     * A JoinGroup.
     *
     * @param memberId empty on a first join
     * @param groupInstanceId group.instance.id of a static member, null for a dynamic one
     * @param protocols supported protocols, most preferred first
     * @param requireKnownMemberId a dynamic member's first join gets MEMBER_ID_REQUIRED with its id
     *     (JoinGroup v4+), and is a member only once it joins with that id
     * @param supportsSkipAssignment the answer may tell the leader to skip the assignment (v9+)
     * @param coordinatorAssigns the member never computes assignments (raftmq SDK): when it
     *     leads, the coordinator assigns with the selected protocol's assignor
     * @param reason why the member joins, for the log; null when not given
     */
    public record JoinRequest(String groupId, String memberId, String groupInstanceId, String clientId,
            String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs, String protocolType,
            List<Protocol> protocols, boolean requireKnownMemberId, boolean supportsSkipAssignment,
            boolean coordinatorAssigns, String reason) {}

    /** A member as the leader's JoinGroup answer lists it: its metadata for the selected protocol. */
    public record JoinedMember(String memberId, String groupInstanceId, byte[] metadata) {}

    /**
     * The answer to a JoinGroup. {@code members} is non-empty only for the leader (every member);
     * with {@code skipAssignment} the leader must not compute an assignment (a static leader that
     * replaced itself while the group was stable).
     */
    public record JoinResult(ApiError error, int generationId, String protocolType, String protocolName,
            String leaderId, String memberId, boolean skipAssignment, List<JoinedMember> members) {

        static JoinResult error(ApiError error, String memberId) {
            return new JoinResult(error, -1, null, null, "", memberId, false, List.of());
        }
    }

    /**
     * A SyncGroup.
     *
     * @param protocolType null when the request has none (SyncGroup below v5)
     * @param protocolName null when the request has none
     * @param assignments member id -> assignment; the leader's, empty for the others
     */
    public record SyncRequest(String groupId, String memberId, String groupInstanceId, int generationId,
            String protocolType, String protocolName, Map<String, byte[]> assignments) {}

    /** The answer to a SyncGroup: the member's assignment, empty on error. */
    public record SyncResult(ApiError error, String protocolType, String protocolName, byte[] assignment) {

        static SyncResult error(ApiError error) {
            return new SyncResult(error, null, null, new byte[0]);
        }
    }

    public record HeartbeatRequest(String groupId, String memberId, String groupInstanceId, int generationId) {}

    /** A member leaving: by member id, or by group instance id (member id may then be empty). */
    public record LeavingMember(String memberId, String groupInstanceId, String reason) {}

    /** The outcome of a LeaveGroup: a group-level error, or one per member in the request's order. */
    public record LeaveResult(ApiError error, List<LeftMember> members) {}

    public record LeftMember(String memberId, String groupInstanceId, ApiError error) {}

    /**
     * A group as DescribeGroups shows it. {@code protocolName} is the selected protocol (empty
     * while none is). {@code assigned}: the members' assignments are those of the current
     * generation (the group is Stable, or its assignment is computed and being stored).
     */
    public record GroupDescription(String groupId, ApiError error, String state, String protocolType,
            String protocolName, int generationId, boolean assigned, List<MemberDescription> members) {}

    /**
     * A member as DescribeGroups shows it: its metadata for the selected protocol (its first
     * protocol's while none is selected) and its assignment (empty when none).
     */
    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
            byte[] metadata, byte[] assignment) {}
}
