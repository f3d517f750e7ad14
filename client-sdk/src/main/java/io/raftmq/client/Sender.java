package io.raftmq.client;

import com.google.protobuf.ByteString;
import io.raftmq.client.errors.OutOfOrderSequenceException;
import io.raftmq.client.errors.ProducerFencedException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.broker.InitProducerIdRequest;
import io.raftmq.protocol.broker.InitProducerIdResponse;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.PartitionProduceResponse;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.broker.TopicProduceResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer's I/O loop, on its own thread: refreshes metadata when asked, obtains the producer id,
 * drains ready batches grouped by leader broker into one Produce request per broker (at most one
 * batch per partition per request, at most max.in.flight unanswered batches per partition), and
 * handles answers: completes batches, re-queues retriable failures, fails the rest.
 *
 * <p>Without idempotence a partition has at most one unanswered batch (gRPC does not keep calls on
 * one connection in order), so records of a partition are written in send order unless a retry
 * follows a lost answer (then a record may be written twice). acks=0 gives no ordering guarantee.
 *
 * <p>Ordering with idempotence: each new batch gets the partition's next sequence when drained. When
 * a batch fails retriably it goes back to the front of its queue in sequence order; later batches of
 * the partition that were in flight are refused by the leader as out of order (a gap), and are
 * re-queued behind it. Re-queued batches are sent only when the partition has nothing in flight, in
 * sequence order, so the leader sees the sequences without gaps. A DUPLICATE answer (a retry of a
 * batch the leader already has) carries the original offset and completes the batch normally. An
 * out-of-order answer for the very batch the leader should expect next (or UNKNOWN_PRODUCER_ID)
 * cannot be fixed by retrying: that batch fails with {@link OutOfOrderSequenceException} and the
 * producer takes a new producer id before sending more (see {@link ProducerIdState}).
 *
 * <p>Threads: everything here runs on the sender thread except {@link #wakeup()}, {@link
 * #initiateClose} and {@link #forceClose}; gRPC callbacks only enqueue answers.
 */
final class Sender implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Sender.class);
    private static final long MAX_IDLE_WAIT_MS = 250;
    /**
     * How much longer than request.timeout.ms (the time a broker may hold an acks=all produce before
     * answering REQUEST_TIMED_OUT) the sender waits for a produce answer: the broker's answer comes first.
     */
    static final long PRODUCE_ANSWER_GRACE_MS = 2000;

    /** An answer (or a transport failure) to one Produce request. */
    private record Completion(BrokerAddress broker, List<ProducerBatch> batches, ProduceResponse response,
            Throwable error) {}

    private final String clientId;
    private final ClusterMetadata metadata;
    private final BrokerChannels channels;
    private final RecordAccumulator accumulator;
    private final ProducerIdState ids;
    private final boolean idempotenceExplicit;
    private final short acks;
    private final int requestTimeoutMs;
    private final int deliveryTimeoutMs;
    private final long retryBackoffMs;
    private final int retries;
    private final int maxInFlight;
    private final int maxRequestSize;
    private final LongSupplier clockMs;

    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final ProduceStreams produceStreams;
    /** Numbers batches in the order they are first sent (sender thread). */
    private long nextSendOrder;
    private final Object wakeLock = new Object();
    /** Guarded by wakeLock. */
    private boolean woken;
    private volatile boolean closing;
    private volatile boolean forceClose;
    /** A fatal error: every later send fails with it. Written by the sender thread. */
    volatile RaftmqException fatalError;
    private long lastRefreshAttemptMs = Long.MIN_VALUE / 2;
    private long nextInitAttemptMs;

    Sender(String clientId, ProducerConfig config, ClusterMetadata metadata, BrokerChannels channels,
            RecordAccumulator accumulator, LongSupplier clockMs) {
        this.clientId = clientId;
        this.metadata = metadata;
        this.channels = channels;
        this.accumulator = accumulator;
        this.ids = new ProducerIdState(config.idempotent);
        this.idempotenceExplicit = config.values.isSet(ProducerConfig.ENABLE_IDEMPOTENCE);
        this.acks = config.acks;
        this.requestTimeoutMs = config.values.intValue(ProducerConfig.REQUEST_TIMEOUT_MS);
        this.deliveryTimeoutMs = config.values.intValue(ProducerConfig.DELIVERY_TIMEOUT_MS);
        this.retryBackoffMs = config.values.longValue(ProducerConfig.RETRY_BACKOFF_MS);
        this.retries = config.values.intValue(ProducerConfig.RETRIES);
        this.maxInFlight = config.idempotent
                ? Math.min(ProducerConfig.MAX_IN_FLIGHT_IDEMPOTENT,
                        config.values.intValue(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION))
                : config.values.intValue(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        this.maxRequestSize = config.values.intValue(ProducerConfig.MAX_REQUEST_SIZE);
        this.clockMs = clockMs;
        this.produceStreams = new ProduceStreams(clientId, channels, clockMs,
                requestTimeoutMs + PRODUCE_ANSWER_GRACE_MS);
    }

    void wakeup() {
        synchronized (wakeLock) {
            woken = true;
            wakeLock.notifyAll();
        }
    }

    void initiateClose() {
        closing = true;
        accumulator.beginClosing();
        wakeup();
    }

    void forceClose() {
        forceClose = true;
        initiateClose();
    }

    /** The producer id in use, or -1 (for tests and logs; read on the sender thread or after it ended). */
    long producerId() {
        return ids.producerId;
    }

    @Override
    public void run() {
        log.debug("[{}] sender started", clientId);
        while (true) {
            try {
                if (!runOnce()) {
                    break;
                }
            } catch (RuntimeException e) {
                log.error("[{}] unexpected error in the producer's sender loop", clientId, e);
                await(retryBackoffMs);
            }
        }
        RaftmqException closed = new RaftmqException(ErrorCode.NONE, "the producer was closed before the record"
                + " was delivered");
        for (ProducerBatch b : accumulator.removeQueued(b -> true)) {
            failBatch(b, closed);
        }
        for (ProducerBatch b : accumulator.incompleteBatches()) {
            failBatch(b, closed);
        }
        produceStreams.close();
        log.debug("[{}] sender stopped", clientId);
    }

    /** One pass of the loop; false when the sender should stop. */
    boolean runOnce() {
        long now = clockMs.getAsLong();
        produceStreams.expire(now);
        processCompletions(now);
        if (forceClose) {
            return false;
        }
        if (closing && !accumulator.hasIncomplete() && ids.inFlightTotal() == 0) {
            return false;
        }
        RaftmqException fatal = fatalError;
        if (fatal != null) {
            for (ProducerBatch b : accumulator.removeQueued(b -> true)) {
                failBatch(b, fatal);
            }
            await(MAX_IDLE_WAIT_MS);
            return true;
        }
        maybeRefreshMetadata(now);
        if (ids.mode == ProducerIdState.Mode.NEEDS_ID) {
            if (ids.inFlightTotal() == 0 && now >= nextInitAttemptMs) {
                initProducerId(now);
            }
            if (ids.mode == ProducerIdState.Mode.NEEDS_ID) {
                expireBatches(clockMs.getAsLong());
                await(retryBackoffMs);
                return true;
            }
        }
        expireBatches(now);
        int sent = drainAndSend(now);
        if (sent > 0) {
            return true;
        }
        long deadline = accumulator.nextLingerDeadline();
        long waitMs = deadline > now ? Math.min(deadline - now, MAX_IDLE_WAIT_MS)
                : Math.max(1, Math.min(retryBackoffMs, 50));
        await(waitMs);
        return true;
    }

    private void await(long ms) {
        synchronized (wakeLock) {
            if (!woken && ms > 0) {
                try {
                    wakeLock.wait(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    forceClose = true;
                }
            }
            woken = false;
        }
    }

    private void maybeRefreshMetadata(long now) {
        if (!metadata.updateNeeded() || now - lastRefreshAttemptMs < retryBackoffMs) {
            return;
        }
        lastRefreshAttemptMs = now;
        try {
            metadata.refresh(now + requestTimeoutMs);
        } catch (RaftmqException e) {
            log.debug("[{}] metadata refresh failed: {}", clientId, e.getMessage());
        }
    }

    private void initProducerId(long now) {
        long previous = ids.producerId;
        try {
            BrokerAddress broker = metadata.anyBroker();
            InitProducerIdResponse r = Rpc.awaitAnswer(channels.broker(broker, requestTimeoutMs)
                    .initProducerId(InitProducerIdRequest.newBuilder().setProducerId(previous)
                            .setProducerEpoch(ids.producerEpoch).build()), requestTimeoutMs);
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw Errors.exception(r.getError());
            }
            ids.setProducerId(r.getProducerId(), (short) r.getProducerEpoch());
            for (ProducerBatch b : accumulator.queuedBatches()) {
                if (b.hasSequence()) {
                    b.clearSequence();
                }
            }
            log.info("[{}] producer id {} epoch {}{}", clientId, r.getProducerId(), r.getProducerEpoch(),
                    previous < 0 ? "" : " (was " + previous + "; sequences start again at 0)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            forceClose = true;
        } catch (Exception e) {
            RaftmqException error = Errors.fromThrowable(e);
            if (error.code() == ErrorCode.UNSUPPORTED_VERSION) {
                if (idempotenceExplicit) {
                    fatalError = new RaftmqException(ErrorCode.UNSUPPORTED_VERSION, "enable.idempotence=true but"
                            + " the cluster does not offer producer ids (InitProducerId: " + error.getMessage() + ")");
                    log.error("[{}] {}", clientId, fatalError.getMessage());
                } else {
                    ids.mode = ProducerIdState.Mode.DISABLED;
                    log.warn("[{}] the cluster does not offer producer ids; idempotence is off for this producer",
                            clientId);
                }
                return;
            }
            if (!error.isRetriable()) {
                fatalError = error;
                log.error("[{}] could not obtain a producer id: {}", clientId, error.getMessage());
                return;
            }
            metadata.rotate();
            nextInitAttemptMs = now + retryBackoffMs;
            log.debug("[{}] InitProducerId failed, retrying: {}", clientId, error.getMessage());
        }
    }

    /** Fails queued batches older than delivery.timeout.ms. */
    private void expireBatches(long now) {
        List<ProducerBatch> expired = accumulator.removeExpired(now, deliveryTimeoutMs);
        for (ProducerBatch b : expired) {
            failBatch(b, new TimeoutException("expiring " + b.recordCount() + " record(s) for " + b.tp + ": "
                    + (now - b.createdMs) + " ms has passed since batch creation (delivery.timeout.ms="
                    + deliveryTimeoutMs + ")"));
        }
    }

    private boolean mayDrain(ProducerIdState.PartitionSequences seq, ProducerBatch batch, BrokerAddress leader) {
        if (seq.inFlight.size() >= maxInFlight) {
            return false;
        }
        if (!ids.active()) {
            // Without sequence numbers the leader cannot put batches right that arrive out of
            // order. On a produce stream it appends them in the order sent, so up to max.in.flight
            // are pipelined; a retry goes alone once nothing is in flight. Unary calls keep no
            // order (gRPC starts calls queued while a channel connects on executor threads; HTTP/2
            // flow control interleaves streams): one batch per partition at a time.
            return seq.inFlight.isEmpty() || (batch.attempts == 0 && produceStreams.ordered(leader));
        }
        if (batch.hasSequence()) {
            // A retry: alone and in order, so the leader sees no gap.
            return seq.inFlight.isEmpty();
        }
        return true;
    }

    private int drainAndSend(long now) {
        MetadataSnapshot snapshot = metadata.snapshot();
        Map<BrokerAddress, List<ProducerBatch>> byBroker = new LinkedHashMap<>();
        Map<BrokerAddress, Integer> bytesByBroker = new HashMap<>();
        for (TopicPartition tp : accumulator.partitionsWithData()) {
            ProducerBatch batch = accumulator.peekSendable(tp, now);
            if (batch == null) {
                continue;
            }
            BrokerAddress leader = snapshot.leaderAddress(tp);
            if (leader == null) {
                metadata.requestUpdate();
                continue;
            }
            ProducerIdState.PartitionSequences seq = ids.partition(tp);
            if (!mayDrain(seq, batch, leader)) {
                continue;
            }
            int size = bytesByBroker.getOrDefault(leader, 0);
            if (size > 0 && size + batch.estimatedBytes() > maxRequestSize) {
                continue;
            }
            accumulator.poll(batch);
            int sequence = RecordBatch.NO_SEQUENCE;
            if (ids.active()) {
                sequence = batch.hasSequence() ? batch.baseSequence() : seq.nextSequence;
                if (!batch.hasSequence()) {
                    seq.nextSequence = RecordBatch.incrementSequence(seq.nextSequence, batch.recordCount());
                }
            }
            batch.bytes(ids.active() ? ids.producerId : RecordBatch.NO_PRODUCER_ID,
                    ids.active() ? ids.producerEpoch : RecordBatch.NO_PRODUCER_EPOCH, sequence);
            byBroker.computeIfAbsent(leader, k -> new ArrayList<>()).add(batch);
            bytesByBroker.put(leader, size + batch.estimatedBytes());
        }
        byBroker.forEach(this::send);
        return byBroker.size();
    }

    private void send(BrokerAddress broker, List<ProducerBatch> batches) {
        Map<String, TopicProduceData.Builder> topics = new LinkedHashMap<>();
        for (ProducerBatch b : batches) {
            ByteBuffer bytes = b.builtBytes();
            topics.computeIfAbsent(b.tp.topic(), n -> TopicProduceData.newBuilder().setName(n))
                    .addPartitions(PartitionProduceData.newBuilder().setPartition(b.tp.partition())
                            // A copy: gRPC may serialize the request later (a call started while its
                            // channel connects), and the batch's buffer goes back to the pool once it
                            // completes.
                            .setRecords(ByteString.copyFrom(bytes)));
            b.attempts++;
            b.everSent = true;
            if (b.sendOrder < 0) {
                b.sendOrder = nextSendOrder++;
            }
            b.expectedAtSend = ids.partition(b.tp).expectedSequence();
            if (acks != 0) {
                ids.partition(b.tp).inFlight.add(b);
            }
        }
        ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(acks).setTimeoutMs(requestTimeoutMs);
        topics.values().forEach(request::addTopics);
        var call = produceStreams.send(broker, request.build());
        if (acks == 0) {
            for (ProducerBatch b : batches) {
                completeBatch(b, -1, -1);
            }
            call.whenComplete((r, e) -> {
                if (e != null) {
                    log.debug("[{}] acks=0 produce to {} failed: {}", clientId, broker, e.toString());
                }
            });
            return;
        }
        call.whenComplete((response, error) -> {
            completions.add(new Completion(broker, batches, response, error));
            wakeup();
        });
    }

    private void processCompletions(long now) {
        Completion c;
        while ((c = completions.poll()) != null) {
            for (ProducerBatch b : c.batches()) {
                ids.partition(b.tp).inFlight.remove(b);
            }
            if (c.error() != null || c.response().getError().getCode() != ErrorCode.NONE) {
                RaftmqException e = c.error() != null ? Errors.fromThrowable(c.error())
                        : Errors.exception(c.response().getError());
                if (c.error() != null) {
                    metadata.requestUpdate();
                    log.debug("[{}] produce to {} failed: {}", clientId, c.broker(), e.getMessage());
                }
                for (ProducerBatch b : c.batches()) {
                    handleError(b, e.code(), e.getMessage(), -1, -1, now);
                }
                continue;
            }
            Map<TopicPartition, PartitionProduceResponse> answers = new HashMap<>();
            for (TopicProduceResponse t : c.response().getTopicsList()) {
                for (PartitionProduceResponse p : t.getPartitionsList()) {
                    answers.put(new TopicPartition(t.getName(), p.getPartition()), p);
                }
            }
            for (ProducerBatch b : c.batches()) {
                PartitionProduceResponse p = answers.get(b.tp);
                if (p == null) {
                    handleError(b, ErrorCode.NETWORK_EXCEPTION, "the answer from " + c.broker() + " did not mention "
                            + b.tp, -1, -1, now);
                    continue;
                }
                ErrorCode code = p.getError().getCode();
                if (code == ErrorCode.NONE || code == ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
                    if (ids.active() && b.hasSequence()) {
                        ProducerIdState.PartitionSequences seq = ids.partition(b.tp);
                        if (seq.lastAckedSequence < b.lastSequence()) {
                            seq.lastAckedSequence = b.lastSequence();
                        }
                    }
                    completeBatch(b, p.getBaseOffset(), p.getLogAppendTimeMs());
                } else {
                    handleError(b, code, p.getError().getMessage(), p.getCurrentLeader(), p.getCurrentLeaderEpoch(),
                            now);
                }
            }
        }
    }

    private void handleError(ProducerBatch b, ErrorCode code, String message, int leaderHint, int leaderEpochHint,
            long now) {
        if (b.isDone()) {
            return;
        }
        if (ids.active() && b.hasSequence()) {
            ProducerIdState.PartitionSequences seq = ids.partition(b.tp);
            if ((code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code == ErrorCode.UNKNOWN_PRODUCER_ID)
                    && (b.baseSequence() != b.expectedAtSend || b.baseSequence() != seq.expectedSequence())) {
                // An earlier batch of this partition was unanswered when this one was sent (it may have
                // reached the leader later, or failed): not this batch's fault, so retry in order. A
                // leader that has not seen the producer's first batch yet answers UNKNOWN_PRODUCER_ID.
                retry(b, now);
                return;
            }
            if (code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code == ErrorCode.UNKNOWN_PRODUCER_ID) {
                log.warn("[{}] {} for {} (sequence {}, expected {}); failing it and taking a new producer id",
                        clientId, code, b.tp, b.baseSequence(), seq.expectedSequence());
                failBatch(b, Errors.exception(code, message));
                return;
            }
        }
        if (code == ErrorCode.INVALID_PRODUCER_EPOCH) {
            ProducerFencedException fenced = new ProducerFencedException(code, "producer id " + ids.producerId
                    + " epoch " + ids.producerEpoch + " was fenced: " + message);
            fatalError = fenced;
            failBatch(b, fenced);
            return;
        }
        if (Errors.isRetriable(code)) {
            if (Errors.REFRESH_METADATA.contains(code)) {
                if (code == ErrorCode.NOT_LEADER_OR_FOLLOWER && leaderHint >= 0) {
                    metadata.leaderHint(b.tp, leaderHint, leaderEpochHint);
                } else {
                    metadata.requestUpdate();
                }
            }
            if (now - b.createdMs >= deliveryTimeoutMs) {
                failBatch(b, new TimeoutException(code, "expiring " + b.recordCount() + " record(s) for " + b.tp
                        + " after " + (now - b.createdMs) + " ms (delivery.timeout.ms); last error: " + message));
            } else if (b.attempts > retries) {
                failBatch(b, Errors.exception(code, message + " (gave up after " + b.attempts + " attempts)"));
            } else {
                retry(b, now);
            }
            return;
        }
        failBatch(b, Errors.exception(code, message));
    }

    private void retry(ProducerBatch b, long now) {
        if (now - b.createdMs >= deliveryTimeoutMs) {
            failBatch(b, new TimeoutException("expiring " + b.recordCount() + " record(s) for " + b.tp + " after "
                    + (now - b.createdMs) + " ms (delivery.timeout.ms)"));
            return;
        }
        b.retryAfterMs = now + retryBackoffMs;
        accumulator.reenqueue(b);
    }

    private void completeBatch(ProducerBatch b, long baseOffset, long logAppendTimeMs) {
        if (b.complete(baseOffset, logAppendTimeMs)) {
            accumulator.deallocate(b);
        }
    }

    private void failBatch(ProducerBatch b, RaftmqException e) {
        if (b.fail(e)) {
            accumulator.deallocate(b);
            if (ids.active() && b.hasSequence()) {
                // A sequence the leader may or may not have: start over with a new producer id.
                ids.requestReset();
            }
        }
    }
}
