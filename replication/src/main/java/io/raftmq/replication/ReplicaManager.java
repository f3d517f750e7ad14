package io.raftmq.replication;

import io.raftmq.common.ApiError;
import io.raftmq.common.Time;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.protocol.Acks;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.storage.EpochEndOffset;
import io.raftmq.storage.LogManager;
import io.raftmq.storage.LogSlice;
import io.raftmq.storage.PartitionLog;
import io.raftmq.storage.ReadResult;
import io.raftmq.storage.TimestampOffset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.function.IntToLongFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition replicas of this broker: applies committed metadata to them (create the log,
 * become leader or follower, start or stop fetching, delete), and serves the data path: produce
 * (acks 0, 1, all), consumer fetch (long poll, bounded by the high watermark), follower fetch
 * (long poll on the leader), ListOffsets. Checks ISRs periodically and proposes changes to the
 * controller.
 *
 * <p>Threads: {@link #applyMetadata} is called by the broker's metadata thread, in metadata order;
 * the request methods by the front ends' threads (gRPC threads, the Kafka listener's event loops,
 * the group coordinator); each {@link Partition} guards its own state; waiting
 * requests are completed by whichever thread changes what they wait for (a follower's fetch, a
 * local fsync on the log's flusher, an ISR change, metadata), or by the scheduler when they time
 * out, and always with no partition or log lock held: a completion takes the locks of every
 * partition of its request, one after the other, and runs the front end's answer.
 *
 * <p>Disk I/O stays off the front ends' event loops: an append writes to the page cache; fsyncs,
 * the files of a segment roll and checkpoints run on the logs' flusher ({@code log-io}); follower
 * truncation runs on the fetcher threads, ISR checks on the broker scheduler.
 */
public final class ReplicaManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);
    /** Wait after a refused or failed ISR proposal before proposing again for that partition. */
    static final long ISR_PROPOSAL_BACKOFF_MS = 500;
    private static final ByteBuffer EMPTY_RECORDS = ByteBuffer.allocate(0);

    /**
     * What a follower asks of one partition: records from {@code fetchOffset} (its log end); its
     * position for the high watermark is {@code durableOffset} (what it has on disk).
     */
    public record ReplicaFetchSpec(UUID topicId, int partition, long fetchOffset, long durableOffset,
            int currentLeaderEpoch, int lastFetchedEpoch, int maxBytes) {}

    /** What a follower gets for one partition. */
    public record ReplicaFetchResult(UUID topicId, int partition, ApiError error, long highWatermark,
            long logStartOffset, EpochEndOffset divergingEpoch, ByteBuffer records) {}

    /** The answer to a ListOffsets for one partition; offset -1 when nothing matches. */
    public record ListOffsetResult(ApiError error, long offset, long timestamp, int leaderEpoch) {}

    private record TopicIdPartition(UUID topicId, int partition) {}

    private final int brokerId;
    private final LongSupplier brokerEpoch;
    private final IntToLongFunction currentBrokerEpochs;
    private final IntPredicate brokerEligible;
    private final LogManager logs;
    private final ReplicationConfig config;
    private final AlterPartitionClient alterPartition;
    private final Time time;
    private final ScheduledExecutorService scheduler;
    private final FetcherManager fetchers;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private final Map<TopicIdPartition, Partition> byTopicId = new ConcurrentHashMap<>();
    private final Purgatory<DelayedProduce> produceWaits;
    private final Purgatory<DelayedFetch> fetchWaits;
    private final Purgatory<DelayedReplicaFetch<?>> replicaFetchWaits;
    private final List<LeadershipListener> leadershipListeners = new CopyOnWriteArrayList<>();
    private volatile long appliedMetadataOffset = -1;
    /** Futures waiting for {@link #appliedMetadataOffset} to reach an offset; guarded by itself. */
    private final PriorityQueue<AppliedWaiter> appliedWaiters = new PriorityQueue<>();

    private record AppliedWaiter(long offset, CompletableFuture<Void> future) implements Comparable<AppliedWaiter> {
        @Override
        public int compareTo(AppliedWaiter o) {
            return Long.compare(offset, o.offset);
        }
    }
    private ScheduledFuture<?> isrCheck;

    /**
     * @param brokerEpoch this broker's current registration epoch (sent with its fetches)
     * @param currentBrokerEpochs a broker's current registration epoch per metadata, or -1: a
     *     follower's fetch with another epoch comes from a stale process and is refused
     * @param brokerEligible whether metadata says a broker may join an ISR (registered, unfenced,
     *     not shutting down): a caught-up follower that may not is not proposed
     */
    public ReplicaManager(int brokerId, LongSupplier brokerEpoch, IntToLongFunction currentBrokerEpochs,
            IntPredicate brokerEligible, LogManager logs, ReplicationConfig config, AlterPartitionClient alterPartition, Time time,
            ScheduledExecutorService scheduler) {
        this(brokerId, brokerEpoch, currentBrokerEpochs, brokerEligible, logs, config, alterPartition, time, scheduler,
                NodeChannelCredentials.plaintext());
    }

    /** As above, with the followers' channels to their leaders secured by {@code fetcherCredentials}. */
    public ReplicaManager(int brokerId, LongSupplier brokerEpoch, IntToLongFunction currentBrokerEpochs,
            IntPredicate brokerEligible, LogManager logs, ReplicationConfig config, AlterPartitionClient alterPartition, Time time,
            ScheduledExecutorService scheduler, NodeChannelCredentials fetcherCredentials) {
        this.brokerId = brokerId;
        this.brokerEpoch = brokerEpoch;
        this.currentBrokerEpochs = currentBrokerEpochs;
        this.brokerEligible = brokerEligible;
        this.logs = logs;
        this.config = config;
        this.alterPartition = alterPartition;
        this.time = time;
        this.scheduler = scheduler;
        this.fetchers = new FetcherManager(brokerId, brokerEpoch, config, time, fetcherCredentials);
        this.produceWaits = new Purgatory<>("produce", scheduler);
        this.fetchWaits = new Purgatory<>("fetch", scheduler);
        this.replicaFetchWaits = new Purgatory<>("replica-fetch", scheduler);
    }

    public void startup() {
        logs.setHighWatermarks(tp -> {
            Partition p = partitions.get(tp);
            return p == null ? 0 : p.highWatermark();
        });
        long interval = Math.max(10, config.lagTimeMaxMs() / 2);
        isrCheck = scheduler.scheduleWithFixedDelay(this::checkIsrs, interval, interval, TimeUnit.MILLISECONDS);
    }

    /** Registers a listener for leadership changes; add it before metadata is first applied. */
    public void addLeadershipListener(LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    /** The metadata offset last applied (reported in heartbeats: this broker has caught up to it). */
    public long appliedMetadataOffset() {
        return appliedMetadataOffset;
    }

    /**
     * Completes (on the thread that applies metadata) once metadata at or past {@code offset} is
     * applied to the replicas: a partition created or moved there is open, led or followed as that
     * metadata says. The caller bounds the wait.
     */
    public CompletableFuture<Void> whenApplied(long offset) {
        synchronized (appliedWaiters) {
            if (appliedMetadataOffset >= offset) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> future = new CompletableFuture<>();
            AppliedWaiter waiter = new AppliedWaiter(offset, future);
            appliedWaiters.add(waiter);
            future.whenComplete((v, error) -> {
                if (error != null) { // timed out or cancelled: forget it
                    synchronized (appliedWaiters) {
                        appliedWaiters.remove(waiter);
                    }
                }
            });
            return future;
        }
    }

    public Partition partition(TopicPartition tp) {
        return partitions.get(tp);
    }

    public Collection<Partition> partitions() {
        return partitions.values();
    }

    public long highWatermark(TopicPartition tp) {
        Partition p = partitions.get(tp);
        return p == null ? -1 : p.highWatermark();
    }

    // ---- metadata ----

    /**
     * Applies the committed state at metadata offset {@code offset}: {@code assignments} for
     * partitions this broker holds a replica of (new or changed), {@code removed} for partitions
     * it no longer holds (deleted topics).
     */
    public void applyMetadata(long offset, Collection<PartitionAssignment> assignments,
            Collection<TopicPartition> removed) {
        long nowMs = time.monotonicMs();
        for (TopicPartition tp : removed) {
            remove(tp);
        }
        for (PartitionAssignment a : assignments) {
            Partition p = partitions.get(a.tp());
            if (p != null && !p.topicId().equals(a.topicId())) {
                remove(a.tp()); // the topic was deleted and created again under the same name
                p = null;
            }
            if (p == null) {
                PartitionLog log;
                try {
                    log = logs.getOrCreate(a.tp(), a.topicId(), a.logConfig());
                } catch (IOException e) {
                    LOG.error("[broker {}] cannot open the log of {}; it stays offline here", brokerId, a.tp(), e);
                    continue;
                }
                p = new Partition(a.tp(), a.topicId(), brokerId, log);
                partitions.put(a.tp(), p);
                byTopicId.put(new TopicIdPartition(a.topicId(), a.tp().partition()), p);
            } else {
                p.log().updateConfig(a.logConfig());
            }
            Partition.Transition transition = p.apply(a, nowMs);
            if (transition == Partition.Transition.BECAME_LEADER) {
                fetchers.stopFollowing(a.tp());
                PartitionLog log = p.log();
                if (log.durableOffset() < log.logEndOffset()) {
                    // Records not fsynced yet (recovered after a crash, or copied just now): the high
                    // watermark cannot pass them until an fsync covers them.
                    Partition led = p;
                    log.flush().whenComplete((v, e) -> onLocalDurable(led));
                }
            } else if (p.role() == Partition.Role.FOLLOWER) {
                // An offline log can take nothing from its leader: fetching it would only fail again.
                if (a.leader() >= 0 && a.leaderEndpoint() != null && !p.log().isOffline()) {
                    // A no-op unless the leader, its epoch or its address changed.
                    fetchers.follow(p, a.leader(), a.leaderEndpoint(), a.leaderEpoch());
                } else {
                    fetchers.stopFollowing(a.tp());
                }
            }
            wakeWaiters(a.tp());
            notifyLeadership(a.tp(), transition, a.leaderEpoch());
        }
        List<AppliedWaiter> due = new ArrayList<>();
        synchronized (appliedWaiters) {
            appliedMetadataOffset = offset;
            while (!appliedWaiters.isEmpty() && appliedWaiters.peek().offset() <= offset) {
                due.add(appliedWaiters.poll());
            }
        }
        due.forEach(w -> w.future().complete(null)); // outside the lock: completions run callers' stages
    }

    private void notifyLeadership(TopicPartition tp, Partition.Transition transition, int leaderEpoch) {
        for (LeadershipListener l : leadershipListeners) {
            if (transition == Partition.Transition.BECAME_LEADER) {
                l.onBecomeLeader(tp, leaderEpoch);
            } else if (transition == Partition.Transition.BECAME_FOLLOWER) {
                l.onStopLeading(tp);
            }
        }
    }

    private void remove(TopicPartition tp) {
        Partition p = partitions.remove(tp);
        if (p == null) {
            return;
        }
        byTopicId.remove(new TopicIdPartition(p.topicId(), tp.partition()));
        fetchers.stopFollowing(tp);
        p.stop();
        for (LeadershipListener l : leadershipListeners) {
            l.onStopLeading(tp);
        }
        wakeWaiters(tp);
        try {
            logs.delete(tp);
        } catch (IOException e) {
            LOG.error("[broker {}] could not delete the log of {}", brokerId, tp, e);
        }
    }

    private void wakeWaiters(TopicPartition tp) {
        produceWaits.checkAndComplete(tp);
        fetchWaits.checkAndComplete(tp);
        replicaFetchWaits.checkAndComplete(tp);
    }

    // ---- produce ----

    /**
     * Appends to partitions this broker leads. acks 0 and 1 answer once written (durable per the
     * flush mode for 1); acks -1 once the high watermark covers every partition's records, or
     * {@code timeoutMs} passes. Buffers are consumed (offsets are stamped in them).
     */
    public CompletableFuture<Map<TopicPartition, ProduceResult>> appendRecords(int acks, long timeoutMs,
            Map<TopicPartition, ByteBuffer> records) {
        Map<TopicPartition, ProduceResult> results = new LinkedHashMap<>();
        Map<TopicPartition, DelayedProduce.Pending> pending = new LinkedHashMap<>();
        List<TopicPartition> advanced = new ArrayList<>();
        for (Map.Entry<TopicPartition, ByteBuffer> entry : records.entrySet()) {
            TopicPartition tp = entry.getKey();
            Partition p = partitions.get(tp);
            if (p == null) {
                results.put(tp, ProduceResult.error(notHere(tp), -1, -1));
                continue;
            }
            Partition.LeaderAppend append = p.appendAsLeader(entry.getValue(), acks);
            if (append.error().isFailure()) {
                results.put(tp, ProduceResult.error(append.error(), p.leader(), p.leaderEpoch()));
                continue;
            }
            var appended = append.appended();
            // The high watermark counts the leader's own durable offset: it moves when the fsync ends.
            appended.durable().whenComplete((v, e) -> onLocalDurable(p));
            ProduceResult ok = new ProduceResult(ApiError.NONE, appended.firstOffset(), appended.logAppendTimeMs(),
                    p.log().logStartOffset(), brokerId, append.leaderEpoch());
            if (acks == Acks.NONE) {
                results.put(tp, ok);
            } else {
                pending.put(tp, new DelayedProduce.Pending(p, append.leaderEpoch(), acks == Acks.ALL,
                        appended.lastOffset() + 1, appended.durable(), ok));
            }
            if (append.hwAdvanced()) {
                advanced.add(tp);
            }
            replicaFetchWaits.checkAndComplete(tp); // followers waiting for records
        }
        CompletableFuture<Map<TopicPartition, ProduceResult>> answer = new CompletableFuture<>();
        if (pending.isEmpty()) {
            answer.complete(results);
        } else {
            DelayedProduce op = new DelayedProduce(results, pending, timeoutMs, answer);
            produceWaits.tryCompleteElseWatch(op, new ArrayList<>(pending.keySet()), timeoutMs);
        }
        for (TopicPartition tp : advanced) {
            produceWaits.checkAndComplete(tp);
            fetchWaits.checkAndComplete(tp);
        }
        return answer;
    }

    /** On the log's flusher, no lock held: the leader's own log is durable further. */
    private void onLocalDurable(Partition p) {
        boolean advanced = p.onLocalDurable();
        produceWaits.checkAndComplete(p.topicPartition()); // also waits for the local fsync
        if (advanced) {
            fetchWaits.checkAndComplete(p.topicPartition());
        }
    }

    private ApiError notHere(TopicPartition tp) {
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d holds no replica of %s", brokerId, tp);
    }

    // ---- consumer fetch ----

    /**
     * Reads from partitions this broker leads, below their high watermarks: at most {@code
     * maxBytes} in all (but the first batch found regardless), waiting up to {@code maxWaitMs} for
     * {@code minBytes} (0: answering at once).
     */
    public CompletableFuture<Map<TopicPartition, FetchResult>> fetchMessages(long maxWaitMs, int minBytes,
            int maxBytes, Map<TopicPartition, FetchSpec> specs) {
        CompletableFuture<Map<TopicPartition, FetchResult>> answer = new CompletableFuture<>();
        DelayedFetch op = new DelayedFetch(specs, minBytes, this::readableBytes,
                s -> readForConsumers(s, maxBytes), answer);
        if (maxWaitMs <= 0 || minBytes <= 0) { // as Kafka: nothing to wait for
            op.forceComplete();
        } else {
            fetchWaits.tryCompleteElseWatch(op, new ArrayList<>(specs.keySet()), maxWaitMs);
        }
        return answer;
    }

    /**
     * Bytes a consumer fetch could read now; MAX_VALUE when a partition must answer at once (an
     * error, or a divergence to report).
     */
    private int readableBytes(Map<TopicPartition, FetchSpec> specs) {
        long total = 0;
        for (Map.Entry<TopicPartition, FetchSpec> entry : specs.entrySet()) {
            Partition p = partitions.get(entry.getKey());
            FetchSpec spec = entry.getValue();
            if (p == null || p.checkLeaderForConsumer(spec.currentLeaderEpoch()).isFailure()
                    || consumerDivergence(p, spec) != null) {
                return Integer.MAX_VALUE;
            }
            long hw = p.highWatermark();
            if (spec.fetchOffset() < p.log().logStartOffset() || spec.fetchOffset() > p.log().logEndOffset()) {
                return Integer.MAX_VALUE;
            }
            if (hw > spec.fetchOffset()) {
                ReadResult r = p.log().read(spec.fetchOffset(), spec.maxBytes(), hw, true);
                if (r instanceof ReadResult.Slice slice) {
                    total += slice.records().sizeInBytes();
                } else {
                    return Integer.MAX_VALUE;
                }
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, total);
    }

    /**
     * Where the consumer's last fetched epoch ends, when that is before its fetch offset in this
     * log (Kafka's check for Fetch v12+), else null. {@link EpochEndOffset#UNDEFINED} when this log
     * cannot tell where that epoch ends (it is newer than every epoch here): Kafka answers that
     * OFFSET_OUT_OF_RANGE, since an undefined diverging epoch reads as "no divergence" to a client,
     * which would fetch the same nothing forever. A fetch offset below the log start is left to the
     * read, which answers OFFSET_OUT_OF_RANGE whatever the epochs say (as Kafka checks it first).
     */
    private static EpochEndOffset consumerDivergence(Partition p, FetchSpec spec) {
        if (spec.lastFetchedEpoch() < 0 || spec.fetchOffset() < p.log().logStartOffset()) {
            return null;
        }
        EpochEndOffset end = p.log().endOffsetForEpoch(spec.lastFetchedEpoch());
        if (!end.isDefined() || end.endOffset() == EpochEndOffset.UNDEFINED_OFFSET) {
            return EpochEndOffset.UNDEFINED;
        }
        if (end.epoch() < spec.lastFetchedEpoch() || end.endOffset() < spec.fetchOffset()) {
            return end;
        }
        return null;
    }

    private Map<TopicPartition, FetchResult> readForConsumers(Map<TopicPartition, FetchSpec> specs, int maxBytes) {
        Map<TopicPartition, FetchResult> out = new LinkedHashMap<>();
        int remaining = maxBytes;
        boolean first = true;
        for (Map.Entry<TopicPartition, FetchSpec> entry : specs.entrySet()) {
            TopicPartition tp = entry.getKey();
            FetchSpec spec = entry.getValue();
            Partition p = partitions.get(tp);
            if (p == null) {
                out.put(tp, FetchResult.error(notHere(tp), spec.fetchOffset(), -1, -1));
                continue;
            }
            ApiError leaderCheck = p.checkLeaderForConsumer(spec.currentLeaderEpoch());
            if (leaderCheck.isFailure()) {
                out.put(tp, FetchResult.error(leaderCheck, spec.fetchOffset(), p.leader(), p.leaderEpoch()));
                continue;
            }
            long hw = p.highWatermark();
            EpochEndOffset diverging = consumerDivergence(p, spec);
            if (diverging != null && !diverging.isDefined()) {
                out.put(tp, new FetchResult(ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "%s: the last fetched"
                        + " epoch %d is unknown to this log (its leader is at epoch %d); fetch offset %d",
                        tp, spec.lastFetchedEpoch(), p.leaderEpoch(), spec.fetchOffset()), hw,
                        p.log().logStartOffset(), LogSlice.empty(spec.fetchOffset()), null, brokerId,
                        p.leaderEpoch()));
                continue;
            }
            if (diverging != null) {
                out.put(tp, new FetchResult(ApiError.NONE, hw, p.log().logStartOffset(),
                        LogSlice.empty(spec.fetchOffset()), diverging, brokerId, p.leaderEpoch()));
                continue;
            }
            int budget = Math.min(spec.maxBytes(), Math.max(0, remaining));
            ReadResult read = p.log().read(spec.fetchOffset(), budget, hw, first);
            FetchResult result;
            if (read instanceof ReadResult.OffsetOutOfRange oor) {
                result = new FetchResult(ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "%s: %s", tp, oor.message()), hw,
                        oor.logStartOffset(), LogSlice.empty(spec.fetchOffset()), null, brokerId, p.leaderEpoch());
            } else if (read instanceof ReadResult.Offline offline) {
                result = new FetchResult(ApiError.of(ErrorCode.STORAGE_ERROR, "%s: %s", tp, offline.reason()), hw, -1,
                        LogSlice.empty(spec.fetchOffset()), null, brokerId, p.leaderEpoch());
            } else {
                LogSlice slice = ((ReadResult.Slice) read).records();
                remaining -= slice.sizeInBytes();
                if (!slice.isEmpty()) {
                    first = false;
                }
                result = new FetchResult(ApiError.NONE, hw, p.log().logStartOffset(), slice, null, brokerId,
                        p.leaderEpoch());
            }
            out.put(tp, result);
        }
        return out;
    }

    // ---- follower fetch (on the leader) ----

    /**
     * A follower's fetch: records each follower position at once (the high watermark may move and
     * waiting acks=all produces complete), then answers when there are records for it, an error or
     * divergence to report, or {@code maxWaitMs} passes.
     *
     * <p>What the follower asks for is capped by this broker's settings, whatever it asks: at most
     * {@code replica.fetch.response.max.bytes} in all ({@code maxBytes} 0 or less: that much) and
     * {@code replica.fetch.max.bytes} per partition. The first partition with records gets at
     * least one whole batch, so that a batch bigger than the caps still replicates; the others get
     * nothing once the budget is spent. Nothing more than that is read into the heap.
     */
    public CompletableFuture<List<ReplicaFetchResult>> fetchForFollower(int replicaId, long replicaBrokerEpoch,
            long maxWaitMs, int requestedMaxBytes, List<ReplicaFetchSpec> requestedSpecs) {
        int maxBytes = requestedMaxBytes <= 0 ? config.fetchResponseMaxBytes()
                : Math.min(requestedMaxBytes, config.fetchResponseMaxBytes());
        List<ReplicaFetchSpec> specs = new ArrayList<>(requestedSpecs.size());
        for (ReplicaFetchSpec spec : requestedSpecs) {
            specs.add(spec.maxBytes() > 0 && spec.maxBytes() <= config.fetchMaxBytes() ? spec
                    : new ReplicaFetchSpec(spec.topicId(), spec.partition(), spec.fetchOffset(), spec.durableOffset(),
                            spec.currentLeaderEpoch(), spec.lastFetchedEpoch(), config.fetchMaxBytes()));
        }
        long current = currentBrokerEpochs.applyAsLong(replicaId);
        if (current >= 0 && current != replicaBrokerEpoch) {
            return CompletableFuture.failedFuture(new StaleBrokerEpochException("broker " + replicaId
                    + " fetched with epoch " + replicaBrokerEpoch + ", but its current registration has epoch "
                    + current));
        }
        List<ReplicaFetchResult> first = readForFollower(replicaId, maxBytes, specs);
        boolean answerNow = maxWaitMs <= 0;
        for (ReplicaFetchResult r : first) {
            if (r.error().isFailure() || r.divergingEpoch() != null || r.records().hasRemaining()) {
                answerNow = true;
                break;
            }
        }
        if (answerNow) {
            return CompletableFuture.completedFuture(first);
        }
        CompletableFuture<List<ReplicaFetchResult>> answer = new CompletableFuture<>();
        List<Object> keys = new ArrayList<>();
        // The partitions held here, each with its own spec and leader epoch (index for index).
        List<Partition> watched = new ArrayList<>();
        List<ReplicaFetchSpec> watchedSpecs = new ArrayList<>();
        List<Integer> epochs = new ArrayList<>();
        for (ReplicaFetchSpec spec : specs) {
            Partition p = byTopicId.get(new TopicIdPartition(spec.topicId(), spec.partition()));
            if (p != null) {
                keys.add(p.topicPartition());
                watched.add(p);
                watchedSpecs.add(spec);
                epochs.add(p.leaderEpoch());
            }
        }
        DelayedReplicaFetch<List<ReplicaFetchResult>> op = new DelayedReplicaFetch<>(() -> {
            for (int i = 0; i < watched.size(); i++) {
                Partition p = watched.get(i);
                ReplicaFetchSpec spec = watchedSpecs.get(i);
                if (!p.isLeaderAt(epochs.get(i)) || p.hasRecordsFor(spec.fetchOffset())) {
                    return true;
                }
            }
            return false;
        }, () -> readForFollower(replicaId, maxBytes, specs), answer);
        replicaFetchWaits.tryCompleteElseWatch(op, keys, maxWaitMs);
        return answer;
    }

    private List<ReplicaFetchResult> readForFollower(int replicaId, int maxBytes, List<ReplicaFetchSpec> specs) {
        long nowMs = time.monotonicMs();
        List<ReplicaFetchResult> out = new ArrayList<>(specs.size());
        int remaining = maxBytes;
        for (ReplicaFetchSpec spec : specs) {
            Partition p = byTopicId.get(new TopicIdPartition(spec.topicId(), spec.partition()));
            if (p == null) {
                out.add(new ReplicaFetchResult(spec.topicId(), spec.partition(), ApiError.of(
                        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "broker %d holds no replica of partition %d of topic"
                                + " %s", brokerId, spec.partition(), spec.topicId()), -1, -1, null,
                        EMPTY_RECORDS));
                continue;
            }
            Partition.FollowerRead read = p.readForFollower(replicaId, spec.fetchOffset(), spec.durableOffset(),
                    spec.currentLeaderEpoch(), spec.lastFetchedEpoch(),
                    Math.min(spec.maxBytes(), Math.max(1, remaining)), brokerEligible.test(replicaId), nowMs);
            if (read.hwAdvanced()) {
                produceWaits.checkAndComplete(p.topicPartition());
                fetchWaits.checkAndComplete(p.topicPartition());
            }
            if (read.expansion() != null) {
                propose(p, read.expansion());
            }
            ByteBuffer bytes = EMPTY_RECORDS;
            ApiError error = read.error();
            // The log hands out at least one whole batch (a file region, not yet read): so the answer
            // holds at most the budget plus the batch that crosses it, and nothing after that.
            if (error.isSuccess() && read.records() != null && remaining > 0) {
                if (read.records() instanceof ReadResult.Slice slice && !slice.records().isEmpty()) {
                    try {
                        bytes = slice.records().read();
                        remaining -= bytes.remaining();
                    } catch (IOException e) {
                        error = ApiError.of(ErrorCode.STORAGE_ERROR, "reading %s failed: %s", p.topicPartition(), e);
                    }
                } else if (read.records() instanceof ReadResult.Offline offline) {
                    error = ApiError.of(ErrorCode.STORAGE_ERROR, "%s: %s", p.topicPartition(), offline.reason());
                }
            }
            out.add(new ReplicaFetchResult(spec.topicId(), spec.partition(), error, read.highWatermark(),
                    read.logStartOffset(), read.divergingEpoch(), bytes));
        }
        return out;
    }

    /** A follower fetched with a broker epoch that is not its current registration's. */
    public static final class StaleBrokerEpochException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StaleBrokerEpochException(String message) {
            super(message, null, false, false);
        }
    }

    // ---- ListOffsets ----

    /** ListOffsets' special timestamps, Kafka's numbers. */
    public static final long LATEST_TIMESTAMP = -1;
    public static final long EARLIEST_TIMESTAMP = -2;
    public static final long MAX_TIMESTAMP = -3;
    /** The log start of the local log: the log start, as raftmq keeps no tiered storage. */
    public static final long EARLIEST_LOCAL_TIMESTAMP = -4;
    /** The newest offset in tiered storage: none here. */
    public static final long LATEST_TIERED_TIMESTAMP = -5;
    /** The earliest offset not yet in tiered storage: none here. */
    public static final long EARLIEST_PENDING_UPLOAD_TIMESTAMP = -6;

    /**
     * -1: the high watermark; -2 (and -4): the log start; -3: the first record with the largest
     * timestamp; -5, -6 (tiered storage): none (-1); otherwise the first record at or after the
     * time. Only offsets below the high watermark are found. The leader epoch is the current one
     * for -1, -2, -4, and the epoch of the found record's batch otherwise.
     */
    public ListOffsetResult listOffset(TopicPartition tp, long timestamp, int currentLeaderEpoch) {
        Partition p = partitions.get(tp);
        if (p == null) {
            return new ListOffsetResult(notHere(tp), -1, -1, -1);
        }
        ApiError check = p.checkLeaderForConsumer(currentLeaderEpoch);
        if (check.isFailure()) {
            return new ListOffsetResult(check, -1, -1, p.leaderEpoch());
        }
        long hw = p.highWatermark();
        if (timestamp == EARLIEST_TIMESTAMP || timestamp == EARLIEST_LOCAL_TIMESTAMP) {
            return new ListOffsetResult(ApiError.NONE, p.log().logStartOffset(), -1, p.leaderEpoch());
        }
        if (timestamp == LATEST_TIMESTAMP) {
            return new ListOffsetResult(ApiError.NONE, hw, -1, p.leaderEpoch());
        }
        if (timestamp == LATEST_TIERED_TIMESTAMP || timestamp == EARLIEST_PENDING_UPLOAD_TIMESTAMP) {
            return new ListOffsetResult(ApiError.NONE, -1, -1, -1);
        }
        try {
            TimestampOffset found = timestamp == MAX_TIMESTAMP ? p.log().offsetOfMaxTimestamp(hw)
                    : p.log().offsetForTimestamp(timestamp, hw);
            return found == null ? new ListOffsetResult(ApiError.NONE, -1, -1, -1)
                    : new ListOffsetResult(ApiError.NONE, found.offset(), found.timestamp(),
                            p.log().epochForOffset(found.offset()));
        } catch (IOException e) {
            return new ListOffsetResult(ApiError.of(ErrorCode.STORAGE_ERROR, "reading %s failed: %s", tp, e), -1, -1,
                    p.leaderEpoch());
        }
    }

    // ---- OffsetForLeaderEpoch ----

    /** The answer to an OffsetForLeaderEpoch for one partition. */
    public record EpochEndResult(ApiError error, int leaderEpoch, long endOffset) {}

    /**
     * Where {@code leaderEpoch} ends in the log of a partition this broker leads (at {@code
     * currentLeaderEpoch} when that is not -1): the largest epoch at or below it and the start of
     * the next epoch, or the log end for the current one; (-1, -1) when the log knows no such
     * epoch. Consumers ask after a leader change, to learn whether the log they read was truncated.
     */
    public EpochEndResult offsetForLeaderEpoch(TopicPartition tp, int currentLeaderEpoch, int leaderEpoch) {
        Partition p = partitions.get(tp);
        if (p == null) {
            return new EpochEndResult(notHere(tp), -1, -1);
        }
        ApiError check = p.checkLeaderForConsumer(currentLeaderEpoch);
        if (check.isFailure()) {
            return new EpochEndResult(check, -1, -1);
        }
        EpochEndOffset end = p.log().endOffsetForEpoch(leaderEpoch);
        return new EpochEndResult(ApiError.NONE, end.epoch(), end.isDefined() ? end.endOffset() : -1);
    }

    // ---- ISR ----

    private void checkIsrs() {
        long nowMs = time.monotonicMs();
        for (Partition p : partitions.values()) {
            try {
                Partition.IsrProposal proposal = p.maybeProposeShrink(nowMs, config.lagTimeMaxMs());
                if (proposal != null) {
                    propose(p, proposal);
                }
            } catch (RuntimeException e) {
                LOG.error("[broker {}] ISR check of {} failed", brokerId, p.topicPartition(), e);
            }
        }
    }

    private void propose(Partition p, Partition.IsrProposal proposal) {
        alterPartition.alter(proposal).whenComplete((outcome, error) -> {
            if (error != null || outcome.error().isFailure()) {
                LOG.info("[broker {}] ISR change {} of {} not made: {}", brokerId, proposal.isr(), p.topicPartition(),
                        error != null ? error.toString() : outcome.error());
                p.onIsrProposalFailed(time.monotonicMs(), ISR_PROPOSAL_BACKOFF_MS);
                return;
            }
            if (p.onIsrCommitted(outcome.leaderEpoch(), outcome.partitionEpoch(), outcome.isr())) {
                produceWaits.checkAndComplete(p.topicPartition());
                fetchWaits.checkAndComplete(p.topicPartition());
            }
        });
    }

    /** Stops fetching and answers every waiting request with what it has. Logs are closed by their manager. */
    @Override
    public void close() {
        if (isrCheck != null) {
            isrCheck.cancel(false);
        }
        fetchers.shutdown();
        // Requests from now on find no replica here (NOT_LEADER_OR_FOLLOWER) instead of a closed log.
        for (Partition p : partitions.values()) {
            p.stop();
        }
        partitions.clear();
        byTopicId.clear();
        produceWaits.completeAll();
        fetchWaits.completeAll();
        replicaFetchWaits.completeAll();
    }
}
