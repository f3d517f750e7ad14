package io.raftmq.client;

import io.raftmq.client.errors.CommitFailedException;
import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.OffsetOutOfRangeException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.RebalanceInProgressException;
import io.raftmq.client.errors.WakeupException;
import io.raftmq.protocol.common.ErrorCode;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads records from raftmq, like Kafka's {@code KafkaConsumer}.
 *
 * <p><b>Not thread-safe</b>: call it from one thread at a time (a second thread gets a
 * ConcurrentModificationException); only {@link #wakeup()} may be called from another thread. A
 * background thread sends group heartbeats.
 *
 * <p>Either {@link #assign} partitions, or {@link #subscribe} to topics with a group.id: the group's
 * coordinator then splits the topics' partitions among the members (range or roundrobin), and
 * rebalances when members join, leave or stop heartbeating. On assignment a partition starts at the
 * group's committed offset, else where auto.offset.reset says. {@link #poll} returns records in
 * offset order per partition and never below the position; fetches to each leader are pipelined,
 * and a leader change (NOT_LEADER / FENCED_LEADER_EPOCH) refreshes metadata and carries on from the
 * same position. With enable.auto.commit, positions are committed every auto.commit.interval.ms
 * during poll, before partitions are revoked, and on close.
 */
public final class Consumer<K, V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Consumer.class);
    private static final Object WAKEUP = new Object();
    /** A poll with a shorter timeout still gives a due metadata refresh this long, so short polls do not starve it. */
    private static final long MIN_METADATA_REFRESH_WAIT_MS = 1000;

    private final String clientId;
    private final ConsumerConfig config;
    private final BrokerChannels channels;
    private final ClusterMetadata metadata;
    private final Rpc rpc;
    private final OffsetLookup offsets;
    private final SubscriptionState subscriptions = new SubscriptionState();
    private final Fetcher<K, V> fetcher;
    private final ConsumerCoordinator coordinator;
    private final LongSupplier clockMs;
    private final int maxPollRecords;
    private final long autoCommitIntervalMs;
    private final long apiTimeoutMs;
    private final SubscriptionState.Reset resetPolicy;
    private final ConcurrentLinkedQueue<Runnable> commitCallbacks = new ConcurrentLinkedQueue<>();
    private final AtomicLong owner = new AtomicLong(-1);
    private volatile boolean wakeupRequested;
    /** Nesting of acquire() by the owning thread; only that thread touches it. */
    private int depth;
    private long nextAutoCommitMs;
    private boolean closed;

    public Consumer(ConsumerConfig config, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this(config, keyDeserializer, valueDeserializer, System::currentTimeMillis);
    }

    public Consumer(Properties properties, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this(ConsumerConfig.fromProperties(properties), keyDeserializer, valueDeserializer);
    }

    Consumer(ConsumerConfig config, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer,
            LongSupplier clockMs) {
        this.config = config;
        String id = config.values.string(ConsumerConfig.CLIENT_ID);
        this.clientId = id.isEmpty() ? "consumer-" + UUID.randomUUID().toString().substring(0, 8) : id;
        this.clockMs = clockMs;
        long requestTimeoutMs = config.values.intValue(ConsumerConfig.REQUEST_TIMEOUT_MS);
        long backoffMs = config.values.longValue(ConsumerConfig.RETRY_BACKOFF_MS);
        this.channels = BrokerChannels.of(clientId, config.values);
        this.metadata = new ClusterMetadata(clientId, channels, config.bootstrap, requestTimeoutMs, backoffMs,
                config.values.longValue(CommonConfigs.METADATA_MAX_AGE_MS), clockMs);
        this.rpc = new Rpc(metadata, requestTimeoutMs, backoffMs, clockMs);
        this.offsets = new OffsetLookup(metadata, channels, rpc, requestTimeoutMs, backoffMs);
        this.fetcher = new Fetcher<>(clientId, config, metadata, channels, subscriptions, keyDeserializer,
                valueDeserializer);
        this.coordinator = config.groupId == null ? null : new ConsumerCoordinator(clientId, config.groupId, config,
                channels, new CoordinatorLookup(rpc, channels), rpc);
        this.maxPollRecords = config.values.intValue(ConsumerConfig.MAX_POLL_RECORDS);
        this.autoCommitIntervalMs = config.values.longValue(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS);
        this.apiTimeoutMs = config.values.longValue(ConsumerConfig.DEFAULT_API_TIMEOUT_MS);
        this.resetPolicy = switch (config.values.string(ConsumerConfig.AUTO_OFFSET_RESET)) {
            case "earliest" -> SubscriptionState.Reset.EARLIEST;
            case "latest" -> SubscriptionState.Reset.LATEST;
            default -> SubscriptionState.Reset.NONE;
        };
        this.nextAutoCommitMs = clockMs.getAsLong() + autoCommitIntervalMs;
    }

    // ---- subscription ----

    /** Joins the group (group.id required) to consume these topics' partitions. */
    public void subscribe(Collection<String> topics) {
        subscribe(topics, null);
    }

    public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
        acquire();
        try {
            if (coordinator == null) {
                throw new IllegalStateException("subscribe() needs a group.id; use assign() without one");
            }
            for (String t : topics) {
                if (t == null || t.isBlank()) {
                    throw new IllegalArgumentException("topic names must not be empty: " + topics);
                }
            }
            if (topics.isEmpty()) {
                unsubscribeLocked();
                return;
            }
            boolean changed = !subscriptions.topics.equals(new LinkedHashSet<>(topics));
            subscriptions.subscribe(topics, listener);
            metadata.addTopics(topics);
            if (changed) {
                coordinator.requestRejoin();
            }
        } finally {
            release();
        }
    }

    /** Reads exactly these partitions, outside any group membership (commits still use group.id). */
    public void assign(Collection<TopicPartition> partitions) {
        acquire();
        try {
            subscriptions.assignManually(partitions);
            fetcher.clearAllBuffered();
            List<String> topics = partitions.stream().map(TopicPartition::topic).distinct().toList();
            metadata.addTopics(topics);
        } finally {
            release();
        }
    }

    public void unsubscribe() {
        acquire();
        try {
            unsubscribeLocked();
        } finally {
            release();
        }
    }

    private void unsubscribeLocked() {
        if (subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED && coordinator != null) {
            revoke(subscriptions.assignment());
            coordinator.leave();
        }
        subscriptions.unsubscribe();
        fetcher.clearAllBuffered();
    }

    public Set<TopicPartition> assignment() {
        acquire();
        try {
            return Set.copyOf(subscriptions.assignment());
        } finally {
            release();
        }
    }

    public Set<String> subscription() {
        acquire();
        try {
            return Set.copyOf(subscriptions.topics);
        } finally {
            release();
        }
    }

    // ---- poll ----

    /**
     * Returns records fetched since the last call (at most max.poll.records), waiting up to {@code
     * timeout} for some. Also drives group membership, auto commit and commit callbacks.
     *
     * @throws OffsetOutOfRangeException when a position is out of range and auto.offset.reset is none
     * @throws WakeupException when {@link #wakeup()} was called
     */
    public ConsumerRecords<K, V> poll(Duration timeout) {
        acquire();
        try {
            if (subscriptions.mode == SubscriptionState.Mode.NONE) {
                throw new IllegalStateException("the consumer is not subscribed to any topic nor assigned any"
                        + " partition");
            }
            long deadline = clockMs.getAsLong() + Math.max(0, timeout.toMillis());
            do {
                checkWakeup();
                runCommitCallbacks();
                if (subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED && !pollGroup(deadline)) {
                    continue;
                }
                maybeAutoCommit();
                updatePositions(deadline);
                metadata.maybeRefresh(Math.max(deadline, clockMs.getAsLong() + MIN_METADATA_REFRESH_WAIT_MS));
                handleAnswers(fetcher.completed.poll()); // prefetched answers behind the buffered records
                Map<TopicPartition, List<ConsumerRecord<K, V>>> records = fetcher.drain(maxPollRecords);
                if (!records.isEmpty()) {
                    fetcher.sendFetches(clockMs.getAsLong()); // pipeline the next fetches
                    return new ConsumerRecords<>(records);
                }
                fetcher.sendFetches(clockMs.getAsLong());
                long waitMs = Math.min(deadline - clockMs.getAsLong(),
                        config.values.intValue(ConsumerConfig.HEARTBEAT_INTERVAL_MS));
                handleAnswers(fetcher.awaitCompleted(waitMs));
            } while (clockMs.getAsLong() < deadline);
            return ConsumerRecords.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(ErrorCode.NONE, "interrupted during poll", e);
        } finally {
            release();
        }
    }

    /** Handles {@code answer} (null: none) and every other answer already queued, without waiting. */
    @SuppressWarnings("unchecked") // only this consumer's fetcher queues answers, of its K and V
    private void handleAnswers(Object answer) {
        while (answer != null) {
            if (answer == WAKEUP) {
                checkWakeup();
            } else if (answer instanceof Fetcher.Arrived arrived) {
                fetcher.arrived(arrived);
            } else {
                fetcher.handle((Fetcher.Completed<K, V>) answer, clockMs.getAsLong(), resetPolicy);
            }
            answer = fetcher.completed.poll();
        }
    }

    /** Joins or rejoins the group if needed; false while the join is still in progress. */
    private boolean pollGroup(long deadline) {
        if (!coordinator.needsJoin()) {
            return true;
        }
        if (!subscriptions.assignment().isEmpty()) {
            revoke(subscriptions.assignment());
        }
        List<TopicPartition> assigned = coordinator.joinAndSync(subscriptions.topics, deadline);
        if (assigned == null) {
            return false;
        }
        subscriptions.setAssignment(assigned);
        for (TopicPartition tp : assigned) {
            subscriptions.requestReset(tp, SubscriptionState.Reset.COMMITTED_OR_POLICY);
        }
        fetcher.clearAllBuffered();
        nextAutoCommitMs = clockMs.getAsLong() + autoCommitIntervalMs;
        if (subscriptions.listener != null) {
            subscriptions.listener.onPartitionsAssigned(List.copyOf(assigned));
        }
        return true;
    }

    /** Before partitions go away: commit (with auto commit) and tell the listener. */
    private void revoke(Collection<TopicPartition> partitions) {
        List<TopicPartition> revoked = List.copyOf(partitions);
        if (config.autoCommit && coordinator != null) {
            try {
                coordinator.commitSync(subscriptions.allConsumed(), true, clockMs.getAsLong() + apiTimeoutMs);
            } catch (RaftmqException e) {
                log.warn("[{}] committing before revocation failed: {}", clientId, e.getMessage());
            }
        }
        if (subscriptions.listener != null) {
            subscriptions.listener.onPartitionsRevoked(revoked);
        }
        subscriptions.setAssignment(List.of());
        fetcher.clearAllBuffered();
    }

    private void maybeAutoCommit() {
        if (!config.autoCommit || clockMs.getAsLong() < nextAutoCommitMs) {
            return;
        }
        nextAutoCommitMs = clockMs.getAsLong() + autoCommitIntervalMs;
        if (subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED && !coordinator.isStable()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> positions = subscriptions.allConsumed();
        coordinator.commitAsync(positions, subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        log.debug("[{}] auto commit of {} failed: {}", clientId, positions.keySet(), e.toString());
                    }
                });
    }

    /** Gives partitions without a position one: committed offset, else the reset policy. */
    private void updatePositions(long deadline) {
        List<TopicPartition> missing = subscriptions.needingPosition();
        if (missing.isEmpty()) {
            return;
        }
        long bound = Math.max(deadline, clockMs.getAsLong() + apiTimeoutMs);
        List<TopicPartition> committedFirst = missing.stream()
                .filter(tp -> subscriptions.state(tp).reset == SubscriptionState.Reset.COMMITTED_OR_POLICY).toList();
        if (coordinator != null && !committedFirst.isEmpty()) {
            Map<TopicPartition, OffsetAndMetadata> committed = coordinator.fetchCommitted(committedFirst, bound);
            committed.forEach((tp, o) -> subscriptions.seek(tp, o.offset(), o.leaderEpoch().orElse(-1)));
        }
        Map<TopicPartition, Long> specs = new HashMap<>();
        for (TopicPartition tp : subscriptions.needingPosition()) {
            SubscriptionState.Reset r = subscriptions.state(tp).reset;
            if (r == SubscriptionState.Reset.COMMITTED_OR_POLICY) {
                r = resetPolicy;
            }
            if (r == SubscriptionState.Reset.NONE) {
                throw new OffsetOutOfRangeException(ErrorCode.OFFSET_OUT_OF_RANGE, "no committed offset for " + tp
                        + " and auto.offset.reset is none");
            }
            specs.put(tp, r == SubscriptionState.Reset.EARLIEST ? OffsetLookup.EARLIEST : OffsetLookup.LATEST);
        }
        if (!specs.isEmpty()) {
            offsets.list(specs, bound).forEach((tp, offset) -> subscriptions.seek(tp, offset, -1));
        }
    }

    // ---- positions ----

    public void seek(TopicPartition partition, long offset) {
        acquire();
        try {
            if (offset < 0) {
                throw new IllegalArgumentException("seek offset must be >= 0, got " + offset);
            }
            subscriptions.seek(partition, offset, -1);
            fetcher.clearBuffered(partition);
        } finally {
            release();
        }
    }

    public void seekToBeginning(Collection<TopicPartition> partitions) {
        seekTo(partitions, SubscriptionState.Reset.EARLIEST);
    }

    public void seekToEnd(Collection<TopicPartition> partitions) {
        seekTo(partitions, SubscriptionState.Reset.LATEST);
    }

    private void seekTo(Collection<TopicPartition> partitions, SubscriptionState.Reset reset) {
        acquire();
        try {
            Collection<TopicPartition> targets = partitions.isEmpty() ? subscriptions.assignment() : partitions;
            for (TopicPartition tp : targets) {
                subscriptions.requestReset(tp, reset);
                fetcher.clearBuffered(tp);
            }
        } finally {
            release();
        }
    }

    /** The offset of the next record poll will return for the partition (resolving it if needed). */
    public long position(TopicPartition partition) {
        return position(partition, Duration.ofMillis(apiTimeoutMs));
    }

    public long position(TopicPartition partition, Duration timeout) {
        acquire();
        try {
            SubscriptionState.PartitionState s = subscriptions.state(partition);
            if (!s.hasPosition()) {
                updatePositions(clockMs.getAsLong() + timeout.toMillis());
            }
            return subscriptions.state(partition).position;
        } finally {
            release();
        }
    }

    /** The group's committed offsets for the partitions (absent when none). */
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
        acquire();
        try {
            return coordinatorOrThrow().fetchCommitted(partitions, clockMs.getAsLong() + apiTimeoutMs);
        } finally {
            release();
        }
    }

    public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions) {
        return listOffsets(partitions, OffsetLookup.EARLIEST);
    }

    public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        return listOffsets(partitions, OffsetLookup.LATEST);
    }

    private Map<TopicPartition, Long> listOffsets(Collection<TopicPartition> partitions, long spec) {
        acquire();
        try {
            Map<TopicPartition, Long> specs = new LinkedHashMap<>();
            partitions.forEach(tp -> specs.put(tp, spec));
            return offsets.list(specs, clockMs.getAsLong() + apiTimeoutMs);
        } finally {
            release();
        }
    }

    // ---- commits ----

    /** Commits the positions of every assigned partition and waits. */
    public void commitSync() {
        acquire();
        try {
            commitSyncLocked(subscriptions.allConsumed());
        } finally {
            release();
        }
    }

    /**
     * Commits the given offsets (the next offset to read, per partition) and waits.
     *
     * @throws CommitFailedException when this member is no longer in the group's generation
     * @throws RebalanceInProgressException when the group is rebalancing
     */
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        acquire();
        try {
            commitSyncLocked(offsets);
        } finally {
            release();
        }
    }

    private void commitSyncLocked(Map<TopicPartition, OffsetAndMetadata> offsets) {
        runCommitCallbacks();
        coordinatorOrThrow().commitSync(offsets, subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED,
                clockMs.getAsLong() + apiTimeoutMs);
    }

    public void commitAsync() {
        commitAsync(null);
    }

    public void commitAsync(OffsetCommitCallback callback) {
        acquire();
        try {
            commitAsyncLocked(subscriptions.allConsumed(), callback);
        } finally {
            release();
        }
    }

    /** Commits without waiting; the callback runs inside a later poll, commit or close call. */
    public void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
        acquire();
        try {
            commitAsyncLocked(Map.copyOf(offsets), callback);
        } finally {
            release();
        }
    }

    private void commitAsyncLocked(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
        CompletableFuture<Void> f = coordinatorOrThrow().commitAsync(offsets,
                subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED);
        f.whenComplete((v, e) -> {
            if (callback != null) {
                Exception ex = e == null ? null : Errors.fromThrowable(e);
                commitCallbacks.add(() -> callback.onComplete(offsets, ex));
            }
        });
    }

    private void runCommitCallbacks() {
        Runnable r;
        while ((r = commitCallbacks.poll()) != null) {
            r.run();
        }
    }

    private ConsumerCoordinator coordinatorOrThrow() {
        if (coordinator == null) {
            throw new IllegalStateException("committing offsets needs a group.id");
        }
        return coordinator;
    }

    // ---- lifecycle ----

    /** Makes a blocking call in progress (or the next one) throw {@link WakeupException}. Any thread. */
    public void wakeup() {
        wakeupRequested = true;
        fetcher.completed.add(WAKEUP);
    }

    private void checkWakeup() {
        if (wakeupRequested) {
            wakeupRequested = false;
            throw new WakeupException(ErrorCode.NONE, "the consumer was woken up");
        }
    }

    /** The member id in the group (empty when not a member); for tests and tools. */
    String memberId() {
        return coordinator == null ? "" : coordinator.memberId();
    }

    @Override
    public void close() {
        close(Duration.ofMillis(apiTimeoutMs));
    }

    /** Commits (with auto commit), leaves the group, and releases connections and threads. */
    public void close(Duration timeout) {
        acquire();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (coordinator != null) {
                if (config.autoCommit && coordinator.isStable() || config.autoCommit
                        && subscriptions.mode == SubscriptionState.Mode.ASSIGNED) {
                    try {
                        coordinator.commitSync(subscriptions.allConsumed(),
                                subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED,
                                clockMs.getAsLong() + timeout.toMillis());
                    } catch (RaftmqException e) {
                        log.warn("[{}] commit on close failed: {}", clientId, e.getMessage());
                    }
                }
                runCommitCallbacks();
                if (subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED && subscriptions.listener != null
                        && !subscriptions.assignment().isEmpty()) {
                    subscriptions.listener.onPartitionsRevoked(List.copyOf(subscriptions.assignment()));
                }
                coordinator.close();
                if (subscriptions.mode == SubscriptionState.Mode.SUBSCRIBED) {
                    coordinator.leave();
                }
            }
            channels.close();
        } finally {
            release();
        }
    }

    /** Claims the consumer for this thread (re-entrant, e.g. from a rebalance listener). */
    private void acquire() {
        long me = Thread.currentThread().getId();
        if (owner.get() != me && !owner.compareAndSet(-1, me)) {
            throw new java.util.ConcurrentModificationException("the consumer is not safe for multi-threaded"
                    + " access: it is in use by another thread");
        }
        depth++;
    }

    private void release() {
        if (--depth == 0) {
            owner.set(-1);
        }
    }
}
