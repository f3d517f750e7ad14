package io.raftmq.replication;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.Acks;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.storage.AppendResult;
import io.raftmq.storage.EpochEndOffset;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition replica on this broker.
 *
 * <pre>
 *   NONE -(metadata: this broker leads epoch E)-> LEADER(E)
 *   NONE | LEADER -(metadata: broker L leads epoch E)-> FOLLOWER(L, E)
 *   FOLLOWER -(metadata: this broker leads epoch E)-> LEADER(E)
 *   any -(metadata: a newer epoch)-> the role of that epoch
 * </pre>
 *
 * <p>As leader it appends producer batches (stamping its epoch), serves followers' fetches (which
 * tell it each follower's position: the follower has every record below its durable offset on
 * disk), keeps the high watermark = the smallest durable position over the ISR (its own durable
 * offset for itself; a member whose position it has not learned yet blocks it), and proposes ISR
 * changes: a follower that has not caught up for replica.lag.time.max.ms leaves, a follower that
 * reached the high watermark (and the start of this leader's epoch) joins. Only the controller
 * changes the ISR; while a proposal is in flight the high watermark counts the larger of the two
 * ISRs. An acks=all produce the high watermark covers succeeds only while the ISR has
 * min.insync.replicas members (else NOT_ENOUGH_REPLICAS_AFTER_APPEND, as Kafka).
 *
 * <p>As follower it appends the leader's batches as they are and learns the high watermark from
 * the leader.
 *
 * <p>Thread-safety: every field is guarded by {@code lock} (gRPC threads, fetcher threads, the
 * metadata thread and the ISR checker all come here); the high watermark is also volatile for
 * lock-free reads. Methods return what changed, so that callers complete waiting requests after
 * releasing the lock: no future is completed and no callback runs under it (a waiting produce
 * spans partitions, and its completion takes their locks one after the other).
 */
public final class Partition {
    private static final Logger LOG = LoggerFactory.getLogger(Partition.class);

    public enum Role { LEADER, FOLLOWER, NONE }

    /** What applying committed metadata did. */
    public enum Transition { BECAME_LEADER, BECAME_FOLLOWER, UNCHANGED }

    /** A follower's position as its fetches tell it. Guarded by the partition's lock. */
    private static final class FollowerState {
        long position = -1;
        long lastCaughtUpMs;
        long lastFetchMs;
        long leaderEndAtLastFetch = -1;
    }

    /** An ISR change to propose to the controller. */
    public record IsrProposal(UUID topicId, int partition, int leaderEpoch, int partitionEpoch, List<Integer> isr) {}

    /** The outcome of a leader append. {@code appended} is null when {@code error} is set. */
    public record LeaderAppend(ApiError error, AppendResult.Appended appended, int leaderEpoch, boolean hwAdvanced) {}

    /** The outcome of a follower's fetch on the leader. */
    public record FollowerRead(ApiError error, EpochEndOffset divergingEpoch, ReadResult records, long highWatermark,
            long logStartOffset, boolean hwAdvanced, IsrProposal expansion) {}

    private final TopicPartition tp;
    private final UUID topicId;
    private final int localBrokerId;
    private final PartitionLog log;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by lock.
    private Role role = Role.NONE;
    private int leader = PartitionAssignment.NO_LEADER;
    private int leaderEpoch = -1;
    private int partitionEpoch = -1;
    private List<Integer> replicas = List.of();
    private List<Integer> isr = List.of();
    private int minInsyncReplicas = 1;
    private long leaderEpochStartOffset = -1;
    private final Map<Integer, FollowerState> followers = new HashMap<>();
    private List<Integer> pendingIsr;
    private long proposalsBlockedUntilMs;
    private volatile long highWatermark;

    public Partition(TopicPartition tp, UUID topicId, int localBrokerId, PartitionLog log) {
        this.tp = tp;
        this.topicId = topicId;
        this.localBrokerId = localBrokerId;
        this.log = log;
    }

    public TopicPartition topicPartition() {
        return tp;
    }

    public UUID topicId() {
        return topicId;
    }

    public PartitionLog log() {
        return log;
    }

    public long highWatermark() {
        return highWatermark;
    }

    public Role role() {
        lock.lock();
        try {
            return role;
        } finally {
            lock.unlock();
        }
    }

    public int leaderEpoch() {
        lock.lock();
        try {
            return leaderEpoch;
        } finally {
            lock.unlock();
        }
    }

    public int leader() {
        lock.lock();
        try {
            return leader;
        } finally {
            lock.unlock();
        }
    }

    public List<Integer> isr() {
        lock.lock();
        try {
            return isr;
        } finally {
            lock.unlock();
        }
    }

    public boolean isLeader() {
        return role() == Role.LEADER;
    }

    // ---- metadata ----

    /** Applies the committed state of this partition. */
    public Transition apply(PartitionAssignment a, long nowMs) {
        lock.lock();
        try {
            minInsyncReplicas = a.minInsyncReplicas();
            replicas = a.replicas();
            Transition transition = Transition.UNCHANGED;
            if (a.leader() == localBrokerId) {
                if (role != Role.LEADER || a.leaderEpoch() != leaderEpoch) {
                    becomeLeader(a, nowMs);
                    transition = Transition.BECAME_LEADER;
                }
            } else if (role != Role.FOLLOWER || a.leader() != leader || a.leaderEpoch() != leaderEpoch) {
                role = Role.FOLLOWER;
                followers.clear();
                pendingIsr = null;
                transition = Transition.BECAME_FOLLOWER;
                LOG.info("[broker {}] following {} (leader {}, leader epoch {}, log end {})", localBrokerId, tp,
                        a.leader() < 0 ? "none" : a.leader(), a.leaderEpoch(), log.logEndOffset());
            }
            leader = a.leader();
            leaderEpoch = a.leaderEpoch();
            if (a.partitionEpoch() >= partitionEpoch) {
                partitionEpoch = a.partitionEpoch();
                if (!a.isr().equals(isr) && role == Role.LEADER && transition == Transition.UNCHANGED) {
                    LOG.info("[broker {}] ISR of {} is now {} (partition epoch {})", localBrokerId, tp, a.isr(),
                            partitionEpoch);
                }
                isr = a.isr();
                if (pendingIsr != null && pendingIsr.equals(isr)) {
                    pendingIsr = null;
                }
            }
            if (transition == Transition.BECAME_LEADER) {
                // A leader alone in its ISR exposes its durable log at once (as Kafka's makeLeader
                // does), not only at the next append; with other members it waits for their fetches.
                maybeAdvanceHighWatermark();
            }
            return transition;
        } finally {
            lock.unlock();
        }
    }

    private void becomeLeader(PartitionAssignment a, long nowMs) {
        role = Role.LEADER;
        leaderEpochStartOffset = log.logEndOffset();
        try {
            log.assignLeaderEpoch(a.leaderEpoch());
        } catch (IOException e) {
            // The log is offline and said so; appends and reads of it fail with STORAGE_ERROR.
        }
        followers.clear();
        for (int replica : a.replicas()) {
            if (replica != localBrokerId) {
                FollowerState f = new FollowerState();
                // A fresh start: a follower is not counted out of sync before it had a chance to fetch.
                f.lastCaughtUpMs = nowMs;
                f.lastFetchMs = nowMs;
                followers.put(replica, f);
            }
        }
        pendingIsr = null;
        highWatermark = Math.min(Math.max(highWatermark, log.logStartOffset()), log.logEndOffset());
        LOG.info("[broker {}] leading {} at leader epoch {} (log end {}, high watermark {}, ISR {})", localBrokerId,
                tp, a.leaderEpoch(), log.logEndOffset(), highWatermark, a.isr());
    }

    /** Whether {@code epoch} is still this partition's leader epoch with this broker leading. */
    public boolean isLeaderAt(int epoch) {
        lock.lock();
        try {
            return role == Role.LEADER && leaderEpoch == epoch;
        } finally {
            lock.unlock();
        }
    }

    // ---- leader: produce ----

    /** Appends producer batches (acks: 0, 1 or -1 for all). */
    public LeaderAppend appendAsLeader(ByteBuffer records, int acks) {
        lock.lock();
        try {
            if (role != Role.LEADER) {
                return new LeaderAppend(notLeader(), null, leaderEpoch, false);
            }
            if (acks == Acks.ALL && isr.size() < minInsyncReplicas) {
                return new LeaderAppend(ApiError.of(ErrorCode.NOT_ENOUGH_REPLICAS, "%s has %d in-sync replica(s) %s;"
                        + " min.insync.replicas is %d; nothing was written", tp, isr.size(), isr, minInsyncReplicas),
                        null, leaderEpoch, false);
            }
            AppendResult result = log.appendAsLeader(records, leaderEpoch);
            if (result instanceof AppendResult.Rejected rejected) {
                return new LeaderAppend(new ApiError(rejected.code(), rejected.message()), null, leaderEpoch, false);
            }
            boolean advanced = maybeAdvanceHighWatermark();
            return new LeaderAppend(ApiError.NONE, (AppendResult.Appended) result, leaderEpoch, advanced);
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a waiting acks=all produce: null while it must wait, {@link ApiError#NONE} once the high
     * watermark covers {@code requiredOffset} in the same leader epoch with at least
     * min.insync.replicas in the ISR, or the error that ends it: NOT_LEADER_OR_FOLLOWER when
     * leadership moved, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below
     * min.insync.replicas while it waited (the high watermark then counts fewer copies).
     */
    public ApiError replicationStatus(int epoch, long requiredOffset) {
        lock.lock();
        try {
            if (role != Role.LEADER || leaderEpoch != epoch) {
                return leadershipMoved();
            }
            if (highWatermark < requiredOffset) {
                return null;
            }
            if (isr.size() < minInsyncReplicas) {
                return ApiError.of(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, "the records of %s were written, but"
                        + " the ISR shrank to %s while they waited: %d in-sync replica(s), min.insync.replicas is"
                        + " %d; they may still be kept", tp, isr, isr.size(), minInsyncReplicas);
            }
            return ApiError.NONE;
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a waiting acks=1 produce (it waits for the leader's own fsync, not for followers): NONE
     * while this broker still leads at {@code epoch}, else NOT_LEADER_OR_FOLLOWER. The ISR plays no
     * part: min.insync.replicas applies to acks=all only, as in Kafka.
     */
    public ApiError leadershipStatus(int epoch) {
        lock.lock();
        try {
            return role == Role.LEADER && leaderEpoch == epoch ? ApiError.NONE : leadershipMoved();
        } finally {
            lock.unlock();
        }
    }

    /** Under lock. */
    private ApiError leadershipMoved() {
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "leadership of %s moved (leader %s, epoch %d) before"
                + " the records were replicated; they may or may not be kept", tp, leader < 0 ? "none" : leader,
                leaderEpoch);
    }

    // ---- leader: followers ----

    /**
     * A follower's fetch: checks epochs and divergence, records the follower's position (which can
     * move the high watermark and let it into the ISR), and reads what it needs from {@code
     * fetchOffset} (its log end). Its position is {@code durableOffset}: what it has on disk.
     */
    public FollowerRead readForFollower(int replicaId, long fetchOffset, long durableOffset, int currentLeaderEpoch,
            int lastFetchedEpoch, int maxBytes, boolean replicaEligible, long nowMs) {
        lock.lock();
        try {
            ApiError error = checkLeaderEpoch(currentLeaderEpoch);
            if (error.isFailure()) {
                return followerError(error);
            }
            if (!replicas.contains(replicaId) || replicaId == localBrokerId) {
                return followerError(ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is not a follower of"
                        + " %s (replicas %s)", replicaId, tp, replicas));
            }
            if (lastFetchedEpoch >= 0) {
                EpochEndOffset end = log.endOffsetForEpoch(lastFetchedEpoch);
                if (end.epoch() < lastFetchedEpoch || end.endOffset() < fetchOffset) {
                    EpochEndOffset diverging = end.isDefined() ? end
                            : new EpochEndOffset(EpochEndOffset.UNDEFINED_EPOCH, log.logEndOffset());
                    return new FollowerRead(ApiError.NONE, diverging, null, highWatermark, log.logStartOffset(),
                            false, null);
                }
            }
            if (fetchOffset < log.logStartOffset() || fetchOffset > log.logEndOffset()) {
                return followerError(ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "follower %d fetches %s at %d; the"
                        + " leader holds %d to %d", replicaId, tp, fetchOffset, log.logStartOffset(),
                        log.logEndOffset()));
            }
            FollowerState f = followers.computeIfAbsent(replicaId, id -> new FollowerState());
            long leaderEnd = log.logEndOffset();
            // A follower whose disk lags (a stalled fsync) is not caught up: it leaves the ISR after
            // the lag time rather than holding the high watermark.
            long position = Math.min(fetchOffset, durableOffset);
            if (position >= leaderEnd) {
                f.lastCaughtUpMs = nowMs;
            } else if (position >= f.leaderEndAtLastFetch && f.leaderEndAtLastFetch >= 0) {
                f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
            }
            f.position = position;
            f.lastFetchMs = nowMs;
            f.leaderEndAtLastFetch = leaderEnd;
            boolean advanced = maybeAdvanceHighWatermark();
            IsrProposal expansion = replicaEligible ? maybeProposeExpansion(replicaId, f, nowMs) : null;
            ReadResult records = log.read(fetchOffset, maxBytes, leaderEnd, true);
            return new FollowerRead(ApiError.NONE, null, records, highWatermark, log.logStartOffset(), advanced,
                    expansion);
        } finally {
            lock.unlock();
        }
    }

    private FollowerRead followerError(ApiError error) {
        return new FollowerRead(error, null, null, highWatermark, log.logStartOffset(), false, null);
    }

    /** Whether a follower's waiting fetch from {@code fetchOffset} has something to read now. */
    public boolean hasRecordsFor(long fetchOffset) {
        return log.logEndOffset() > fetchOffset;
    }

    /** Followers that have not caught up for {@code lagTimeMs}: a proposal to drop them, or null. */
    public IsrProposal maybeProposeShrink(long nowMs, long lagTimeMs) {
        lock.lock();
        try {
            if (role != Role.LEADER || pendingIsr != null || nowMs < proposalsBlockedUntilMs) {
                return null;
            }
            List<Integer> keep = new ArrayList<>();
            List<Integer> drop = new ArrayList<>();
            for (int member : isr) {
                FollowerState f = followers.get(member);
                if (member != localBrokerId && f != null && nowMs - f.lastCaughtUpMs > lagTimeMs) {
                    drop.add(member);
                } else {
                    keep.add(member);
                }
            }
            if (drop.isEmpty() || keep.isEmpty()) {
                return null;
            }
            pendingIsr = keep;
            LOG.info("[broker {}] proposing to shrink the ISR of {} from {} to {}: {} not caught up for over {} ms",
                    localBrokerId, tp, isr, keep, drop, lagTimeMs);
            return new IsrProposal(topicId, tp.partition(), leaderEpoch, partitionEpoch, keep);
        } finally {
            lock.unlock();
        }
    }

    private IsrProposal maybeProposeExpansion(int replicaId, FollowerState f, long nowMs) {
        if (pendingIsr != null || isr.contains(replicaId) || nowMs < proposalsBlockedUntilMs) {
            return null;
        }
        if (f.position < highWatermark || f.position < leaderEpochStartOffset) {
            return null;
        }
        List<Integer> expanded = new ArrayList<>(isr);
        expanded.add(replicaId);
        pendingIsr = List.copyOf(expanded);
        LOG.info("[broker {}] proposing to expand the ISR of {} from {} to {}: follower {} caught up at {}",
                localBrokerId, tp, isr, pendingIsr, replicaId, f.position);
        return new IsrProposal(topicId, tp.partition(), leaderEpoch, partitionEpoch, pendingIsr);
    }

    /** The controller committed an ISR change this leader proposed (or gave its current state). */
    public boolean onIsrCommitted(int epoch, int newPartitionEpoch, List<Integer> newIsr) {
        lock.lock();
        try {
            pendingIsr = null;
            if (role != Role.LEADER || epoch != leaderEpoch || newPartitionEpoch < partitionEpoch) {
                return false;
            }
            if (!newIsr.equals(isr)) {
                LOG.info("[broker {}] ISR of {} changed {} -> {} (partition epoch {})", localBrokerId, tp, isr,
                        newIsr, newPartitionEpoch);
            }
            partitionEpoch = newPartitionEpoch;
            isr = List.copyOf(newIsr);
            return maybeAdvanceHighWatermark();
        } finally {
            lock.unlock();
        }
    }

    /** An ISR proposal was refused or lost; another may be proposed after {@code backoffMs}. */
    public void onIsrProposalFailed(long nowMs, long backoffMs) {
        lock.lock();
        try {
            pendingIsr = null;
            proposalsBlockedUntilMs = nowMs + backoffMs;
        } finally {
            lock.unlock();
        }
    }

    /** Leader: more of its own log is durable; true when the high watermark moved. */
    public boolean onLocalDurable() {
        lock.lock();
        try {
            return maybeAdvanceHighWatermark();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under lock: high watermark = smallest durable position over the ISR, the leader's own durable
     * offset included (the larger ISR while one is proposed).
     */
    private boolean maybeAdvanceHighWatermark() {
        if (role != Role.LEADER) {
            return false;
        }
        Set<Integer> members = new LinkedHashSet<>(isr);
        if (pendingIsr != null) {
            members.addAll(pendingIsr);
        }
        long min = log.durableOffset();
        for (int member : members) {
            if (member == localBrokerId) {
                continue;
            }
            FollowerState f = followers.get(member);
            if (f == null || f.position < 0) {
                return false; // not heard from yet: it might lack records the leader would expose
            }
            min = Math.min(min, f.position);
        }
        if (min > highWatermark) {
            highWatermark = min;
            return true;
        }
        return false;
    }

    // ---- log start ----

    /**
     * Leader at {@code epoch}: moves the log start to {@code offset}, which must be at most the
     * high watermark (records below it are no longer read; followers move theirs on their next
     * fetch). NONE, or the error that stopped it (no longer leader, offset past the high watermark).
     */
    public ApiError deleteRecordsBeforeAsLeader(int epoch, long offset) throws IOException {
        lock.lock();
        try {
            if (role != Role.LEADER || leaderEpoch != epoch) {
                return notLeader();
            }
            if (offset > highWatermark) {
                return ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "cannot move the log start of %s to %d: the high"
                        + " watermark is %d", tp, offset, highWatermark);
            }
            log.deleteRecordsBefore(offset, highWatermark);
            return ApiError.NONE;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Follower: the leader's log start is {@code leaderLogStartOffset}; moves this replica's log
     * start there once this replica has everything below it committed (so that the log start is
     * always an offset the leader chose, never one in between).
     */
    public void maybeFollowLogStart(long leaderLogStartOffset) throws IOException {
        lock.lock();
        try {
            if (role == Role.FOLLOWER && leaderLogStartOffset > log.logStartOffset()
                    && leaderLogStartOffset <= highWatermark) {
                log.deleteRecordsBefore(leaderLogStartOffset, highWatermark);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- consumers ----

    /**
     * Checks that this broker leads at the epoch the consumer expects (-1: any); NONE if so.
     */
    public ApiError checkLeaderForConsumer(int currentLeaderEpoch) {
        lock.lock();
        try {
            return checkLeaderEpoch(currentLeaderEpoch);
        } finally {
            lock.unlock();
        }
    }

    private ApiError checkLeaderEpoch(int currentLeaderEpoch) {
        if (role != Role.LEADER) {
            return notLeader();
        }
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch < leaderEpoch) {
            return ApiError.of(ErrorCode.FENCED_LEADER_EPOCH, "leader epoch %d for %s is stale; the current leader"
                    + " epoch is %d", currentLeaderEpoch, tp, leaderEpoch);
        }
        if (currentLeaderEpoch > leaderEpoch) {
            return ApiError.of(ErrorCode.UNKNOWN_LEADER_EPOCH, "leader epoch %d for %s is newer than this broker's"
                    + " %d; its metadata is behind", currentLeaderEpoch, tp, leaderEpoch);
        }
        return ApiError.NONE;
    }

    private ApiError notLeader() {
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is not the leader of %s; the leader is %s"
                + " (leader epoch %d)", localBrokerId, tp, leader < 0 ? "none" : "broker " + leader, leaderEpoch);
    }

    // ---- follower ----

    /** Appends batches fetched from the leader. */
    public AppendResult appendAsFollower(ByteBuffer records) {
        lock.lock();
        try {
            if (role != Role.FOLLOWER) {
                return new AppendResult.Rejected(ErrorCode.NOT_LEADER_OR_FOLLOWER, tp + " is no longer followed");
            }
            return log.appendAsFollower(records);
        } finally {
            lock.unlock();
        }
    }

    /** The leader's high watermark, bounded by what this follower has. */
    public void updateFollowerHighWatermark(long leaderHighWatermark) {
        lock.lock();
        try {
            if (role == Role.FOLLOWER) {
                highWatermark = Math.min(leaderHighWatermark, log.logEndOffset());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The leader says this follower's log diverges: it has {@code diverging}'s epoch until {@code
     * diverging.endOffset()}. Truncates to where the two logs agree (for all this follower can
     * tell; the next fetch checks again).
     */
    public long truncateToDivergence(EpochEndOffset diverging) throws IOException {
        lock.lock();
        try {
            if (role != Role.FOLLOWER) {
                return log.logEndOffset(); // an answer to a fetch sent before this replica stopped following
            }
            long target;
            if (!diverging.isDefined()) {
                target = Math.min(highWatermark, diverging.endOffset());
            } else {
                EpochEndOffset mine = log.endOffsetForEpoch(diverging.epoch());
                if (!mine.isDefined()) {
                    target = Math.min(diverging.endOffset(), log.logEndOffset());
                } else if (mine.epoch() == diverging.epoch()) {
                    target = Math.min(diverging.endOffset(), mine.endOffset());
                } else {
                    target = mine.endOffset();
                }
            }
            target = Math.max(target, log.logStartOffset());
            if (target < log.logEndOffset()) {
                LOG.info("[broker {}] truncating {} to offset {} (log end {}): it diverges from the leader's log"
                        + " after epoch {} ending at {}", localBrokerId, tp, target, log.logEndOffset(),
                        diverging.epoch(), diverging.endOffset());
            }
            // Also at the log end: drops an epoch this replica started as leader and wrote nothing in.
            log.truncateTo(target);
            highWatermark = Math.min(highWatermark, log.logEndOffset());
            return log.logEndOffset();
        } finally {
            lock.unlock();
        }
    }

    /** The follower is below the leader's log start: start over there. */
    public void restartAt(long leaderLogStartOffset) throws IOException {
        lock.lock();
        try {
            LOG.info("[broker {}] {} restarts at the leader's log start {} (log end was {})", localBrokerId, tp,
                    leaderLogStartOffset, log.logEndOffset());
            log.truncateFullyAndStartAt(leaderLogStartOffset);
            highWatermark = leaderLogStartOffset;
        } finally {
            lock.unlock();
        }
    }

    /** Stops serving: fails nothing by itself (callers complete waiting requests). */
    public void stop() {
        lock.lock();
        try {
            role = Role.NONE;
            followers.clear();
            pendingIsr = null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Partition(" + tp + ", " + role() + ", epoch " + leaderEpoch() + ", hw " + highWatermark + ")";
    }
}
