package io.raftmq.client;

import io.raftmq.client.errors.OffsetOutOfRangeException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.protocol.broker.FetchPartition;
import io.raftmq.protocol.broker.FetchRequest;
import io.raftmq.protocol.broker.FetchResponse;
import io.raftmq.protocol.broker.FetchTopic;
import io.raftmq.protocol.broker.FetchableTopicResponse;
import io.raftmq.protocol.broker.FetchablePartitionResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches for the consumer: at most one Fetch in flight per leader broker (identified by request,
 * so that a late answer never frees its successor), covering every assigned partition it leads that
 * has a position and fewer than {@code max.partition.fetch.bytes} of buffered records; answers are
 * read by the gRPC thread that receives them ({@link FetchDecoder}: batches checked, keys and
 * values copied, and deserialized there too when the deserializers are the SDK's own), queued, and
 * buffered on the consumer's thread, which runs user deserializers. A partition with buffered
 * records is fetched from just after the last of them (a prefetch), so the next answer is on its
 * way while the application works through the current one. And the next fetch does not wait for an
 * answer to be read: the gRPC thread first queues where each partition continues ({@link Arrived}:
 * after the answer's last complete batch, from the batch headers), the consumer's thread frees the
 * broker and sends the next fetch from there, and the records follow once read (a partition may
 * then hold its buffer, the answer being read and the one in flight: up to about three times {@code
 * max.partition.fetch.bytes}). Records below the fetch offset (the head of a batch that starts
 * earlier) are skipped, and an answer for an offset that is no longer the partition's next fetch
 * offset (after a seek or a rebalance) is dropped, so poll never returns a record twice or out of
 * order. Leader errors refresh metadata and retry from the same offset.
 *
 * <p>Owned by the consumer's thread except {@link #completed}, which gRPC threads append to.
 */
final class Fetcher<K, V> {
    private static final Logger log = LoggerFactory.getLogger(Fetcher.class);

    /**
     * Queued by the gRPC thread as soon as an answer arrives, before it reads the records: where each
     * partition with records continues, so that the next fetch travels while this answer is read.
     */
    record Arrived(BrokerAddress broker, Map<TopicPartition, Long> offsets, Map<TopicPartition, Long> next) {}

    /** The next fetch offset of a partition taken from an answer still being read. */
    private record Early(Map<TopicPartition, Long> request, long next) {}

    /** One answer (or failure) for one request, its records decoded on the gRPC thread. */
    record Completed<K, V>(BrokerAddress broker, Map<TopicPartition, Long> offsets, FetchResponse response,
            Throwable error, Map<TopicPartition, FetchDecoder.Decoded<K, V>> decoded) {}

    private final String clientId;
    private final ClusterMetadata metadata;
    private final BrokerChannels channels;
    private final SubscriptionState subscriptions;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final FetchDecoder<K, V> decoder;
    private final int minBytes;
    private final int maxWaitMs;
    private final int maxBytes;
    private final int partitionMaxBytes;
    private final int requestTimeoutMs;
    private final long retryBackoffMs;
    final LinkedBlockingQueue<Object> completed = new LinkedBlockingQueue<>();
    /** The request (its offsets map, by identity) in flight to each broker. */
    private final Map<BrokerAddress, Map<TopicPartition, Long>> inFlight = new HashMap<>();
    /** The request (its offsets map, by identity) in flight for each partition. */
    private final Map<TopicPartition, Map<TopicPartition, Long>> inFlightPartitions = new HashMap<>();
    /**
     * Partitions whose answer has arrived and is being read on the gRPC thread: where the next fetch
     * starts (after the answer's last complete batch), and which request it came from.
     */
    private final Map<TopicPartition, Early> earlyNext = new HashMap<>();
    private final Map<BrokerAddress, Long> backoffUntil = new HashMap<>();
    private final Map<TopicPartition, Buffered<K, V>> buffered = new LinkedHashMap<>();

    /**
     * Decoded records of one partition not yet returned by poll: the lists as answers brought them
     * (offset order, each after the one before), read from {@code head} in the first; taken whole
     * or as sublists, never record by record. Their key and value bytes are counted per list; a
     * list partly taken counts in proportion to what is left of it.
     */
    private static final class Buffered<K, V> {
        private record Chunk<K, V>(List<ConsumerRecord<K, V>> records, long bytes) {}

        final ArrayDeque<Chunk<K, V>> chunks = new ArrayDeque<>();
        /** Index of the first record not yet taken in the first chunk. */
        int head;
        /** Bytes of every chunk in {@code chunks}, taken records of the first included. */
        private long chunkBytes;

        void add(List<ConsumerRecord<K, V>> records, long bytes) {
            if (!records.isEmpty()) {
                chunks.add(new Chunk<>(records, bytes));
                chunkBytes += bytes;
            }
        }

        boolean isEmpty() {
            return chunks.isEmpty();
        }

        List<ConsumerRecord<K, V>> first() {
            return chunks.getFirst().records();
        }

        /** Drops the first chunk (all of it taken). */
        void removeFirst() {
            chunkBytes -= chunks.removeFirst().bytes();
            head = 0;
        }

        long bytes() {
            Chunk<K, V> first = chunks.peekFirst();
            return first == null ? 0 : chunkBytes - first.bytes() * head / first.records().size();
        }

        ConsumerRecord<K, V> last() {
            Chunk<K, V> chunk = chunks.peekLast();
            return chunk == null ? null : chunk.records().get(chunk.records().size() - 1);
        }

        void clear() {
            chunks.clear();
            head = 0;
            chunkBytes = 0;
        }
    }

    Fetcher(String clientId, ConsumerConfig config, ClusterMetadata metadata, BrokerChannels channels,
            SubscriptionState subscriptions, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.clientId = clientId;
        this.metadata = metadata;
        this.channels = channels;
        this.subscriptions = subscriptions;
        this.keyDeserializer = keyDeserializer;
        this.valueDeserializer = valueDeserializer;
        this.decoder = new FetchDecoder<>(keyDeserializer, valueDeserializer);
        this.minBytes = config.values.intValue(ConsumerConfig.FETCH_MIN_BYTES);
        this.maxWaitMs = config.values.intValue(ConsumerConfig.FETCH_MAX_WAIT_MS);
        this.maxBytes = config.values.intValue(ConsumerConfig.FETCH_MAX_BYTES);
        this.partitionMaxBytes = config.values.intValue(ConsumerConfig.MAX_PARTITION_FETCH_BYTES);
        this.requestTimeoutMs = config.values.intValue(ConsumerConfig.REQUEST_TIMEOUT_MS);
        this.retryBackoffMs = config.values.longValue(ConsumerConfig.RETRY_BACKOFF_MS);
    }

    /** Sends a fetch to every leader that has none in flight and partitions to fetch. */
    void sendFetches(long nowMs) {
        MetadataSnapshot snapshot = metadata.snapshot();
        Map<BrokerAddress, Map<TopicPartition, Long>> byLeader = new LinkedHashMap<>();
        for (TopicPartition tp : subscriptions.assignment()) {
            SubscriptionState.PartitionState s = subscriptions.state(tp);
            if (!s.hasPosition() || inFlightPartitions.containsKey(tp) || bufferedBytes(tp) >= partitionMaxBytes) {
                continue;
            }
            BrokerAddress leader = snapshot.leaderAddress(tp);
            if (leader == null) {
                metadata.addTopics(List.of(tp.topic()));
                metadata.requestUpdate();
                continue;
            }
            if (inFlight.containsKey(leader) || backoffUntil.getOrDefault(leader, 0L) > nowMs) {
                continue;
            }
            Early early = earlyNext.get(tp);
            byLeader.computeIfAbsent(leader, k -> new LinkedHashMap<>())
                    .put(tp, early != null ? early.next() : nextFetchOffset(tp, s));
        }
        byLeader.forEach((leader, offsets) -> {
            Map<String, FetchTopic.Builder> topics = new LinkedHashMap<>();
            offsets.forEach((tp, offset) -> {
                MetadataSnapshot.PartitionState p = snapshot.partition(tp);
                topics.computeIfAbsent(tp.topic(), n -> FetchTopic.newBuilder().setName(n))
                        .addPartitions(FetchPartition.newBuilder().setPartition(tp.partition()).setFetchOffset(offset)
                                .setPartitionMaxBytes(partitionMaxBytes)
                                .setCurrentLeaderEpoch(p == null ? -1 : p.leaderEpoch()));
            });
            FetchRequest.Builder request = FetchRequest.newBuilder().setMaxWaitMs(maxWaitMs).setMinBytes(minBytes)
                    .setMaxBytes(maxBytes);
            topics.values().forEach(request::addTopics);
            inFlight.put(leader, offsets);
            offsets.keySet().forEach(tp -> inFlightPartitions.put(tp, offsets));
            BrokerChannels.toCompletable(channels.broker(leader, requestTimeoutMs + (long) maxWaitMs)
                    .fetch(request.build()))
                    .whenComplete((r, e) -> {
                        if (r != null) {
                            Map<TopicPartition, Long> next = FetchDecoder.nextOffsets(r, offsets);
                            if (!next.isEmpty()) {
                                completed.add(new Arrived(leader, offsets, next));
                            }
                        }
                        completed.add(new Completed<>(leader, offsets, r, e,
                                r == null ? Map.of() : decoder.decodeAll(r, offsets)));
                    });
        });
    }

    private long bufferedBytes(TopicPartition tp) {
        Buffered<K, V> b = buffered.get(tp);
        return b == null ? 0 : b.bytes();
    }

    /** Just after the last buffered record of the partition, or its position when none is buffered. */
    private long nextFetchOffset(TopicPartition tp, SubscriptionState.PartitionState s) {
        Buffered<K, V> b = buffered.get(tp);
        ConsumerRecord<K, V> last = b == null ? null : b.last();
        return last == null ? s.position : last.offset() + 1;
    }

    /** Waits up to {@code timeoutMs} for an answer; returns the answer, a wakeup token, or null. */
    Object awaitCompleted(long timeoutMs) throws InterruptedException {
        return completed.poll(Math.max(0, timeoutMs), TimeUnit.MILLISECONDS);
    }

    /**
     * An answer arrived (its records are still being read): its broker may take the next fetch now,
     * and each partition it brought records for is fetched next from after them.
     */
    void arrived(Arrived a) {
        inFlight.remove(a.broker(), a.offsets());
        a.next().forEach((tp, next) -> {
            if (inFlightPartitions.remove(tp, a.offsets())) {
                earlyNext.put(tp, new Early(a.offsets(), next));
            }
        });
    }

    /**
     * Decodes one answer into buffered records.
     *
     * @throws OffsetOutOfRangeException when a position is out of range and auto.offset.reset is none
     */
    void handle(Completed<K, V> c, long nowMs, SubscriptionState.Reset resetPolicy) {
        inFlight.remove(c.broker(), c.offsets());
        for (TopicPartition tp : c.offsets().keySet()) {
            inFlightPartitions.remove(tp, c.offsets());
            Early early = earlyNext.get(tp);
            if (early != null && early.request() == c.offsets()) {
                earlyNext.remove(tp);
            }
        }
        if (c.error() != null || c.response().getError().getCode() != ErrorCode.NONE) {
            RaftmqException e = c.error() != null ? Errors.fromThrowable(c.error())
                    : Errors.exception(c.response().getError());
            log.debug("[{}] fetch from {} failed: {}", clientId, c.broker(), e.getMessage());
            metadata.requestUpdate();
            backoffUntil.put(c.broker(), nowMs + retryBackoffMs);
            return;
        }
        for (FetchableTopicResponse t : c.response().getTopicsList()) {
            for (FetchablePartitionResponse p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                Long fetchedAt = c.offsets().get(tp);
                if (fetchedAt == null || !subscriptions.isAssigned(tp)) {
                    continue;
                }
                SubscriptionState.PartitionState s = subscriptions.state(tp);
                if (!s.hasPosition() || nextFetchOffset(tp, s) != fetchedAt) {
                    continue; // seek or reset since the request: stale
                }
                ErrorCode code = p.getError().getCode();
                if (code == ErrorCode.NONE) {
                    FetchDecoder.Decoded<K, V> d = c.decoded().getOrDefault(tp, FetchDecoder.Decoded.none());
                    if (d.error() != null) {
                        throw d.error();
                    }
                    buffer(tp, d);
                } else if (code == ErrorCode.OFFSET_OUT_OF_RANGE && fetchedAt != s.position) {
                    // A prefetch past buffered records: decided once they are consumed and the
                    // partition is fetched from its position again.
                    backoffUntil.put(c.broker(), nowMs + retryBackoffMs);
                } else if (code == ErrorCode.OFFSET_OUT_OF_RANGE) {
                    if (resetPolicy == SubscriptionState.Reset.NONE) {
                        throw new OffsetOutOfRangeException("fetch position " + s.position + " of " + tp + " is out"
                                + " of range (log start " + p.getLogStartOffset() + ", high watermark "
                                + p.getHighWatermark() + ") and auto.offset.reset is none");
                    }
                    log.info("[{}] position {} of {} is out of range; resetting to {}", clientId, s.position, tp,
                            resetPolicy);
                    s.reset = resetPolicy;
                } else if (code == ErrorCode.NOT_LEADER_OR_FOLLOWER && p.getCurrentLeader() >= 0) {
                    metadata.leaderHint(tp, p.getCurrentLeader(), p.getCurrentLeaderEpoch());
                } else if (Errors.isRetriable(code)) {
                    metadata.requestUpdate();
                } else {
                    throw Errors.exception(p.getError());
                }
            }
        }
    }

    /**
     * Adds one partition's decoded records to its buffer, deserializing those the decoder left raw
     * (the consumer's thread: user deserializers run here). A deserializer that throws leaves the
     * records before its record buffered and the rest of the answer dropped; they are fetched again.
     */
    private void buffer(TopicPartition tp, FetchDecoder.Decoded<K, V> records) {
        Buffered<K, V> out = buffered.computeIfAbsent(tp, k -> new Buffered<>());
        out.add(records.ready(), records.readyBytes());
        if (records.raw().isEmpty()) {
            return;
        }
        List<ConsumerRecord<K, V>> deserialized = new ArrayList<>(records.raw().size());
        long deserializedBytes = 0;
        try {
            for (FetchDecoder.RawRecord r : records.raw()) {
                deserialized.add(r.deserialize(tp, keyDeserializer, valueDeserializer));
                deserializedBytes += r.bytes();
            }
        } finally {
            out.add(deserialized, deserializedBytes);
        }
    }

    /** Takes up to {@code max} buffered records, advancing each partition's position past them. */
    Map<TopicPartition, List<ConsumerRecord<K, V>>> drain(int max) {
        Map<TopicPartition, List<ConsumerRecord<K, V>>> out = new LinkedHashMap<>();
        int left = max;
        for (Map.Entry<TopicPartition, Buffered<K, V>> e : buffered.entrySet()) {
            if (left == 0) {
                break;
            }
            TopicPartition tp = e.getKey();
            Buffered<K, V> b = e.getValue();
            if (b.isEmpty() || !subscriptions.isAssigned(tp)) {
                b.clear();
                continue;
            }
            SubscriptionState.PartitionState s = subscriptions.state(tp);
            List<ConsumerRecord<K, V>> taken = null;
            boolean takenIsOwnCopy = false;
            while (left > 0 && !b.isEmpty()) {
                List<ConsumerRecord<K, V>> chunk = b.first();
                int from = b.head;
                int end = chunk.size();
                // Records below the position (a seek forward, a batch fetched from its middle).
                while (from < end && (!s.hasPosition() || chunk.get(from).offset() < s.position)) {
                    from++;
                }
                int to = Math.min(end, from + left);
                if (to > from) {
                    List<ConsumerRecord<K, V>> part = from == 0 && to == end ? chunk : chunk.subList(from, to);
                    if (taken == null) {
                        taken = part;
                    } else {
                        if (!takenIsOwnCopy) {
                            taken = new ArrayList<>(taken);
                            takenIsOwnCopy = true;
                        }
                        taken.addAll(part);
                    }
                    ConsumerRecord<K, V> last = chunk.get(to - 1);
                    s.position = last.offset() + 1;
                    s.lastEpoch = last.leaderEpoch().orElse(-1);
                    left -= to - from;
                }
                if (to == end) {
                    b.removeFirst();
                } else {
                    b.head = to;
                }
            }
            if (taken != null) {
                out.put(tp, taken);
            }
        }
        // Rotate so that one busy partition does not starve the others.
        if (!out.isEmpty()) {
            TopicPartition first = buffered.keySet().iterator().next();
            buffered.put(first, buffered.remove(first));
        }
        return out;
    }

    /** Drops buffered records of partitions no longer assigned or whose position moved (seek). */
    void clearBuffered(TopicPartition tp) {
        buffered.remove(tp);
        earlyNext.remove(tp);
    }

    void clearAllBuffered() {
        buffered.clear();
        earlyNext.clear();
    }
}
