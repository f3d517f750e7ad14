package io.raftmq.replication;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchPartitionResponse;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaFetchResponse;
import io.raftmq.protocol.replica.ReplicaGrpc;
import io.raftmq.storage.AppendResult;
import io.raftmq.storage.EpochEndOffset;
import io.raftmq.storage.PartitionLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the partitions this broker follows from one leader broker: a thread that long-polls the
 * leader's Replica service with every such partition, appends what comes back as it is, learns the
 * high watermark, and truncates where the leader says this log diverges. Fetches go over one
 * long-lived stream to the leader (ReplicaFetchStream), one request at a time; a failed or stalled
 * stream is dropped and the next fetch opens a new one.
 *
 * <p>Each fetch carries the log end (where the leader sends records from) and the durable offset
 * (fsynced with flush.mode=group; the log end with the other modes), which is the position the
 * leader counts toward the high watermark: a follower never reports records it could still lose.
 * After appending, the fetcher waits up to replica.fetch.max.wait.ms for the fsync, so the next
 * fetch usually reports everything; a stalled fsync is reported by a later fetch (and a follower
 * whose disk stays behind leaves the ISR after replica.lag.time.max.ms). A log whose fsync or write
 * failed is offline: its partition is no longer fetched, logged at ERROR.
 *
 * <p>Threads: one fetcher thread owns the fetch loop and the stream; {@link #add}, {@link #remove}
 * and {@link #shutdown} may be called from any thread (the partition map is concurrent; add cancels
 * the stream, which is thread-safe).
 */
final class FollowerFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerFetcher.class);
    static final long LEADER_BEHIND_BACKOFF_MS = 10;

    /** A partition being fetched, at the leader epoch it was added with. */
    private static final class FetchState {
        final Partition partition;
        final int leaderEpoch;
        volatile long retryAtMs;
        /** A divergence that truncation could not resolve was logged (fetch thread only). */
        boolean unresolvedDivergenceLogged;

        FetchState(Partition partition, int leaderEpoch) {
            this.partition = partition;
            this.leaderEpoch = leaderEpoch;
        }
    }

    private final int localBrokerId;
    private final LongSupplier brokerEpoch;
    final int leaderId;
    final HostPort endpoint;
    private final ReplicationConfig config;
    private final Time time;
    private final ManagedChannel channel;
    private final Thread thread;
    private final Map<TopicPartition, FetchState> states = new ConcurrentHashMap<>();
    private final Object wakeup = new Object();
    private volatile boolean running = true;
    /** Counts {@link #add} calls; a fetch built before the latest one is cancelled. */
    private final AtomicLong added = new AtomicLong();
    /** The open stream to the leader, or null; replaced by the fetch thread, cancelled by add(). */
    private volatile FetchStream stream;
    // Fetch thread only.
    private boolean failing;

    FollowerFetcher(int localBrokerId, LongSupplier brokerEpoch, int leaderId, HostPort endpoint,
            ReplicationConfig config, Time time) {
        this(localBrokerId, brokerEpoch, leaderId, endpoint, config, time, NodeChannelCredentials.plaintext());
    }

    /** @param credentials how the channel to the leader is secured: with TLS, it must be node {@code leaderId} */
    FollowerFetcher(int localBrokerId, LongSupplier brokerEpoch, int leaderId, HostPort endpoint,
            ReplicationConfig config, Time time, NodeChannelCredentials credentials) {
        this.localBrokerId = localBrokerId;
        this.brokerEpoch = brokerEpoch;
        this.leaderId = leaderId;
        this.endpoint = endpoint;
        this.config = config;
        this.time = time;
        this.channel = NettyChannelBuilder.forAddress(endpoint.host(), endpoint.port(), credentials.toNode(leaderId))
                .maxInboundMessageSize(Integer.MAX_VALUE)
                // An answer of up to replica.fetch.response.max.bytes streams in without waiting for
                // HTTP/2 window updates (gRPC's default window is 1 MiB).
                .flowControlWindow(Math.max(1 << 20, config.fetchResponseMaxBytes()))
                .keepAliveTime(1, TimeUnit.SECONDS)
                .keepAliveTimeout(2, TimeUnit.SECONDS)
                .directExecutor() // stream callbacks only queue an answer for the fetch thread
                .intercept(credentials.authentication("leader " + leaderId + " at " + endpoint))
                .build();
        this.thread = new Thread(this::run, "replica-fetcher-" + localBrokerId + "-from-" + leaderId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void add(Partition partition, int leaderEpoch) {
        states.put(partition.topicPartition(), new FetchState(partition, leaderEpoch));
        // A long poll in flight does not include it: cut it short so that the partition (perhaps
        // the one a new leader's acks=all produces wait for) is fetched now, not in up to
        // replica.fetch.max.wait.ms.
        added.incrementAndGet();
        FetchStream open = stream;
        if (open != null) {
            open.cancel("partition " + partition.topicPartition() + " added");
        }
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    void remove(TopicPartition tp) {
        states.remove(tp);
    }

    boolean isEmpty() {
        return states.isEmpty();
    }

    void shutdown() {
        running = false;
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
        FetchStream open = stream;
        if (open != null) {
            open.cancel("shutting down");
        }
        channel.shutdownNow();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (running) {
            long nowMs = time.monotonicMs();
            List<FetchState> ready = new ArrayList<>();
            long soonest = nowMs + 100;
            for (FetchState s : states.values()) {
                if (s.retryAtMs <= nowMs) {
                    ready.add(s);
                } else {
                    soonest = Math.min(soonest, s.retryAtMs);
                }
            }
            if (ready.isEmpty()) {
                pause(soonest - nowMs); // add() wakes it early
                continue;
            }
            try {
                fetchOnce(ready);
            } catch (RuntimeException e) {
                LOG.error("[broker {}] fetching from broker {} failed unexpectedly", localBrokerId, leaderId, e);
                pause(config.fetchBackoffMs());
            }
        }
    }

    private void fetchOnce(List<FetchState> ready) {
        long addedBefore = added.get();
        ReplicaFetchRequest.Builder request = ReplicaFetchRequest.newBuilder()
                .setReplicaId(localBrokerId)
                .setBrokerEpoch(brokerEpoch.getAsLong())
                .setMaxWaitMs(config.fetchMaxWaitMs())
                .setMinBytes(1)
                .setMaxBytes(config.fetchResponseMaxBytes());
        Map<TopicPartition, FetchState> sent = new HashMap<>();
        for (FetchState s : ready) {
            request.addPartitions(fetchPosition(s.partition, s.leaderEpoch, config.fetchMaxBytes()));
            sent.put(s.partition.topicPartition(), s);
        }
        ReplicaFetchResponse response;
        try {
            response = exchange(request.build(), addedBefore);
        } catch (StatusRuntimeException e) {
            if (!failing) {
                failing = true;
                LOG.info("[broker {}] cannot fetch from broker {} at {}: {}; retrying every {} ms", localBrokerId,
                        leaderId, endpoint, e.getStatus().getCode(), config.fetchBackoffMs());
            }
            channel.resetConnectBackoff();
            pause(config.fetchBackoffMs());
            return;
        }
        if (response == null) {
            return; // cut short for a new partition: fetch again at once, with it
        }
        if (failing) {
            failing = false;
            LOG.info("[broker {}] fetching from broker {} again", localBrokerId, leaderId);
        }
        if (response.getError().getCode() != ErrorCode.NONE) {
            LOG.debug("[broker {}] fetch from broker {} refused: {}", localBrokerId, leaderId,
                    response.getError().getMessage());
            pause(config.fetchBackoffMs());
            return;
        }
        for (ReplicaFetchPartitionResponse pr : response.getPartitionsList()) {
            TopicPartition tp = null;
            for (FetchState s : sent.values()) {
                if (s.partition.topicPartition().partition() == pr.getPartition()
                        && Uuids.toProto(s.partition.topicId()).equals(pr.getTopicId())) {
                    tp = s.partition.topicPartition();
                    break;
                }
            }
            FetchState s = tp == null ? null : states.get(tp);
            if (s == null || s != sent.get(tp)) {
                continue; // removed or re-added at another epoch while the fetch was out
            }
            handle(s, pr);
        }
        awaitDurable(sent.values());
    }

    /**
     * Waits, up to replica.fetch.max.wait.ms in all, until the fetched partitions' logs are durable
     * to their ends per their flush mode, so that the next fetch reports what was just appended. A
     * flush still running when the wait ends is reported by a later fetch; a failed one took its
     * log offline, and the partition is fetched no more.
     */
    private void awaitDurable(Collection<FetchState> fetched) {
        Map<FetchState, CompletableFuture<Void>> flushes = new HashMap<>();
        for (FetchState s : fetched) {
            PartitionLog log = s.partition.log();
            if (states.get(s.partition.topicPartition()) == s && log.durableOffset() < log.logEndOffset()) {
                flushes.put(s, log.flush());
            }
        }
        long deadlineMs = time.monotonicMs() + config.fetchMaxWaitMs();
        for (Map.Entry<FetchState, CompletableFuture<Void>> flush : flushes.entrySet()) {
            try {
                flush.getValue().get(Math.max(0, deadlineMs - time.monotonicMs()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException stalled) {
                // Still running: the durable offset the next fetches report stays behind until it ends.
            } catch (ExecutionException failed) {
                stopFetching(flush.getKey(), failed.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The partition's log failed (it is offline and said why): fetch it no more, and say so. */
    private void stopFetching(FetchState s, Throwable cause) {
        if (states.remove(s.partition.topicPartition(), s)) {
            LOG.error("[broker {}] stops fetching {} from broker {}: its log cannot make records durable ({});"
                    + " the leader counts it only up to offset {}", localBrokerId, s.partition.topicPartition(),
                    leaderId, cause, s.partition.log().durableOffset());
        }
    }

    /**
     * Sends one request on the stream (opening one if needed) and waits for its answer; null when
     * {@link #add} cancelled the stream meanwhile (the caller fetches again at once, with the new
     * partition).
     *
     * @throws StatusRuntimeException when the stream failed or gave no answer in time; the stream is
     *     dropped and the next call opens a new one
     */
    private ReplicaFetchResponse exchange(ReplicaFetchRequest request, long addedBefore) {
        FetchStream s = stream;
        if (s == null || s.cancelled) {
            s = new FetchStream();
            ReplicaGrpc.newStub(channel).replicaFetchStream(s);
            stream = s;
        }
        if (added.get() != addedBefore) {
            s.cancel("a partition came in while the request was built");
        } else {
            s.send(request);
        }
        Object answer;
        try {
            answer = s.answers.poll(config.fetchMaxWaitMs() + 15_000L, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
        if (answer instanceof ReplicaFetchResponse response) {
            return response;
        }
        stream = null;
        if (s.cancelled && running) {
            return null;
        }
        if (answer == null) {
            s.cancel("no answer in time");
            throw Status.DEADLINE_EXCEEDED.withDescription("no answer from the leader within "
                    + (config.fetchMaxWaitMs() + 15_000L) + " ms").asRuntimeException();
        }
        throw answer instanceof StatusRuntimeException e ? e : Status.fromThrowable((Throwable) answer)
                .asRuntimeException();
    }

    /**
     * One ReplicaFetchStream call: answers (or the call's end) are queued by the transport thread
     * for the fetch thread, which alone sends.
     */
    private static final class FetchStream
            implements ClientResponseObserver<ReplicaFetchRequest, ReplicaFetchResponse> {
        final LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        private volatile ClientCallStreamObserver<ReplicaFetchRequest> requests;
        /** Set before this side cancels the call. */
        volatile boolean cancelled;

        @Override
        public void beforeStart(ClientCallStreamObserver<ReplicaFetchRequest> requestStream) {
            requests = requestStream;
        }

        void send(ReplicaFetchRequest request) {
            try {
                requests.onNext(request);
            } catch (IllegalStateException cancelledMeanwhile) {
                // add() cancelled the call just now: its CANCELLED end is on the way to answers.
            }
        }

        /** Ends the call (from any thread); the waiting fetch thread gets CANCELLED. */
        void cancel(String why) {
            cancelled = true;
            requests.cancel(why, null);
        }

        @Override
        public void onNext(ReplicaFetchResponse response) {
            answers.add(response);
        }

        @Override
        public void onError(Throwable t) {
            answers.add(t instanceof StatusRuntimeException ? t : Status.fromThrowable(t).asRuntimeException());
        }

        @Override
        public void onCompleted() {
            answers.add(Status.UNAVAILABLE.withDescription("the leader ended the fetch stream").asRuntimeException());
        }
    }

    /**
     * What a fetch asks of the leader for {@code p}: records from its log end, with its durable
     * offset (its position for the high watermark) and its latest epoch (to detect divergence).
     */
    static ReplicaFetchPartition fetchPosition(Partition p, int leaderEpoch, int maxBytes) {
        return ReplicaFetchPartition.newBuilder()
                .setTopicId(Uuids.toProto(p.topicId()))
                .setPartition(p.topicPartition().partition())
                .setFetchOffset(p.log().logEndOffset())
                .setDurableOffset(p.log().durableOffset())
                .setCurrentLeaderEpoch(leaderEpoch)
                .setLastFetchedEpoch(p.log().latestEpoch())
                .setPartitionMaxBytes(maxBytes)
                .build();
    }

    /**
     * Applies the leader's answer for {@code p} when it carries no error: truncates where the leader
     * says the logs diverge, or appends the records as they are and learns the high watermark and
     * the log start. Returns the log's refusal of the records, or null.
     *
     * @throws IOException when the log failed (it is offline and said why)
     */
    static AppendResult.Rejected applyAnswer(Partition p, ReplicaFetchPartitionResponse pr) throws IOException {
        if (pr.hasDivergingEpoch()) {
            p.truncateToDivergence(new EpochEndOffset(pr.getDivergingEpoch().getEpoch(),
                    pr.getDivergingEpoch().getEndOffset()));
            return null;
        }
        ByteString records = pr.getRecords();
        if (!records.isEmpty()) {
            ByteBuffer bytes = ByteBuffer.allocate(records.size());
            records.copyTo(bytes);
            bytes.flip();
            if (p.appendAsFollower(bytes) instanceof AppendResult.Rejected rejected) {
                return rejected;
            }
        }
        p.updateFollowerHighWatermark(pr.getHighWatermark());
        p.maybeFollowLogStart(pr.getLogStartOffset());
        return null;
    }

    private void handle(FetchState s, ReplicaFetchPartitionResponse pr) {
        Partition p = s.partition;
        try {
            switch (pr.getError().getCode()) {
                case NONE -> {
                    long endBefore = p.log().logEndOffset();
                    int epochBefore = p.log().latestEpoch();
                    AppendResult.Rejected rejected = applyAnswer(p, pr);
                    if (pr.hasDivergingEpoch()) {
                        if (p.log().logEndOffset() == endBefore && p.log().latestEpoch() == epochBefore) {
                            // Truncating changed nothing, so the next fetch would diverge the same way:
                            // back off rather than spin on it.
                            if (!s.unresolvedDivergenceLogged) {
                                s.unresolvedDivergenceLogged = true;
                                LOG.warn("[broker {}] {} diverges from broker {} at epoch {} ending at {}, but"
                                        + " truncating changes nothing (log end {}, latest epoch {}); retrying"
                                        + " every {} ms", localBrokerId, p.topicPartition(), leaderId,
                                        pr.getDivergingEpoch().getEpoch(), pr.getDivergingEpoch().getEndOffset(),
                                        endBefore, epochBefore, config.fetchBackoffMs());
                            }
                            s.retryAtMs = time.monotonicMs() + config.fetchBackoffMs();
                        }
                        return;
                    }
                    if (rejected != null) {
                        if (rejected.code() == ErrorCode.STORAGE_ERROR) {
                            stopFetching(s, new IOException(rejected.message()));
                            return;
                        }
                        LOG.warn("[broker {}] could not append {} fetched from broker {}: {} {}", localBrokerId,
                                p.topicPartition(), leaderId, rejected.code(), rejected.message());
                        s.retryAtMs = time.monotonicMs() + config.fetchBackoffMs();
                    }
                }
                case OFFSET_OUT_OF_RANGE -> {
                    if (p.log().logEndOffset() < pr.getLogStartOffset()) {
                        p.restartAt(pr.getLogStartOffset());
                    } else {
                        s.retryAtMs = time.monotonicMs() + config.fetchBackoffMs();
                    }
                }
                case UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER -> {
                    // Usually the new leader has not applied the metadata that made it leader yet
                    // (milliseconds); retry soon, as acks=all waits for this follower.
                    LOG.debug("[broker {}] fetch of {} from broker {}: {} {}", localBrokerId, p.topicPartition(),
                            leaderId, pr.getError().getCode(), pr.getError().getMessage());
                    s.retryAtMs = time.monotonicMs() + Math.min(LEADER_BEHIND_BACKOFF_MS, config.fetchBackoffMs());
                }
                default -> {
                    // Stale epoch, unknown partition: the metadata will tell; try again shortly.
                    LOG.debug("[broker {}] fetch of {} from broker {}: {} {}", localBrokerId, p.topicPartition(),
                            leaderId, pr.getError().getCode(), pr.getError().getMessage());
                    s.retryAtMs = time.monotonicMs() + config.fetchBackoffMs();
                }
            }
        } catch (IOException e) {
            stopFetching(s, e); // the log is offline and said so
        }
    }

    private void pause(long ms) {
        synchronized (wakeup) {
            if (!running) {
                return;
            }
            try {
                wakeup.wait(Math.max(1, ms));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }
}
