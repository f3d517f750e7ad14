package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.group.ClassicGroupApi;
import io.raftmq.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData.SyncGroupRequestAssignment;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Kafka's classic consumer-group membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
 * DescribeGroups at every version kafka-clients defines, translated to the group coordinator's
 * protocol-neutral {@link ClassicGroupApi} and back. The coordinator decides everything; what only
 * the Kafka wire decides is here: JoinGroup v4+ asks a dynamic member's first join for
 * MEMBER_ID_REQUIRED, v9+ may tell a leader to skip the assignment, SyncGroup v5 must name the
 * protocol type and name (else INCONSISTENT_GROUP_PROTOCOL), LeaveGroup below v3 leaves one member
 * and reports its error at the top, and DescribeGroups answers a group it does not know with
 * GROUP_ID_NOT_FOUND from v6 on, an empty "Dead" group before (KIP-1043). Fields a version does
 * not have are left at their defaults. DescribeGroups shows members' metadata and assignments
 * only while the group is Stable, as Kafka does.
 *
 * <p>Authorization as Kafka's: JoinGroup, SyncGroup, Heartbeat and LeaveGroup need READ on the
 * group (else GROUP_AUTHORIZATION_FAILED and the coordinator is not asked); DescribeGroups
 * DESCRIBE on each group.
 *
 * <p>Stateless; called on a connection's event loop. JoinGroup and SyncGroup answers are held
 * open (on the coordinator, no thread waits) until the rebalance gets there; answers are built on
 * the connection's loop.
 */
final class GroupMembershipHandler {
    private final GroupCoordinator groups;
    private final KafkaAuthorization authz;

    GroupMembershipHandler(GroupCoordinator groups, KafkaAuthorization authz) {
        this.groups = groups;
        this.authz = authz;
    }

    private boolean mayRead(KafkaRequest request, String groupId) {
        return authz.rules().mayUseGroup(caller(request), groupId);
    }

    CompletableFuture<KafkaResponse> joinGroup(KafkaRequest request) {
        JoinGroupRequestData data = (JoinGroupRequestData) request.body();
        short version = request.apiVersion();
        if (!mayRead(request, data.groupId())) {
            JoinGroupResponseData denied = new JoinGroupResponseData().setThrottleTimeMs(0)
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()).setGenerationId(-1).setLeader("")
                    .setMemberId(data.memberId());
            if (version < 7) {
                denied.setProtocolName("");
            }
            return CompletableFuture.completedFuture(KafkaResponse.send(denied));
        }
        List<ClassicGroupApi.Protocol> protocols = new ArrayList<>();
        for (JoinGroupRequestProtocol p : data.protocols()) {
            protocols.add(new ClassicGroupApi.Protocol(p.name(), p.metadata()));
        }
        String clientId = request.header().clientId() == null ? "" : request.header().clientId();
        ClassicGroupApi.JoinRequest join = new ClassicGroupApi.JoinRequest(data.groupId(), data.memberId(),
                data.groupInstanceId(), clientId, clientHost(request), data.sessionTimeoutMs(),
                data.rebalanceTimeoutMs(), data.protocolType(), protocols,
                JoinGroupRequest.requiresKnownMemberId(data, version),
                JoinGroupRequest.supportsSkippingAssignment(version), false, data.reason());
        return request.onLoop(groups.joinGroup(join), r -> KafkaResponse.send(joinResponse(r, version)));
    }

    private static JoinGroupResponseData joinResponse(ClassicGroupApi.JoinResult r, short version) {
        JoinGroupResponseData out = new JoinGroupResponseData()
                .setThrottleTimeMs(0)
                .setErrorCode(KafkaErrors.code(r.error()))
                .setGenerationId(r.generationId())
                .setLeader(r.leaderId() == null ? "" : r.leaderId())
                .setMemberId(r.memberId() == null ? "" : r.memberId());
        // Below v7 the protocol name is not nullable and the type is absent.
        if (version >= 7) {
            out.setProtocolType(r.protocolType()).setProtocolName(r.protocolName());
        } else {
            out.setProtocolName(r.protocolName() == null ? "" : r.protocolName());
        }
        if (version >= 9) {
            out.setSkipAssignment(r.skipAssignment());
        }
        for (ClassicGroupApi.JoinedMember m : r.members()) {
            JoinGroupResponseMember member = new JoinGroupResponseMember().setMemberId(m.memberId())
                    .setMetadata(m.metadata());
            if (version >= 5) {
                member.setGroupInstanceId(m.groupInstanceId());
            }
            out.members().add(member);
        }
        return out;
    }

    CompletableFuture<KafkaResponse> syncGroup(KafkaRequest request) {
        SyncGroupRequestData data = (SyncGroupRequestData) request.body();
        short version = request.apiVersion();
        if (!new SyncGroupRequest(data, version).areMandatoryProtocolTypeAndNamePresent()) {
            // Kafka refuses it before the coordinator sees it; nothing changes.
            return CompletableFuture.completedFuture(KafkaResponse.send(new SyncGroupResponseData()
                    .setThrottleTimeMs(0).setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code())));
        }
        if (!mayRead(request, data.groupId())) {
            return CompletableFuture.completedFuture(KafkaResponse.send(new SyncGroupResponseData()
                    .setThrottleTimeMs(0).setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
        }
        Map<String, byte[]> assignments = new LinkedHashMap<>();
        for (SyncGroupRequestAssignment a : data.assignments()) {
            assignments.put(a.memberId(), a.assignment());
        }
        ClassicGroupApi.SyncRequest sync = new ClassicGroupApi.SyncRequest(data.groupId(), data.memberId(),
                data.groupInstanceId(), data.generationId(), data.protocolType(), data.protocolName(), assignments);
        return request.onLoop(groups.syncGroup(sync), r -> KafkaResponse.send(syncResponse(r, version)));
    }

    private static SyncGroupResponseData syncResponse(ClassicGroupApi.SyncResult r, short version) {
        SyncGroupResponseData out = new SyncGroupResponseData().setThrottleTimeMs(0)
                .setErrorCode(KafkaErrors.code(r.error())).setAssignment(r.assignment());
        if (version >= 5) {
            out.setProtocolType(r.protocolType()).setProtocolName(r.protocolName());
        }
        return out;
    }

    CompletableFuture<KafkaResponse> heartbeat(KafkaRequest request) {
        HeartbeatRequestData data = (HeartbeatRequestData) request.body();
        if (!mayRead(request, data.groupId())) {
            return CompletableFuture.completedFuture(KafkaResponse.send(new HeartbeatResponseData()
                    .setThrottleTimeMs(0).setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
        }
        ClassicGroupApi.HeartbeatRequest heartbeat = new ClassicGroupApi.HeartbeatRequest(data.groupId(),
                data.memberId(), data.groupInstanceId(), data.generationId());
        return request.onLoop(groups.heartbeat(heartbeat), e -> KafkaResponse.send(new HeartbeatResponseData()
                .setThrottleTimeMs(0).setErrorCode(KafkaErrors.code(e))));
    }

    CompletableFuture<KafkaResponse> leaveGroup(KafkaRequest request) {
        LeaveGroupRequestData data = (LeaveGroupRequestData) request.body();
        short version = request.apiVersion();
        if (!mayRead(request, data.groupId())) {
            return CompletableFuture.completedFuture(KafkaResponse.send(new LeaveGroupResponse(List.of(),
                    Errors.GROUP_AUTHORIZATION_FAILED, 0, version).data()));
        }
        List<ClassicGroupApi.LeavingMember> leaving = new ArrayList<>();
        if (version < 3) {
            leaving.add(new ClassicGroupApi.LeavingMember(data.memberId(), null, null));
        } else {
            for (MemberIdentity m : data.members()) {
                leaving.add(new ClassicGroupApi.LeavingMember(m.memberId(), m.groupInstanceId(), m.reason()));
            }
        }
        return request.onLoop(groups.leaveGroup(data.groupId(), leaving), r -> {
            List<MemberResponse> members = new ArrayList<>();
            for (ClassicGroupApi.LeftMember m : r.members()) {
                members.add(new MemberResponse().setMemberId(m.memberId()).setGroupInstanceId(m.groupInstanceId())
                        .setErrorCode(KafkaErrors.code(m.error())));
            }
            // Kafka's own rule for the versions: below v3 the one member's error is the top-level one.
            return KafkaResponse.send(new LeaveGroupResponse(members, Errors.forCode(KafkaErrors.code(r.error())), 0,
                    version).data());
        });
    }

    CompletableFuture<KafkaResponse> describeGroups(KafkaRequest request) {
        DescribeGroupsRequestData data = (DescribeGroupsRequestData) request.body();
        short version = request.apiVersion();
        boolean operations = version >= 3 && data.includeAuthorizedOperations();
        List<String> describable = data.groups().stream()
                .filter(g -> authz.rules().mayDescribeGroup(caller(request), g)).toList();
        CompletableFuture<List<ClassicGroupApi.GroupDescription>> described = describable.isEmpty()
                ? CompletableFuture.completedFuture(List.of()) : groups.describeGroups(describable);
        return request.onLoop(described, found -> {
            Map<String, ClassicGroupApi.GroupDescription> byId = new LinkedHashMap<>();
            found.forEach(g -> byId.putIfAbsent(g.groupId(), g));
            DescribeGroupsResponseData out = new DescribeGroupsResponseData().setThrottleTimeMs(0);
            for (String groupId : data.groups()) {
                ClassicGroupApi.GroupDescription g = byId.get(groupId);
                if (g == null) {
                    // Not described: who may not describe it learns nothing about it (Kafka's answer).
                    out.groups().add(new DescribedGroup().setGroupId(groupId)
                            .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()).setGroupState("")
                            .setProtocolType("").setProtocolData(""));
                    continue;
                }
                int allowedOps = operations ? authz.authorizedOperations(request, ResourceType.GROUP, groupId,
                        KafkaClusterView.GROUP_OPERATIONS) : KafkaClusterView.OPERATIONS_NOT_ASKED;
                out.groups().add(describedGroup(g, version, allowedOps));
            }
            return KafkaResponse.send(out);
        });
    }

    private static DescribedGroup describedGroup(ClassicGroupApi.GroupDescription g, short version,
            int authorizedOperations) {
        DescribedGroup out = new DescribedGroup().setGroupId(g.groupId()).setGroupState(g.state())
                .setProtocolType(g.protocolType()).setProtocolData("");
        if (authorizedOperations != KafkaClusterView.OPERATIONS_NOT_ASKED) {
            out.setAuthorizedOperations(authorizedOperations);
        }
        short code = KafkaErrors.code(g.error());
        if (code == Errors.GROUP_ID_NOT_FOUND.code() && version < 6) {
            // KIP-1043: older versions describe an unknown group as an empty Dead one.
            return out.setErrorCode(Errors.NONE.code()).setGroupState("Dead").setProtocolType("");
        }
        out.setErrorCode(code);
        if (version >= 6) {
            out.setErrorMessage(KafkaErrors.message(g.error()));
        }
        boolean stable = "Stable".equals(g.state());
        if (stable) {
            out.setProtocolData(g.protocolName());
        }
        for (ClassicGroupApi.MemberDescription m : g.members()) {
            DescribedGroupMember member = new DescribedGroupMember().setMemberId(m.memberId())
                    .setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setMemberMetadata(stable ? m.metadata() : new byte[0])
                    .setMemberAssignment(stable ? m.assignment() : new byte[0]);
            if (version >= 4) {
                member.setGroupInstanceId(m.groupInstanceId());
            }
            out.members().add(member);
        }
        return out;
    }

    /** Kafka's form of the client's address ("/127.0.0.1"), as DescribeGroups shows it. */
    private static String clientHost(KafkaRequest request) {
        return request.clientAddress() == null || request.clientAddress().getAddress() == null ? ""
                : "/" + request.clientAddress().getAddress().getHostAddress();
    }
}
