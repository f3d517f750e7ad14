package io.raftmq.broker.group;

import io.raftmq.broker.group.ConsumerProtocolMember.State;
import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.group.ConsumerGroupValue;
import io.raftmq.protocol.group.ConsumerMemberValue;
import io.raftmq.protocol.group.ConsumerTargetEpochValue;
import io.raftmq.protocol.group.ConsumerTargetValue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group protocol of KIP-848 on one {@link GroupShard}: ConsumerGroupHeartbeat (join,
 * subscribe, reconcile, leave), ConsumerGroupDescribe, the member-epoch check of OffsetCommit,
 * and the session and revocation deadlines. Commands build records ({@code consumer_*} kinds of
 * group_records.proto) and write them through the shard; only {@link #replay} changes the groups,
 * and an answer is sent once its records are committed.
 *
 * <p>How a group moves: any change of membership, of a member's subscription (topic names, regex,
 * assignor, rack), or of the partition count (or regex matches) of a subscribed topic bumps the
 * group epoch, and the target assignment is computed at once at that epoch by the group's
 * server-side assignor. Each member then reconciles towards its target on its own heartbeats
 * ({@link MemberReconciler}): it first revokes what it must give up, and gets a partition only
 * once the previous holder has confirmed giving it up. A member that does not confirm within its
 * rebalance timeout, or is not heard from within group.consumer.session.timeout.ms, is fenced
 * (removed, and the group epoch bumps). A member rejoining with epoch 0 under a member id the
 * group still has is taken to have dropped its partitions (the client does so when fenced): it
 * starts over with nothing.
 *
 * <p>A group id is either a classic group or a consumer-protocol group: a heartbeat for a classic
 * group with members gets INCONSISTENT_GROUP_PROTOCOL, as does a classic JoinGroup for a
 * consumer-protocol group with members ({@link #refuseClassicJoin}); an empty group of the other
 * kind is taken over. Committed offsets of either kind are kept by the shard's classic group entry.
 *
 * <p>Threads: the shard's owner (the coordinator's event loop) only; no locks.
 */
final class ConsumerGroupHeartbeats {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupHeartbeats.class);
    /** The longest group id accepted (Kafka's limit for consumer-protocol groups). */

    private final GroupShard shard;
    private final ToIntFunction<String> partitionCounts;
    private final Supplier<? extends Collection<String>> topicNames;
    private final Supplier<String> memberIds;
    private final Map<String, ServerAssignor> assignors = ServerAssignor.known();
    final Map<String, ConsumerProtocolGroup> groups = new HashMap<>();

    /**
     * @param partitionCounts a topic's partition count in this broker's metadata, 0 if none
     * @param topicNames every topic name in this broker's metadata (regex subscriptions match these)
     * @param memberIds new member ids for version-0 clients that send none
     */
    ConsumerGroupHeartbeats(GroupShard shard, ToIntFunction<String> partitionCounts,
            Supplier<? extends Collection<String>> topicNames, Supplier<String> memberIds) {
        this.shard = shard;
        this.partitionCounts = partitionCounts;
        this.topicNames = topicNames;
        this.memberIds = memberIds;
    }

    // ---- ConsumerGroupHeartbeat ----

    void heartbeat(ConsumerHeartbeat hb, Consumer<ConsumerHeartbeatAnswer> respond) {
        ApiError invalid = validate(hb);
        if (invalid.isFailure()) {
            respond.accept(ConsumerHeartbeatAnswer.failed(invalid, hb.memberId()));
            return;
        }
        ConsumerGroup classic = shard.groups.get(hb.groupId());
        if (classic != null && !classic.members.isEmpty()) {
            respond.accept(ConsumerHeartbeatAnswer.failed(ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
                    "group '%s' is a classic group with %d member(s); a consumer-protocol member cannot join it"
                            + " (mixed groups are not supported)", hb.groupId(), classic.members.size()),
                    hb.memberId()));
            return;
        }
        if (hb.memberEpoch() < 0) {
            leave(hb, respond);
            return;
        }
        ConsumerProtocolGroup stored = groups.get(hb.groupId());
        if (stored == null && hb.memberEpoch() != ConsumerHeartbeat.JOIN_EPOCH) {
            respond.accept(ConsumerHeartbeatAnswer.failed(ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does"
                    + " not exist; join with member epoch 0", hb.groupId()), hb.memberId()));
            return;
        }
        ConsumerProtocolGroup group = stored != null ? stored : new ConsumerProtocolGroup(hb.groupId());
        String memberId = hb.memberId().isEmpty() ? memberIds.get() : hb.memberId();
        Joining joining = resolveMember(group, hb, memberId);
        if (joining.error.isFailure()) {
            respond.accept(ConsumerHeartbeatAnswer.failed(joining.error, memberId));
            return;
        }
        ConsumerProtocolMember before = joining.before;
        ConsumerProtocolMember updated = withHeartbeatMetadata(joining.base, hb);
        List<CoordinatorRecord> records = new ArrayList<>();
        if (joining.replaced != null) {
            records.addAll(group.memberTombstones(joining.replaced));
        }
        if (before == null || joining.replaced != null || updated.metadataDiffers(before)) {
            records.add(new CoordinatorRecord.ConsumerMember(group.groupId, memberId, updated.toMemberValue()));
        }
        SortedMap<String, ConsumerProtocolMember> view = new TreeMap<>(group.members);
        if (joining.replaced != null) {
            view.remove(joining.replaced);
        }
        view.put(memberId, updated);
        String why = joining.replaced != null ? (updated.subscriptionDiffers(joining.base) ? "static member "
                + memberId + " replaced " + joining.replaced + " with another subscription" : null)
                : before == null ? "member " + memberId + " joined"
                : updated.subscriptionDiffers(before) ? "member " + memberId + " changed its subscription" : null;
        int targetEpoch = group.assignmentEpoch;
        SortedMap<String, SortedSet<Integer>> target = group.target(joining.replaced != null ? joining.replaced
                : memberId);
        Map<String, SortedMap<String, SortedSet<Integer>>> newTargets = maybeBumpEpoch(group, view, why, records);
        if (newTargets != null) {
            targetEpoch = group.groupEpoch + 1;
            target = newTargets.getOrDefault(memberId, TopicPartitionSets.EMPTY);
        } else if (joining.replaced != null) {
            records.add(new CoordinatorRecord.ConsumerTarget(group.groupId, memberId, ConsumerTargetValue.newBuilder()
                    .addAllPartitions(TopicPartitionSets.toProto(target)).build()));
        }
        String replaced = joining.replaced;
        BiPredicate<String, Integer> heldByOther = (topic, p) -> {
            String holder = group.holder(topic, p);
            return holder != null && !holder.equals(memberId) && !holder.equals(replaced);
        };
        ConsumerProtocolMember reconciled = MemberReconciler.reconcile(updated, targetEpoch, target,
                hb.ownedPartitions(), heldByOther);
        if (before == null || joining.base != before || !reconciled.toCurrentValue().equals(before.toCurrentValue())) {
            records.add(new CoordinatorRecord.ConsumerCurrent(group.groupId, memberId, reconciled.toCurrentValue()));
        }
        boolean full = hb.memberEpoch() == ConsumerHeartbeat.JOIN_EPOCH || (hb.rebalanceTimeoutMs() != -1
                && hb.subscribedTopicNames() != null && hb.ownedPartitions() != null);
        boolean assignmentChanged = before == null || !reconciled.assigned().equals(before.assigned());
        ConsumerHeartbeatAnswer answer = new ConsumerHeartbeatAnswer(ApiError.NONE, memberId, reconciled.memberEpoch(),
                shard.config.consumerHeartbeatIntervalMs(), full || assignmentChanged ? reconciled.assigned() : null);
        long nowMs = shard.time.monotonicMs();
        if (!records.isEmpty()) {
            ApiError error = shard.write(records, committed -> respond.accept(committed.isSuccess() ? answer
                    : ConsumerHeartbeatAnswer.failed(committed, memberId)));
            if (error.isFailure()) {
                respond.accept(ConsumerHeartbeatAnswer.failed(error, memberId));
                return;
            }
        }
        ConsumerProtocolGroup live = groups.get(group.groupId);
        live.sessionDeadlinesMs.put(memberId, nowMs + shard.config.consumerSessionTimeoutMs());
        updateRevocationDeadline(live, before, reconciled, nowMs);
        if (before == null || joining.replaced != null) {
            LOG.info("{} consumer group '{}': member {}{} joined (client {}, {}), group epoch {}", shard.logPrefix,
                    group.groupId, memberId, updated.isStatic() ? " (instance " + updated.instanceId() + ")" : "",
                    updated.clientId(), joining.replaced != null ? "replacing " + joining.replaced : "new",
                    live.groupEpoch);
        }
        if (before == null || reconciled.memberEpoch() != before.memberEpoch() || reconciled.state() != before.state()) {
            LOG.info("{} consumer group '{}': member {} -> epoch {} {}, assigned {}, revoking {}", shard.logPrefix,
                    group.groupId, memberId, reconciled.memberEpoch(), reconciled.state(),
                    TopicPartitionSets.describe(reconciled.assigned()),
                    TopicPartitionSets.describe(reconciled.pendingRevocation()));
        }
        if (records.isEmpty()) {
            respond.accept(answer);
        }
    }

    /** The member a joining or heartbeating request speaks for, or why it may not. */
    private record Joining(ApiError error, ConsumerProtocolMember before, ConsumerProtocolMember base,
            String replaced) {
        static Joining refused(ApiError error) {
            return new Joining(error, null, null, null);
        }
    }

    private Joining resolveMember(ConsumerProtocolGroup group, ConsumerHeartbeat hb, String memberId) {
        boolean joining = hb.memberEpoch() == ConsumerHeartbeat.JOIN_EPOCH;
        ConsumerProtocolMember existing = group.members.get(memberId);
        if (hb.instanceId() != null) {
            String holderId = group.staticMembers.get(hb.instanceId());
            ConsumerProtocolMember holder = holderId == null ? null : group.members.get(holderId);
            if (holder != null && !holderId.equals(memberId)) {
                if (!joining) {
                    return Joining.refused(ApiError.of(ErrorCode.FENCED_INSTANCE_ID, "instance id '%s' of group '%s'"
                            + " belongs to member %s, not %s", hb.instanceId(), group.groupId, holderId, memberId));
                }
                if (holder.memberEpoch() != ConsumerProtocolMember.STATIC_LEFT_EPOCH) {
                    return Joining.refused(ApiError.of(ErrorCode.UNRELEASED_INSTANCE_ID, "instance id '%s' of group"
                            + " '%s' is still held by member %s (epoch %d), which has neither left with epoch -2"
                            + " nor timed out", hb.instanceId(), group.groupId, holderId, holder.memberEpoch()));
                }
                // The static member comes back under a new member id: it takes over its assignment.
                ConsumerProtocolMember base = holder.withMemberId(memberId).withAssignment(0, holder.state(),
                        holder.assigned(), holder.pendingRevocation());
                return new Joining(ApiError.NONE, null, base, holderId);
            }
        }
        if (joining) {
            if (existing == null) {
                if (group.members.size() >= shard.config.maxGroupSize()) {
                    return Joining.refused(ApiError.of(ErrorCode.GROUP_MAX_SIZE_REACHED, "group '%s' has %d members,"
                            + " the most group.max.size allows", group.groupId, group.members.size()));
                }
                return new Joining(ApiError.NONE, null, ConsumerProtocolMember.newMember(memberId), null);
            }
            // Rejoining under its id (after being fenced): it has dropped its partitions, so it starts over.
            return new Joining(ApiError.NONE, existing, existing.withAssignment(0, State.STABLE,
                    TopicPartitionSets.EMPTY, TopicPartitionSets.EMPTY), null);
        }
        if (existing == null) {
            return Joining.refused(ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member %s is not in group '%s' (it left,"
                    + " timed out or was fenced); join again with epoch 0", memberId, group.groupId));
        }
        ApiError epoch = checkEpoch(group, existing, hb.memberEpoch(), hb.ownedPartitions());
        return epoch.isFailure() ? Joining.refused(epoch) : new Joining(ApiError.NONE, existing, existing, null);
    }

    /** FENCED_MEMBER_EPOCH unless the epoch is the member's, or its previous one with a response lost. */
    private static ApiError checkEpoch(ConsumerProtocolGroup group, ConsumerProtocolMember member, int epoch,
            Map<String, Set<Integer>> owned) {
        boolean lostResponse = epoch == member.previousMemberEpoch() && owned != null
                && TopicPartitionSets.isSubset(owned, member.assigned());
        if (epoch > member.memberEpoch() || (epoch < member.memberEpoch() && !lostResponse)) {
            return ApiError.of(ErrorCode.FENCED_MEMBER_EPOCH, "member %s of group '%s' sent epoch %d; its epoch is"
                    + " %d: give up all partitions and join again with epoch 0", member.memberId(), group.groupId,
                    epoch, member.memberEpoch());
        }
        return ApiError.NONE;
    }

    private static ConsumerProtocolMember withHeartbeatMetadata(ConsumerProtocolMember base, ConsumerHeartbeat hb) {
        ConsumerMemberValue.Builder v = base.toMemberValue().toBuilder()
                .setClientId(hb.clientId() == null ? "" : hb.clientId())
                .setClientHost(hb.clientHost() == null ? "" : hb.clientHost());
        if (hb.instanceId() != null) {
            v.setInstanceId(hb.instanceId());
        }
        if (hb.rackId() != null) {
            v.setRackId(hb.rackId());
        }
        if (hb.rebalanceTimeoutMs() != -1) {
            v.setRebalanceTimeoutMs(hb.rebalanceTimeoutMs());
        }
        if (hb.subscribedTopicNames() != null) {
            v.clearSubscribedTopicNames().addAllSubscribedTopicNames(new TreeSet<>(hb.subscribedTopicNames()));
        }
        if (hb.subscribedTopicRegex() != null) {
            v.setSubscribedTopicRegex(hb.subscribedTopicRegex());
        }
        if (hb.serverAssignor() != null) {
            v.setServerAssignor(hb.serverAssignor());
        }
        return base.withMetadata(v.build());
    }

    private ApiError validate(ConsumerHeartbeat hb) {
        ApiError groupId = GroupIds.check(hb.groupId());
        if (groupId.isFailure()) {
            return groupId;
        }
        if ("".equals(hb.instanceId()) || "".equals(hb.rackId())) {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "InstanceId and RackId may be null but not empty");
        }
        int epoch = hb.memberEpoch();
        if (epoch > 0 || epoch == ConsumerHeartbeat.LEAVE_EPOCH) {
            if (hb.memberId().isEmpty()) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "MemberId is empty with member epoch %d", epoch);
            }
        } else if (epoch == ConsumerHeartbeat.JOIN_EPOCH) {
            if (hb.rebalanceTimeoutMs() < 0) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be given (>= 0) when joining;"
                        + " got %d", hb.rebalanceTimeoutMs());
            }
            if (hb.ownedPartitions() == null || !hb.ownedPartitions().values().stream().allMatch(Set::isEmpty)) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "TopicPartitions must be an empty list when joining");
            }
            if (hb.subscribedTopicNames() == null && hb.subscribedTopicRegex() == null) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "SubscribedTopicNames or SubscribedTopicRegex must be"
                        + " given when joining");
            }
        } else if (epoch == ConsumerHeartbeat.STATIC_LEAVE_EPOCH) {
            if (hb.memberId().isEmpty() || hb.instanceId() == null) {
                return ApiError.of(ErrorCode.INVALID_REQUEST, "member epoch -2 is for static members: MemberId and"
                        + " InstanceId must be given");
            }
        } else {
            return ApiError.of(ErrorCode.INVALID_REQUEST, "member epoch %d is invalid (0 joins, -1 leaves, -2 leaves"
                    + " a static member for a while)", epoch);
        }
        if (hb.serverAssignor() != null && !assignors.containsKey(hb.serverAssignor())) {
            return ApiError.of(ErrorCode.UNSUPPORTED_ASSIGNOR, "server assignor '%s' is not supported; the"
                    + " coordinator has %s", hb.serverAssignor(), ServerAssignor.names());
        }
        if (hb.subscribedTopicRegex() != null && !hb.subscribedTopicRegex().isEmpty()) {
            try {
                Pattern.compile(hb.subscribedTopicRegex());
            } catch (PatternSyntaxException e) {
                return ApiError.of(ErrorCode.INVALID_REGULAR_EXPRESSION, "SubscribedTopicRegex '%s' does not compile"
                        + " as a java.util.regex pattern: %s", hb.subscribedTopicRegex(), e.getDescription());
            }
        }
        return ApiError.NONE;
    }


    // ---- leaving and fencing ----

    private void leave(ConsumerHeartbeat hb, Consumer<ConsumerHeartbeatAnswer> respond) {
        ConsumerProtocolGroup group = groups.get(hb.groupId());
        if (group == null) {
            respond.accept(ConsumerHeartbeatAnswer.failed(ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does"
                    + " not exist", hb.groupId()), hb.memberId()));
            return;
        }
        ConsumerProtocolMember member = group.members.get(hb.memberId());
        if (hb.instanceId() != null) {
            String holderId = group.staticMembers.get(hb.instanceId());
            if (holderId != null && !holderId.equals(hb.memberId())) {
                respond.accept(ConsumerHeartbeatAnswer.failed(ApiError.of(ErrorCode.FENCED_INSTANCE_ID, "instance id"
                        + " '%s' of group '%s' belongs to member %s, not %s", hb.instanceId(), group.groupId, holderId,
                        hb.memberId()), hb.memberId()));
                return;
            }
        }
        if (member == null) {
            respond.accept(ConsumerHeartbeatAnswer.failed(ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member %s is not"
                    + " in group '%s'", hb.memberId(), group.groupId), hb.memberId()));
            return;
        }
        List<CoordinatorRecord> records;
        String reason;
        if (hb.memberEpoch() == ConsumerHeartbeat.STATIC_LEAVE_EPOCH) {
            // It keeps its partitions until its session expires, so that it can come back to them.
            records = List.of(new CoordinatorRecord.ConsumerCurrent(group.groupId, member.memberId(), member
                    .withAssignment(ConsumerProtocolMember.STATIC_LEFT_EPOCH, member.state(), member.assigned(),
                            member.pendingRevocation()).toCurrentValue()));
            reason = "static member " + member.memberId() + " left for now (instance " + member.instanceId() + ")";
        } else {
            reason = "member " + member.memberId() + " left";
            records = removalRecords(group, member.memberId(), reason);
        }
        ConsumerHeartbeatAnswer answer = new ConsumerHeartbeatAnswer(ApiError.NONE, member.memberId(),
                hb.memberEpoch(), shard.config.consumerHeartbeatIntervalMs(), null);
        ApiError error = shard.write(records, committed -> respond.accept(committed.isSuccess() ? answer
                : ConsumerHeartbeatAnswer.failed(committed, member.memberId())));
        if (error.isFailure()) {
            respond.accept(ConsumerHeartbeatAnswer.failed(error, member.memberId()));
            return;
        }
        LOG.info("{} consumer group '{}': {}; group epoch {}", shard.logPrefix, group.groupId, reason,
                group.groupEpoch);
    }

    /** The records that remove a member, bump the group epoch and give its partitions to the rest. */
    private List<CoordinatorRecord> removalRecords(ConsumerProtocolGroup group, String memberId, String reason) {
        List<CoordinatorRecord> records = new ArrayList<>(group.memberTombstones(memberId));
        SortedMap<String, ConsumerProtocolMember> view = new TreeMap<>(group.members);
        view.remove(memberId);
        maybeBumpEpoch(group, view, reason, records);
        return records;
    }

    /** Fences a member (session or revocation deadline over): removed, its partitions reassigned. */
    private void fence(ConsumerProtocolGroup group, String memberId, String reason) {
        LOG.info("{} consumer group '{}': member {} fenced: {}", shard.logPrefix, group.groupId, memberId, reason);
        ApiError error = shard.write(removalRecords(group, memberId, reason), committed -> { });
        if (error.isFailure()) {
            LOG.warn("{} consumer group '{}': fencing member {} was not written: {}", shard.logPrefix, group.groupId,
                    memberId, error);
        }
    }

    // ---- group epoch and target assignment ----

    /**
     * If {@code why} is given, or the subscribed topics' partition counts (or regex matches) differ
     * from the group's, adds the records of the next group epoch and of the target assignment
     * computed for {@code view} (the members as they will be) at that epoch, and returns the new
     * targets; else returns null.
     */
    private Map<String, SortedMap<String, SortedSet<Integer>>> maybeBumpEpoch(ConsumerProtocolGroup group,
            SortedMap<String, ConsumerProtocolMember> view, String why, List<CoordinatorRecord> records) {
        SortedMap<String, Set<String>> subscriptions = resolveSubscriptions(view);
        Map<String, Integer> counts = new TreeMap<>();
        subscriptions.values().forEach(topics -> topics.forEach(t -> counts.put(t,
                Math.max(0, partitionCounts.applyAsInt(t)))));
        String reason = why;
        if (reason == null && !counts.equals(group.subscribedPartitionCounts)) {
            reason = "subscribed topics' partitions changed: " + group.subscribedPartitionCounts + " -> " + counts;
        }
        if (reason == null && group.stored && group.groupEpoch <= group.assignmentEpoch) {
            return null;
        }
        if (reason == null) {
            reason = "target assignment missing";
        }
        int epoch = group.groupEpoch + 1;
        records.add(new CoordinatorRecord.ConsumerGroupEpoch(group.groupId, ConsumerGroupValue.newBuilder()
                .setGroupEpoch(epoch).putAllSubscribedPartitionCounts(counts).build()));
        String assignorName = assignorOf(view);
        SortedMap<String, SortedMap<String, SortedSet<Integer>>> targets = assignors.get(assignorName)
                .assign(subscriptions, counts, group.targets);
        targets.forEach((memberId, target) -> {
            if (!target.equals(group.targets.get(memberId))) {
                records.add(new CoordinatorRecord.ConsumerTarget(group.groupId, memberId, ConsumerTargetValue
                        .newBuilder().addAllPartitions(TopicPartitionSets.toProto(target)).build()));
            }
        });
        records.add(new CoordinatorRecord.ConsumerTargetEpoch(group.groupId, ConsumerTargetEpochValue.newBuilder()
                .setAssignmentEpoch(epoch).build()));
        LOG.info("{} consumer group '{}': group epoch {} -> {} ({}); {} member(s), target assignment by the {}"
                + " assignor", shard.logPrefix, group.groupId, group.groupEpoch, epoch, reason, view.size(),
                assignorName);
        return targets;
    }

    private static String assignorOf(SortedMap<String, ConsumerProtocolMember> view) {
        ConsumerProtocolGroup probe = new ConsumerProtocolGroup("");
        probe.members.putAll(view);
        return probe.assignorName();
    }

    /** Member id -> topics it subscribes to: its names plus the existing topics its regex matches. */
    private SortedMap<String, Set<String>> resolveSubscriptions(SortedMap<String, ConsumerProtocolMember> view) {
        SortedMap<String, Set<String>> out = new TreeMap<>();
        Map<String, Pattern> patterns = new HashMap<>();
        Collection<String> all = null;
        for (ConsumerProtocolMember m : view.values()) {
            Set<String> topics = new TreeSet<>(m.subscribedTopicNames());
            if (!m.subscribedTopicRegex().isEmpty()) {
                if (all == null) {
                    all = topicNames.get();
                }
                Pattern pattern = patterns.computeIfAbsent(m.subscribedTopicRegex(), Pattern::compile);
                for (String topic : all) {
                    if (!topic.equals(GroupCoordinatorConfig.OFFSETS_TOPIC) && pattern.matcher(topic).matches()) {
                        topics.add(topic);
                    }
                }
            }
            out.put(m.memberId(), topics);
        }
        return out;
    }

    private void updateRevocationDeadline(ConsumerProtocolGroup group, ConsumerProtocolMember before,
            ConsumerProtocolMember after, long nowMs) {
        if (after.state() != State.UNREVOKED_PARTITIONS) {
            group.revocationDeadlines.remove(after.memberId());
        } else if (before == null || before.state() != State.UNREVOKED_PARTITIONS
                || !before.pendingRevocation().equals(after.pendingRevocation())
                || !group.revocationDeadlines.containsKey(after.memberId())) {
            group.revocationDeadlines.put(after.memberId(), new ConsumerProtocolGroup.RevocationDeadline(
                    nowMs + after.rebalanceTimeoutMs(), after.memberEpoch()));
        }
    }

    // ---- ConsumerGroupDescribe and OffsetCommit ----

    /** The group as of every write before this call (answered once those committed). */
    void describe(String groupId, Consumer<ConsumerGroupDescription> respond) {
        ApiError invalid = GroupIds.check(groupId);
        if (invalid.isFailure()) {
            respond.accept(ConsumerGroupDescription.failed(invalid, groupId));
            return;
        }
        shard.afterPendingWrites(() -> respond.accept(shard.isClosed()
                ? ConsumerGroupDescription.failed(ApiError.of(ErrorCode.NOT_COORDINATOR, "broker %d no longer"
                        + " coordinates group '%s'", shard.coordinatorId, groupId), groupId)
                : describeNow(groupId)));
    }

    /** What ConsumerGroupDescribe, ListGroups and DescribeGroups report of a group, now. */
    ConsumerGroupDescription describeNow(String groupId) {
        ConsumerProtocolGroup group = groups.get(groupId);
        if (group == null) {
            ConsumerGroup classic = shard.groups.get(groupId);
            return ConsumerGroupDescription.failed(classic != null && !classic.members.isEmpty()
                    ? ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' is a classic group, not a consumer"
                            + " group", groupId)
                    : ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' does not exist", groupId), groupId);
        }
        List<ConsumerGroupDescription.Member> members = new ArrayList<>();
        for (ConsumerProtocolMember m : group.members.values()) {
            members.add(new ConsumerGroupDescription.Member(m.memberId(), m.isStatic() ? m.instanceId() : null,
                    m.rackId().isEmpty() ? null : m.rackId(), m.memberEpoch(), m.clientId(), m.clientHost(),
                    m.subscribedTopicNames(), m.subscribedTopicRegex().isEmpty() ? null : m.subscribedTopicRegex(),
                    m.assigned(), group.target(m.memberId())));
        }
        return new ConsumerGroupDescription(ApiError.NONE, groupId, group.state(), ConsumerProtocolGroup.TYPE,
                group.groupEpoch, group.assignmentEpoch, group.assignorName(), List.copyOf(members));
    }

    /** Whether {@code groupId} is a consumer-protocol group (with or without members). */
    boolean isConsumerProtocolGroup(String groupId) {
        return groups.containsKey(groupId);
    }

    /** Whether {@code groupId} is a consumer-protocol group with members. */
    boolean hasMembers(String groupId) {
        ConsumerProtocolGroup group = groups.get(groupId);
        return group != null && !group.members.isEmpty();
    }

    /**
     * Kafka's check of an OffsetCommit to a consumer-protocol group, whose generation field carries
     * the member epoch: NONE, UNKNOWN_MEMBER_ID, or STALE_MEMBER_EPOCH. A commit without membership
     * (epoch below 0, no member id) is allowed only while the group has no members.
     */
    ApiError validateOffsetCommit(String groupId, String memberId, int memberEpoch) {
        ConsumerProtocolGroup group = groups.get(groupId);
        if (group == null) {
            return ApiError.of(ErrorCode.GROUP_ID_NOT_FOUND, "group '%s' is not a consumer-protocol group", groupId);
        }
        if (memberEpoch < 0 && memberId.isEmpty()) {
            return group.members.isEmpty() ? ApiError.NONE : ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "group '%s'"
                    + " has %d member(s); a commit without membership (epoch -1, no member id) is allowed only while"
                    + " it has none", groupId, group.members.size());
        }
        ConsumerProtocolMember member = group.members.get(memberId);
        if (member == null) {
            return ApiError.of(ErrorCode.UNKNOWN_MEMBER_ID, "member %s is not in consumer group '%s'", memberId,
                    groupId);
        }
        if (memberEpoch != member.memberEpoch()) {
            return ApiError.of(ErrorCode.STALE_MEMBER_EPOCH, "member %s of group '%s' committed with epoch %d; its"
                    + " epoch is %d", memberId, groupId, memberEpoch, member.memberEpoch());
        }
        return ApiError.NONE;
    }

    /**
     * A classic JoinGroup for {@code groupId}: INCONSISTENT_GROUP_PROTOCOL while a consumer-protocol
     * group with members holds the id; an empty one is deleted (tombstones written) so that the
     * classic group can take the id.
     */
    ApiError refuseClassicJoin(String groupId) {
        ConsumerProtocolGroup group = groups.get(groupId);
        if (group == null) {
            return ApiError.NONE;
        }
        if (!group.members.isEmpty()) {
            return ApiError.of(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "group '%s' is a consumer-protocol group"
                    + " (group.protocol=consumer) with %d member(s); a classic member cannot join it (mixed groups"
                    + " are not supported)", groupId, group.members.size());
        }
        LOG.info("{} consumer group '{}' has no members; a classic JoinGroup takes the group id over", shard.logPrefix,
                groupId);
        ApiError error = shard.write(group.deletionRecords(), committed -> { });
        if (error.isFailure()) {
            return error;
        }
        groups.remove(groupId);
        return ApiError.NONE;
    }

    /** Tombstones of every record of an empty consumer-protocol group (none if it is not one). */
    List<CoordinatorRecord> deletionRecords(String groupId) {
        ConsumerProtocolGroup group = groups.get(groupId);
        return group == null ? List.of() : group.deletionRecords();
    }

    // ---- replay, load, checkpoints ----

    void replay(CoordinatorRecord.ConsumerProtocolRecord record) {
        String groupId = record.groupId();
        ConsumerProtocolGroup group = groups.get(groupId);
        if (record instanceof CoordinatorRecord.ConsumerGroupEpoch r) {
            if (r.value() != null) {
                groupOrNew(groupId).replayGroup(r.value());
            } else if (group != null) {
                groups.remove(groupId);
            }
        } else if (record instanceof CoordinatorRecord.ConsumerTargetEpoch r) {
            if (r.value() != null) {
                groupOrNew(groupId).replayTargetEpoch(r.value());
            }
        } else if (record instanceof CoordinatorRecord.ConsumerTarget r) {
            if (r.value() != null) {
                groupOrNew(groupId).replayTarget(r.memberId(), r.value());
            } else if (group != null) {
                group.replayTarget(r.memberId(), null);
            }
        } else if (record instanceof CoordinatorRecord.ConsumerMember r) {
            if (r.value() != null) {
                ConsumerProtocolGroup g = groupOrNew(groupId);
                ConsumerProtocolMember m = g.members.get(r.memberId());
                g.putMember(r.memberId(), (m != null ? m : ConsumerProtocolMember.newMember(r.memberId()))
                        .withMetadata(r.value()));
            } else if (group != null) {
                group.putMember(r.memberId(), null);
            }
        } else if (record instanceof CoordinatorRecord.ConsumerCurrent r) {
            if (r.value() != null) {
                ConsumerProtocolGroup g = groupOrNew(groupId);
                ConsumerProtocolMember m = g.members.get(r.memberId());
                g.putMember(r.memberId(), (m != null ? m : ConsumerProtocolMember.newMember(r.memberId()))
                        .withCurrent(r.value()));
            } else if (group != null && group.members.containsKey(r.memberId())) {
                group.putMember(r.memberId(), group.members.get(r.memberId()).withAssignment(0, State.STABLE,
                        TopicPartitionSets.EMPTY, TopicPartitionSets.EMPTY));
            }
        } else {
            throw new IllegalArgumentException("not a consumer-protocol record: " + record);
        }
    }

    private ConsumerProtocolGroup groupOrNew(String groupId) {
        return groups.computeIfAbsent(groupId, ConsumerProtocolGroup::new);
    }

    /** Loading is over: every member gets a full session, and revoking members a full rebalance timeout. */
    void finishLoad(long nowMs) {
        for (ConsumerProtocolGroup group : groups.values()) {
            for (ConsumerProtocolMember m : group.members.values()) {
                group.sessionDeadlinesMs.put(m.memberId(), nowMs + shard.config.consumerSessionTimeoutMs());
                updateRevocationDeadline(group, null, m, nowMs);
            }
        }
    }

    List<CoordinatorRecord> checkpointRecords() {
        List<CoordinatorRecord> out = new ArrayList<>();
        new TreeMap<>(groups).values().forEach(g -> out.addAll(g.toRecords()));
        return out;
    }

    int liveKeys() {
        int n = 0;
        for (ConsumerProtocolGroup g : groups.values()) {
            n += (g.stored ? 2 : 0) + 2 * g.members.size() + g.targets.size();
        }
        return n;
    }

    // ---- timers and metadata ----

    /** Fences members whose session or revocation deadline is over. */
    void poll(long nowMs) {
        for (ConsumerProtocolGroup group : new ArrayList<>(groups.values())) {
            for (String memberId : new ArrayList<>(group.members.keySet())) {
                ConsumerProtocolMember m = group.members.get(memberId);
                if (m == null) {
                    continue;
                }
                Long session = group.sessionDeadlinesMs.get(memberId);
                ConsumerProtocolGroup.RevocationDeadline revocation = group.revocationDeadlines.get(memberId);
                if (session != null && nowMs >= session) {
                    fence(group, memberId, "session timeout of " + shard.config.consumerSessionTimeoutMs()
                            + " ms expired");
                } else if (revocation != null && nowMs >= revocation.deadlineMs()
                        && m.state() == State.UNREVOKED_PARTITIONS && m.memberEpoch() == revocation.memberEpoch()) {
                    fence(group, memberId, "it did not revoke " + TopicPartitionSets.describe(m.pendingRevocation())
                            + " within its rebalance timeout of " + m.rebalanceTimeoutMs() + " ms");
                }
            }
        }
    }

    long nextDeadlineMs() {
        long next = Long.MAX_VALUE;
        for (ConsumerProtocolGroup group : groups.values()) {
            for (long deadline : group.sessionDeadlinesMs.values()) {
                next = Math.min(next, deadline);
            }
            for (ConsumerProtocolGroup.RevocationDeadline d : group.revocationDeadlines.values()) {
                next = Math.min(next, d.deadlineMs());
            }
        }
        return next;
    }

    /** Metadata changed: groups whose subscribed topics changed partition count (or regex matches) move on. */
    void onMetadataChanged() {
        for (ConsumerProtocolGroup group : new ArrayList<>(groups.values())) {
            if (group.members.isEmpty()) {
                continue;
            }
            List<CoordinatorRecord> records = new ArrayList<>();
            if (maybeBumpEpoch(group, group.members, null, records) != null) {
                ApiError error = shard.write(records, committed -> { });
                if (error.isFailure()) {
                    LOG.warn("{} consumer group '{}': the new group epoch was not written: {}", shard.logPrefix,
                            group.groupId, error);
                }
            }
        }
    }
}
