package io.raftmq.broker.group;

import io.raftmq.broker.group.ClassicGroupApi.HeartbeatRequest;
import io.raftmq.broker.group.ClassicGroupApi.JoinRequest;
import io.raftmq.broker.group.ClassicGroupApi.JoinResult;
import io.raftmq.broker.group.ClassicGroupApi.JoinedMember;
import io.raftmq.broker.group.ClassicGroupApi.LeaveResult;
import io.raftmq.broker.group.ClassicGroupApi.LeavingMember;
import io.raftmq.broker.group.ClassicGroupApi.LeftMember;
import io.raftmq.broker.group.ClassicGroupApi.Protocol;
import io.raftmq.broker.group.ClassicGroupApi.SyncRequest;
import io.raftmq.broker.group.ClassicGroupApi.SyncResult;
import io.raftmq.broker.group.ConsumerGroup.State;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's classic group membership on one {@link GroupShard}'s state and thread: JoinGroup (with
 * protocol selection, the MEMBER_ID_REQUIRED handshake and static members), SyncGroup (the
 * leader's assignments handed to every member), Heartbeat, LeaveGroup, and session and rebalance
 * expiry. Protocol metadata and assignments are opaque, except when the group's leader is an SDK
 * member ({@link GroupMember#coordinatorAssigns}): the coordinator then computes the assignment
 * itself with the selected protocol's assignor on the members' consumer-protocol subscriptions.
 *
 * <p>Static members (group.instance.id): a join with an empty member id and a known instance id
 * replaces the instance's member under a new member id; while the group is stable and the
 * selected protocol stays, without a rebalance (the new member keeps the assignment). The old
 * member id gets FENCED_INSTANCE_ID from then on. Static members that do not rejoin a rebalance
 * stay (only session expiry or a leave removes them), as in Kafka.
 */
final class ClassicMembership {
    private static final Logger LOG = LoggerFactory.getLogger(ClassicMembership.class);

    private final GroupShard shard;
    private final Supplier<String> memberIdSuffixes;
    private final Map<String, PartitionAssignor> assignors = PartitionAssignor.known();

    ClassicMembership(GroupShard shard, Supplier<String> memberIdSuffixes) {
        this.shard = shard;
        this.memberIdSuffixes = memberIdSuffixes;
    }

    // ---- JoinGroup ----

    void join(JoinRequest req, Consumer<JoinResult> respond) {
        long nowMs = shard.time.monotonicMs();
        String memberId = req.memberId();
        ApiError invalid = validateJoin(req);
        if (invalid.isSuccess()) {
            invalid = shard.consumerProtocol.refuseClassicJoin(req.groupId());
        }
        if (invalid.isFailure()) {
            respond.accept(JoinResult.error(invalid, memberId));
            return;
        }
        ConsumerGroup group = shard.groups.get(req.groupId());
        if (group == null && !memberId.isEmpty()) {
            respond.accept(JoinResult.error(ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no member '%s'"
                    + " (it has no members at all); join with an empty member id", req.groupId(), memberId),
                    memberId));
            return;
        }
        List<String> names = req.protocols().stream().map(Protocol::name).toList();
        if (group != null && !group.supportsProtocols(memberId, req.protocolType(), names)) {
            respond.accept(JoinResult.error(ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "group '%s' has"
                    + " protocol type '%s' and its members all support %s; this member has type '%s' and"
                    + " protocols %s", req.groupId(), group.protocolType, group.commonProtocols(memberId),
                    req.protocolType(), names), memberId));
            return;
        }
        if (group == null) {
            group = shard.groupOrNew(req.groupId());
        }
        if (memberId.isEmpty()) {
            joinNewMember(group, req, respond, nowMs);
        } else {
            joinExistingMember(group, req, respond, nowMs);
        }
    }

    private ApiError validateJoin(JoinRequest req) {
        ApiError groupId = GroupIds.check(req.groupId());
        if (groupId.isFailure()) {
            return groupId;
        }
        GroupCoordinatorConfig config = shard.config;
        int session = req.sessionTimeoutMs();
        if (session < config.minSessionTimeoutMs() || session > config.maxSessionTimeoutMs()) {
            return ApiError.of(ErrorCode.INVALID_SESSION_TIMEOUT, "session timeout %d ms is outside"
                    + " group.min.session.timeout.ms .. group.max.session.timeout.ms (%d .. %d ms)", session,
                    config.minSessionTimeoutMs(), config.maxSessionTimeoutMs());
        }
        if (req.protocolType().isEmpty() || req.protocols().isEmpty()) {
            return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "a JoinGroup needs a protocol type and at"
                    + " least one protocol; this one has type '%s' and %d protocol(s)", req.protocolType(),
                    req.protocols().size());
        }
        return ApiError.NONE;
    }

    private void joinNewMember(ConsumerGroup group, JoinRequest req, Consumer<JoinResult> respond, long nowMs) {
        String instanceId = req.groupInstanceId();
        String existing = group.staticMemberId(instanceId);
        if (existing == null && group.members.size() >= shard.config.maxGroupSize()) {
            respond.accept(JoinResult.error(ApiError.of(ErrorCode.GROUP_MAX_SIZE_REACHED, "group '%s' has %d"
                    + " members, the most group.max.size allows", group.groupId, group.members.size()), ""));
            return;
        }
        String prefix = instanceId != null ? instanceId : req.clientId().isEmpty() ? "consumer" : req.clientId();
        String newMemberId = prefix + "-" + memberIdSuffixes.get();
        if (existing != null) {
            replaceStaticMember(group, existing, newMemberId, req, respond, nowMs);
        } else if (instanceId == null && req.requireKnownMemberId()) {
            // Kafka's handshake (JoinGroup v4+): the member learns its id first, then joins with it.
            group.pendingMembers.put(newMemberId, nowMs + req.sessionTimeoutMs());
            respond.accept(JoinResult.error(ApiError.of(ErrorCode.MEMBER_ID_REQUIRED, "join group '%s' again"
                    + " with member id %s", group.groupId, newMemberId), newMemberId));
        } else {
            addMember(group, newMemberId, req, respond, nowMs);
        }
    }

    private void addMember(ConsumerGroup group, String memberId, JoinRequest req, Consumer<JoinResult> respond,
            long nowMs) {
        GroupMember member = newMember(memberId, req);
        member.pendingJoin = respond;
        member.heardFrom(nowMs);
        group.addMember(member);
        group.protocolType = req.protocolType();
        String reason = "member " + memberId + (member.isStatic() ? " (instance " + member.groupInstanceId + ")" : "")
                + " joined" + reasonSuffix(req);
        switch (group.state()) {
            case EMPTY, STABLE, COMPLETING_REBALANCE -> prepareRebalance(group, nowMs, reason);
            case PREPARING_REBALANCE -> {
                if (group.initialDelay) {
                    group.rebalanceDeadlineMs = Math.min(nowMs + shard.config.initialRebalanceDelayMs(),
                            group.initialDelayLimitMs);
                }
            }
            case DEAD -> throw new IllegalStateException("dead group " + group.groupId + " still in the shard");
        }
        maybeCompleteJoin(group, nowMs);
    }

    private static GroupMember newMember(String memberId, JoinRequest req) {
        int rebalanceTimeoutMs = req.rebalanceTimeoutMs() > 0 ? req.rebalanceTimeoutMs() : req.sessionTimeoutMs();
        return new GroupMember(memberId, req.groupInstanceId(), req.clientId(), req.clientHost(),
                req.coordinatorAssigns(), req.sessionTimeoutMs(), rebalanceTimeoutMs, req.protocols());
    }

    private void joinExistingMember(ConsumerGroup group, JoinRequest req, Consumer<JoinResult> respond,
            long nowMs) {
        String memberId = req.memberId();
        if (req.groupInstanceId() == null && group.pendingMembers.containsKey(memberId)) {
            if (group.members.size() >= shard.config.maxGroupSize()) {
                group.pendingMembers.remove(memberId);
                respond.accept(JoinResult.error(ApiError.of(ErrorCode.GROUP_MAX_SIZE_REACHED, "group '%s' has %d"
                        + " members, the most group.max.size allows", group.groupId, group.members.size()), ""));
                return;
            }
            addMember(group, memberId, req, respond, nowMs);
            return;
        }
        ApiError check = validateMember(group, memberId, req.groupInstanceId());
        if (check.isFailure()) {
            respond.accept(JoinResult.error(check, memberId));
            return;
        }
        GroupMember member = group.members.get(memberId);
        member.heardFrom(nowMs);
        boolean unchanged = member.matches(req.protocols());
        String reason = "member " + memberId + " rejoined" + (unchanged ? "" : " with new protocol metadata")
                + reasonSuffix(req);
        switch (group.state()) {
            case PREPARING_REBALANCE -> {
                update(member, req);
                setPendingJoin(member, respond);
                maybeCompleteJoin(group, nowMs);
            }
            case COMPLETING_REBALANCE -> {
                if (unchanged) {
                    // It missed the answer: the current generation again.
                    respond.accept(currentGeneration(group, memberId, memberId.equals(group.leaderId), false));
                } else {
                    update(member, req);
                    setPendingJoin(member, respond);
                    prepareRebalance(group, nowMs, reason);
                }
            }
            case STABLE -> {
                // A leader that computes assignments rejoins to have the group rebalance (e.g. a
                // topic's partition count changed), as Kafka's coordinator takes it.
                boolean leaderAsks = memberId.equals(group.leaderId) && !member.coordinatorAssigns;
                if (unchanged && !leaderAsks) {
                    respond.accept(currentGeneration(group, memberId, false, false));
                } else {
                    update(member, req);
                    setPendingJoin(member, respond);
                    prepareRebalance(group, nowMs, reason);
                }
            }
            case EMPTY, DEAD -> respond.accept(JoinResult.error(unknownMember(group, memberId, group.groupId),
                    memberId));
        }
    }

    private static void update(GroupMember member, JoinRequest req) {
        member.setProtocols(req.protocols());
        member.sessionTimeoutMs = req.sessionTimeoutMs();
        member.rebalanceTimeoutMs = req.rebalanceTimeoutMs() > 0 ? req.rebalanceTimeoutMs() : req.sessionTimeoutMs();
    }

    /**
     * Kafka's updateStaticMemberAndRebalance: the instance's member {@code oldMemberId} is
     * replaced by {@code newMemberId}, which keeps its assignment; its waiting calls get
     * FENCED_INSTANCE_ID. A stable group whose selected protocol does not change stores the new
     * member id and answers with the current generation (no rebalance); otherwise it rebalances.
     */
    private void replaceStaticMember(ConsumerGroup group, String oldMemberId, String newMemberId, JoinRequest req,
            Consumer<JoinResult> respond, long nowMs) {
        GroupMember old = group.members.get(oldMemberId);
        String leaderBefore = group.leaderId;
        GroupMember replacement = newMember(newMemberId, req);
        replacement.assignment = old.assignment;
        replacement.heardFrom(nowMs);
        ApiError fenced = ApiError.of(ErrorCode.FENCED_INSTANCE_ID, "instance '%s' of group '%s' joined again as"
                + " member %s; member %s is fenced", req.groupInstanceId(), group.groupId, newMemberId, oldMemberId);
        Consumer<JoinResult> oldJoin = old.pendingJoin;
        old.pendingJoin = null;
        answerSync(old, SyncResult.error(fenced));
        group.removeMember(oldMemberId);
        group.addMember(replacement);
        if (oldMemberId.equals(group.leaderId)) {
            group.leaderId = newMemberId;
        }
        if (oldJoin != null) {
            oldJoin.accept(JoinResult.error(fenced, oldMemberId));
        }
        LOG.info("{} group '{}': static member {} of instance '{}' replaced by {} ({})", shard.logPrefix,
                group.groupId, oldMemberId, req.groupInstanceId(), newMemberId, group.state().wireName);
        String reason = "static member " + newMemberId + " of instance '" + req.groupInstanceId()
                + "' replaced " + oldMemberId + reasonSuffix(req);
        replacement.pendingJoin = respond;
        switch (group.state()) {
            case STABLE -> {
                String selected = group.selectProtocol();
                if (!group.protocolName.equals(selected)) {
                    prepareRebalance(group, nowMs, reason + "; the selected protocol would change to " + selected);
                    return;
                }
                int generation = group.generationId;
                ApiError error = shard.write(List.of(new CoordinatorRecord.GroupMetadata(group.groupId,
                        group.toValue(shard.time.milliseconds()))), committed -> onReplacementStored(group,
                                old, replacement, leaderBefore, generation, req.supportsSkipAssignment(), committed));
                if (error.isFailure()) {
                    onReplacementStored(group, old, replacement, leaderBefore, generation,
                            req.supportsSkipAssignment(), error);
                }
            }
            // The leader may already have the old member id in its assignment: rebalance.
            case COMPLETING_REBALANCE -> prepareRebalance(group, nowMs, reason);
            case PREPARING_REBALANCE -> maybeCompleteJoin(group, nowMs);
            case EMPTY, DEAD -> throw new IllegalStateException("group " + group.groupId + " is "
                    + group.state() + " with static member " + oldMemberId);
        }
    }

    private void onReplacementStored(ConsumerGroup group, GroupMember old, GroupMember replacement,
            String leaderBefore, int generation, boolean supportsSkip, ApiError error) {
        Consumer<JoinResult> respond = replacement.pendingJoin;
        if (shard.isClosed() || respond == null || group.members.get(replacement.memberId) != replacement) {
            return; // a rebalance or removal answered it meanwhile
        }
        replacement.pendingJoin = null;
        if (error.isFailure()) {
            if (group.generationId == generation && group.is(State.STABLE)) {
                // Not stored: the old member id stays the instance's.
                group.removeMember(replacement.memberId);
                group.addMember(old);
                if (replacement.memberId.equals(group.leaderId)) {
                    group.leaderId = old.memberId;
                }
            }
            LOG.warn("{} group '{}': storing static member {} of instance '{}' failed: {}", shard.logPrefix,
                    group.groupId, replacement.memberId, replacement.groupInstanceId, error);
            respond.accept(JoinResult.error(error, ""));
            return;
        }
        boolean leads = replacement.memberId.equals(group.leaderId);
        if (leads && supportsSkip) {
            // The leader learns the members but must not reassign (JoinGroup v9+).
            respond.accept(currentGeneration(group, replacement.memberId, true, true));
        } else {
            // Older clients must not think they lead (they would reassign): the leader as it was.
            JoinResult current = currentGeneration(group, replacement.memberId, false, false);
            respond.accept(new JoinResult(current.error(), current.generationId(), current.protocolType(),
                    current.protocolName(), leaderBefore, current.memberId(), false, List.of()));
        }
    }

    private static String reasonSuffix(JoinRequest req) {
        return req.reason() == null || req.reason().isEmpty() ? "" : " (" + req.reason() + ")";
    }

    private static JoinResult currentGeneration(ConsumerGroup group, String memberId, boolean withMembers,
            boolean skipAssignment) {
        List<JoinedMember> members = new ArrayList<>();
        if (withMembers) {
            for (GroupMember m : group.members.values()) {
                members.add(new JoinedMember(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
            }
        }
        return new JoinResult(ApiError.NONE, group.generationId, group.protocolType, group.protocolName,
                group.leaderId, memberId, skipAssignment, members);
    }

    private static void setPendingJoin(GroupMember member, Consumer<JoinResult> respond) {
        Consumer<JoinResult> previous = member.pendingJoin;
        member.pendingJoin = respond;
        if (previous != null) {
            previous.accept(JoinResult.error(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "superseded by a newer"
                    + " JoinGroup from member %s", member.memberId), member.memberId));
        }
    }

    void prepareRebalance(ConsumerGroup group, long nowMs, String reason) {
        if (group.is(State.COMPLETING_REBALANCE)) {
            for (GroupMember m : group.members.values()) {
                answerSync(m, SyncResult.error(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '%s' is"
                        + " rebalancing again: %s", group.groupId, reason)));
            }
        }
        boolean fromEmpty = group.is(State.EMPTY);
        group.transitionTo(State.PREPARING_REBALANCE, reason);
        if (fromEmpty && shard.config.initialRebalanceDelayMs() > 0) {
            group.initialDelay = true;
            group.initialDelayLimitMs = nowMs + group.maxRebalanceTimeoutMs();
            group.rebalanceDeadlineMs = Math.min(nowMs + shard.config.initialRebalanceDelayMs(),
                    group.initialDelayLimitMs);
        } else {
            group.initialDelay = false;
            group.rebalanceDeadlineMs = nowMs + group.maxRebalanceTimeoutMs();
        }
    }

    void maybeCompleteJoin(ConsumerGroup group, long nowMs) {
        if (group.is(State.PREPARING_REBALANCE)
                && (group.members.isEmpty() || (!group.initialDelay && group.allMembersJoined()))) {
            completeJoin(group, nowMs, group.members.isEmpty() ? "no members left" : "every member joined");
        }
    }

    /**
     * Ends the join phase: dynamic members that did not rejoin leave (static ones stay); the rest
     * get the next generation. The leader gets every member's metadata; if it is an SDK member the
     * coordinator computes and stores the assignment at once, else it waits for the leader's
     * SyncGroup.
     */
    void completeJoin(ConsumerGroup group, long nowMs, String reason) {
        for (GroupMember m : new ArrayList<>(group.members.values())) {
            if (m.pendingJoin == null && !m.isStatic()) {
                LOG.info("{} group '{}': member {} did not rejoin within the rebalance timeout; removed",
                        shard.logPrefix, group.groupId, m.memberId);
                group.removeMember(m.memberId);
                answerSync(m, SyncResult.error(unknownMember(group, m.memberId, group.groupId)));
            }
        }
        group.initialDelay = false;
        if (group.members.isEmpty()) {
            group.generationId++;
            group.protocolName = "";
            group.leaderId = "";
            group.assignedPartitionCounts = Map.of();
            group.transitionTo(State.EMPTY, reason);
            ApiError error = shard.write(List.of(new CoordinatorRecord.GroupMetadata(group.groupId,
                    group.toValue(shard.time.milliseconds()))), committed -> { });
            if (error.isFailure()) {
                LOG.warn("{} group '{}': storing the empty generation {} failed: {}", shard.logPrefix, group.groupId,
                        group.generationId, error);
            }
            return;
        }
        String leader = group.electLeader();
        if (leader == null) {
            // Only static members that have not rejoined: wait another rebalance timeout (or their sessions).
            group.rebalanceDeadlineMs = nowMs + group.maxRebalanceTimeoutMs();
            return;
        }
        group.generationId++;
        group.protocolName = group.selectProtocol();
        group.leaderId = leader;
        GroupMember leaderMember = group.members.get(leader);
        boolean coordinatorAssigns = leaderMember.coordinatorAssigns;
        if (coordinatorAssigns) {
            assign(group);
        }
        group.transitionTo(State.COMPLETING_REBALANCE, reason + "; generation " + group.generationId + " with"
                + " protocol " + group.protocolName + ", leader " + leader
                + (coordinatorAssigns ? " (the coordinator assigns)" : ""));
        int generation = group.generationId;
        for (GroupMember m : group.members.values()) {
            Consumer<JoinResult> pending = m.pendingJoin;
            if (pending == null) {
                continue; // a static member that did not rejoin: it keeps its place
            }
            m.pendingJoin = null;
            m.heardFrom(nowMs);
            pending.accept(currentGeneration(group, m.memberId, m.memberId.equals(leader), false));
        }
        if (coordinatorAssigns) {
            storeGeneration(group, generation);
        }
    }

    /** The SDK leader's part, done here: every member's assignment by the selected protocol's assignor. */
    private void assign(ConsumerGroup group) {
        PartitionAssignor assignor = assignors.get(group.protocolName);
        Map<String, List<String>> subscriptions = new TreeMap<>();
        group.members.values().forEach(m -> subscriptions.put(m.memberId, m.topics));
        Map<String, Integer> counts = shard.partitionCountsOf(group.subscribedTopics());
        SortedMap<String, SortedMap<String, List<Integer>>> assignment = assignor == null
                ? PartitionAssignor.emptyAssignment(subscriptions)
                : assignor.assign(subscriptions, t -> counts.getOrDefault(t, 0));
        group.assignedPartitionCounts = counts;
        for (GroupMember m : group.members.values()) {
            m.assignment = ConsumerProtocolBytes.assignment(assignment.get(m.memberId),
                    ConsumerProtocolBytes.version(m.metadata(group.protocolName)));
        }
    }

    private void storeGeneration(ConsumerGroup group, int generation) {
        ApiError error = shard.write(List.of(new CoordinatorRecord.GroupMetadata(group.groupId,
                group.toValue(shard.time.milliseconds()))), committed -> onGenerationStored(group, generation,
                        committed));
        if (error.isFailure()) {
            onGenerationStored(group, generation, error);
        }
    }

    private void onGenerationStored(ConsumerGroup group, int generation, ApiError error) {
        if (shard.isClosed() || shard.groups.get(group.groupId) != group || group.generationId != generation
                || !group.is(State.COMPLETING_REBALANCE)) {
            return;
        }
        if (error.isSuccess()) {
            group.transitionTo(State.STABLE, "assignment of generation " + generation + " stored");
            for (GroupMember m : group.members.values()) {
                answerSync(m, new SyncResult(ApiError.NONE, group.protocolType, group.protocolName, m.assignment));
            }
        } else {
            for (GroupMember m : group.members.values()) {
                answerSync(m, SyncResult.error(error));
            }
            prepareRebalance(group, shard.time.monotonicMs(), "storing generation " + generation + " failed: "
                    + error);
        }
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup ----

    void sync(SyncRequest req, Consumer<SyncResult> respond) {
        ConsumerGroup group = shard.groups.get(req.groupId());
        ApiError check = checkMember(group, req.groupId(), req.memberId(), req.groupInstanceId(),
                req.generationId());
        if (check.isSuccess() && req.protocolType() != null && !req.protocolType().equals(group.protocolType)) {
            check = ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "group '%s' has protocol type '%s', not"
                    + " '%s'", req.groupId(), group.protocolType, req.protocolType());
        }
        if (check.isSuccess() && req.protocolName() != null && !req.protocolName().equals(group.protocolName)) {
            check = ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "generation %d of group '%s' uses protocol"
                    + " '%s', not '%s'", group.generationId, req.groupId(), group.protocolName, req.protocolName());
        }
        if (check.isFailure()) {
            respond.accept(SyncResult.error(check));
            return;
        }
        GroupMember member = group.members.get(req.memberId());
        member.heardFrom(shard.time.monotonicMs());
        switch (group.state()) {
            case PREPARING_REBALANCE -> respond.accept(SyncResult.error(rebalancing(group)));
            case COMPLETING_REBALANCE -> {
                answerSync(member, SyncResult.error(ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "superseded by a"
                        + " newer SyncGroup from member %s", member.memberId)));
                member.pendingSync = respond;
                if (member.memberId.equals(group.leaderId) && !member.coordinatorAssigns) {
                    int missing = 0;
                    for (GroupMember m : group.members.values()) {
                        byte[] a = req.assignments().get(m.memberId);
                        m.assignment = a == null ? GroupMember.NO_BYTES : a;
                        missing += a == null ? 1 : 0;
                    }
                    if (missing > 0) {
                        LOG.warn("{} group '{}': leader {} gave no assignment to {} of {} member(s) in generation"
                                + " {}; they get an empty one", shard.logPrefix, group.groupId, member.memberId,
                                missing, group.members.size(), group.generationId);
                    }
                    storeGeneration(group, group.generationId);
                }
            }
            case STABLE -> respond.accept(new SyncResult(ApiError.NONE, group.protocolType, group.protocolName,
                    member.assignment));
            case EMPTY, DEAD -> respond.accept(SyncResult.error(unknownMember(group, member.memberId,
                    group.groupId)));
        }
    }

    ApiError heartbeat(HeartbeatRequest req) {
        ConsumerGroup group = shard.groups.get(req.groupId());
        ApiError error = checkMember(group, req.groupId(), req.memberId(), req.groupInstanceId(), req.generationId());
        if (error.isSuccess()) {
            group.members.get(req.memberId()).heardFrom(shard.time.monotonicMs());
            if (group.is(State.PREPARING_REBALANCE)) {
                error = rebalancing(group);
            }
        }
        return error;
    }

    LeaveResult leave(String groupId, List<LeavingMember> leaving) {
        ApiError invalid = GroupIds.check(groupId);
        if (invalid.isFailure()) {
            return new LeaveResult(invalid, List.of());
        }
        ConsumerGroup group = shard.groups.get(groupId);
        if (group == null) {
            return new LeaveResult(unknownMember(null, leaving.isEmpty() ? "" : leaving.get(0).memberId(), groupId),
                    List.of());
        }
        List<LeftMember> out = new ArrayList<>();
        for (LeavingMember l : leaving) {
            String reason = l.reason() == null || l.reason().isEmpty() ? "" : " (" + l.reason() + ")";
            if (l.groupInstanceId() == null) {
                if (group.pendingMembers.remove(l.memberId()) != null) {
                    out.add(new LeftMember(l.memberId(), null, ApiError.NONE));
                    maybeCompleteJoin(group, shard.time.monotonicMs());
                    continue;
                }
                GroupMember m = group.members.get(l.memberId());
                if (m == null) {
                    out.add(new LeftMember(l.memberId(), null, unknownMember(group, l.memberId(), groupId)));
                    continue;
                }
                removeMember(group, m, "member " + m.memberId + " left the group" + reason);
                out.add(new LeftMember(l.memberId(), null, ApiError.NONE));
            } else {
                String current = group.staticMemberId(l.groupInstanceId());
                if (current == null) {
                    out.add(new LeftMember(l.memberId(), l.groupInstanceId(), ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID,
                            "group '%s' has no static member of instance '%s'", groupId, l.groupInstanceId())));
                } else if (!l.memberId().isEmpty() && !l.memberId().equals(current)) {
                    out.add(new LeftMember(l.memberId(), l.groupInstanceId(), fenced(groupId, l.groupInstanceId(),
                            current, l.memberId())));
                } else {
                    removeMember(group, group.members.get(current), "static member " + current + " of instance '"
                            + l.groupInstanceId() + "' left the group" + reason);
                    out.add(new LeftMember(current, l.groupInstanceId(), ApiError.NONE));
                }
            }
        }
        return new LeaveResult(ApiError.NONE, out);
    }

    /**
     * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID (an instance's replaced member id), ILLEGAL_GENERATION,
     * or NONE for a member of the group's current generation.
     */
    ApiError checkMember(ConsumerGroup group, String groupId, String memberId, String groupInstanceId,
            int generation) {
        if (group == null) {
            return unknownMember(null, memberId, groupId);
        }
        ApiError member = validateMember(group, memberId, groupInstanceId);
        if (member.isFailure()) {
            return member;
        }
        if (generation != group.generationId) {
            return ApiError.of(ErrorCode.ILLEGAL_GENERATION, "generation %d of group '%s' is over; the current"
                    + " generation is %d: join again", generation, groupId, group.generationId);
        }
        return ApiError.NONE;
    }

    /** Kafka's ClassicGroup.validateMember: with an instance id, the member must be that instance's current one. */
    static ApiError validateMember(ConsumerGroup group, String memberId, String groupInstanceId) {
        if (groupInstanceId != null) {
            String current = group.staticMemberId(groupInstanceId);
            if (current == null) {
                return ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no static member of instance '%s'",
                        group.groupId, groupInstanceId);
            }
            if (!current.equals(memberId)) {
                return fenced(group.groupId, groupInstanceId, current, memberId);
            }
            return ApiError.NONE;
        }
        return group.members.containsKey(memberId) ? ApiError.NONE : unknownMember(group, memberId, group.groupId);
    }

    private static ApiError fenced(String groupId, String instanceId, String current, String memberId) {
        return ApiError.of(ErrorCode.FENCED_INSTANCE_ID, "instance '%s' of group '%s' is member %s now; member %s"
                + " was replaced", instanceId, groupId, current, memberId);
    }

    static ApiError unknownMember(ConsumerGroup group, String memberId, String groupId) {
        return group == null
                ? ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s' has no members; join with an empty member"
                        + " id", groupId)
                : ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member '%s' is not in group '%s' (removed after a"
                        + " leave, a session timeout or a missed rebalance); join with an empty member id",
                        memberId, groupId);
    }

    private static ApiError rebalancing(ConsumerGroup group) {
        return ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS, "group '%s' is rebalancing: join again",
                group.groupId);
    }

    private static void answerSync(GroupMember m, SyncResult result) {
        Consumer<SyncResult> pending = m.pendingSync;
        m.pendingSync = null;
        if (pending != null) {
            pending.accept(result);
        }
    }

    void removeMember(ConsumerGroup group, GroupMember member, String reason) {
        ApiError gone = ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member '%s' was removed from group '%s': %s",
                member.memberId, group.groupId, reason);
        Consumer<JoinResult> join = member.pendingJoin;
        member.pendingJoin = null;
        if (join != null) {
            join.accept(JoinResult.error(gone, member.memberId));
        }
        answerSync(member, SyncResult.error(gone));
        group.removeMember(member.memberId);
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = group.members.isEmpty() ? "" : group.members.firstKey();
        }
        long nowMs = shard.time.monotonicMs();
        if (group.is(State.STABLE) || group.is(State.COMPLETING_REBALANCE)) {
            prepareRebalance(group, nowMs, reason);
        }
        maybeCompleteJoin(group, nowMs);
    }

    // ---- timers and closing ----

    /** Completes join phases whose time is up, removes members and pending member ids whose session expired. */
    void poll(long nowMs) {
        for (ConsumerGroup group : new ArrayList<>(shard.groups.values())) {
            if (group.is(State.PREPARING_REBALANCE) && nowMs >= group.rebalanceDeadlineMs) {
                completeJoin(group, nowMs, group.initialDelay ? "initial rebalance delay over"
                        : "rebalance timeout of " + group.maxRebalanceTimeoutMs() + " ms over");
            }
            if (group.pendingMembers.values().removeIf(deadline -> nowMs >= deadline)) {
                maybeCompleteJoin(group, nowMs);
            }
            for (GroupMember m : new ArrayList<>(group.members.values())) {
                if (!m.isAwaiting() && nowMs >= m.sessionDeadlineMs && group.members.get(m.memberId) == m) {
                    removeMember(group, m, "session timeout of " + m.sessionTimeoutMs + " ms of member "
                            + m.memberId + " expired");
                }
            }
        }
    }

    /** The earliest deadline of this shard's membership. */
    static long nextDeadlineMs(Iterable<ConsumerGroup> groups) {
        long next = Long.MAX_VALUE;
        for (ConsumerGroup group : groups) {
            if (group.is(State.PREPARING_REBALANCE)) {
                next = Math.min(next, group.rebalanceDeadlineMs);
            }
            for (long deadline : group.pendingMembers.values()) {
                next = Math.min(next, deadline);
            }
            for (GroupMember m : group.members.values()) {
                if (!m.isAwaiting()) {
                    next = Math.min(next, m.sessionDeadlineMs);
                }
            }
        }
        return next;
    }

    /** Every waiting join and sync is answered {@code error} (the shard is closing). */
    static void answerAll(Iterable<ConsumerGroup> groups, ApiError error) {
        for (ConsumerGroup g : groups) {
            for (GroupMember m : g.members.values()) {
                Consumer<JoinResult> join = m.pendingJoin;
                m.pendingJoin = null;
                if (join != null) {
                    join.accept(JoinResult.error(error, m.memberId));
                }
                answerSync(m, SyncResult.error(error));
            }
        }
    }
}
