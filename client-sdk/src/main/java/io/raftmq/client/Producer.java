package io.raftmq.client;

import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.RecordTooLargeException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records to raftmq, like Kafka's {@code KafkaProducer}. Thread-safe: share one producer
 * between threads.
 *
 * <p>{@link #send} serializes the record, chooses its partition (the record's, else murmur2 of the
 * key like Kafka, else a sticky partition that moves on when its batch closes), and appends it to
 * that partition's batch; a background I/O thread sends batches when they reach batch.size or have
 * waited linger.ms, one request per leader broker. send() blocks only to learn a new topic's
 * partitions or to wait for buffer.memory, at most max.block.ms in total; then the returned future
 * fails with {@link TimeoutException}. Retriable errors are retried within delivery.timeout.ms.
 *
 * <p>With enable.idempotence (the default; needs acks=all) each batch carries the producer id and
 * per-partition sequence numbers, so a retry after a lost answer is written once, and batches of a
 * partition are written in send order. Callbacks run on the I/O thread, in order per partition.
 */
public final class Producer<K, V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Producer.class);

    private final String clientId;
    private final Serializer<K> keySerializer;
    private final Serializer<V> valueSerializer;
    private final BrokerChannels channels;
    private final ClusterMetadata metadata;
    private final RecordAccumulator accumulator;
    private final Partitioner partitioner;
    private final Sender sender;
    private final Thread ioThread;
    private final LongSupplier clockMs;
    private final long maxBlockMs;
    private final int maxRequestSize;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    public Producer(ProducerConfig config, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this(config, keySerializer, valueSerializer, System::currentTimeMillis, new Random());
    }

    public Producer(Properties properties, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this(ProducerConfig.fromProperties(properties), keySerializer, valueSerializer);
    }

    /** Test seam: the clock and the sticky partitioner's random source. */
    Producer(ProducerConfig config, Serializer<K> keySerializer, Serializer<V> valueSerializer, LongSupplier clockMs,
            Random random) {
        String id = config.values.string(ProducerConfig.CLIENT_ID);
        this.clientId = id.isEmpty() ? "producer-" + UUID.randomUUID().toString().substring(0, 8) : id;
        this.keySerializer = keySerializer;
        this.valueSerializer = valueSerializer;
        this.clockMs = clockMs;
        this.maxBlockMs = config.values.longValue(ProducerConfig.MAX_BLOCK_MS);
        this.maxRequestSize = config.values.intValue(ProducerConfig.MAX_REQUEST_SIZE);
        this.channels = BrokerChannels.of(clientId, config.values);
        this.metadata = new ClusterMetadata(clientId, channels, config.bootstrap,
                config.values.intValue(ProducerConfig.REQUEST_TIMEOUT_MS),
                config.values.longValue(ProducerConfig.RETRY_BACKOFF_MS),
                config.values.longValue(CommonConfigs.METADATA_MAX_AGE_MS), clockMs);
        int batchSize = config.values.intValue(ProducerConfig.BATCH_SIZE);
        this.accumulator = new RecordAccumulator(batchSize, config.values.longValue(ProducerConfig.LINGER_MS),
                CompressionType.forName(config.values.string(ProducerConfig.COMPRESSION_TYPE)),
                new BufferPool(config.values.longValue(ProducerConfig.BUFFER_MEMORY), batchSize));
        this.partitioner = new Partitioner(random);
        this.sender = new Sender(clientId, config, metadata, channels, accumulator, clockMs);
        this.ioThread = new Thread(sender, "raftmq-producer-io-" + clientId);
        this.ioThread.setDaemon(true);
    }

    /** Sends a record; see {@link #send(ProducerRecord, Callback)}. */
    public Future<RecordMetadata> send(ProducerRecord<K, V> record) {
        return send(record, null);
    }

    /**
     * Sends a record asynchronously. The future (and the callback, if any) completes when the record
     * is acknowledged as acks asks, or fails with a {@link RaftmqException}: {@link TimeoutException}
     * when metadata or buffer memory was not available within max.block.ms or the record was not
     * delivered within delivery.timeout.ms, {@link RecordTooLargeException}, {@link
     * UnknownTopicException}, and others the broker reports.
     *
     * @throws IllegalStateException when the producer is closed
     * @throws InterruptException when the thread is interrupted while blocked
     */
    public Future<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback) {
        if (closed.get()) {
            throw new IllegalStateException("the producer " + clientId + " is closed; cannot send");
        }
        ensureStarted();
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        try {
            RaftmqException fatal = sender.fatalError;
            if (fatal != null) {
                throw fatal;
            }
            long now = clockMs.getAsLong();
            long deadline = now + maxBlockMs;
            MetadataSnapshot snapshot = metadata.awaitTopic(record.topic(), deadline);
            byte[] key = serialize(keySerializer, record.topic(), record.key(), "key");
            byte[] value = serialize(valueSerializer, record.topic(), record.value(), "value");
            List<io.raftmq.protocol.record.Header> headers = List.of();
            if (!record.headers().isEmpty()) {
                headers = new ArrayList<>(record.headers().size());
                for (Header h : record.headers()) {
                    headers.add(new io.raftmq.protocol.record.Header(h.key(), h.value()));
                }
            }
            int size = ProducerBatch.sizeOf(key, value, headers);
            if (size > maxRequestSize) {
                throw new RecordTooLargeException("the record is " + size + " bytes serialized, larger than"
                        + " max.request.size (" + maxRequestSize + ")");
            }
            Integer explicit = record.partition();
            if (explicit != null) {
                while (snapshot.partitionCount(record.topic()) <= explicit) {
                    if (clockMs.getAsLong() >= deadline) {
                        throw new TimeoutException("partition " + explicit + " of topic '" + record.topic()
                                + "' not present in metadata after " + maxBlockMs + " ms (the topic has "
                                + snapshot.partitionCount(record.topic()) + ")");
                    }
                    metadata.requestUpdate();
                    snapshot = metadata.refresh(deadline);
                }
            }
            long timestamp = record.timestamp() != null ? record.timestamp() : now;
            accumulator.pool().allocate(size, Math.max(0, deadline - clockMs.getAsLong()));
            ProducerBatch.PendingRecord pending = new ProducerBatch.PendingRecord(timestamp, key, value, headers,
                    callback, future);
            RecordAccumulator.AppendResult result;
            try {
                if (explicit != null || key != null) {
                    int p = explicit != null ? explicit
                            : Partitioner.partitionForKey(key, snapshot.partitionCount(record.topic()));
                    result = accumulator.append(new TopicPartition(record.topic(), p), pending, size, now, true);
                } else {
                    int p = partitioner.stickyPartition(record.topic(), snapshot);
                    result = accumulator.append(new TopicPartition(record.topic(), p), pending, size, now, false);
                    if (!result.appended()) {
                        // The sticky partition's batch is closed: move the topic to another partition.
                        p = partitioner.nextSticky(record.topic(), p, snapshot);
                        result = accumulator.append(new TopicPartition(record.topic(), p), pending, size, now, true);
                    }
                }
            } catch (RuntimeException e) {
                accumulator.pool().release(size);
                throw e;
            }
            if (result.newBatch()) {
                sender.wakeup();
            }
        } catch (InterruptException | IllegalStateException e) {
            throw e;
        } catch (RaftmqException e) {
            future.completeExceptionally(e);
            if (callback != null) {
                callback.onCompletion(null, e);
            }
        }
        return future;
    }

    private static <T> byte[] serialize(Serializer<T> serializer, String topic, T data, String what) {
        try {
            return serializer.serialize(topic, data);
        } catch (RaftmqException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RaftmqException(ErrorCode.INVALID_RECORD, "could not serialize the " + what + " for topic '"
                    + topic + "': " + e, e);
        }
    }

    /**
     * Sends every record sent before this call at once (ignoring linger.ms) and waits until each is
     * acknowledged or failed.
     */
    public void flush() {
        ensureStarted();
        accumulator.beginFlush();
        sender.wakeup();
        try {
            for (ProducerBatch b : accumulator.incompleteBatches()) {
                while (!b.await(1000)) {
                    if (!ioThread.isAlive()) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(ErrorCode.NONE, "interrupted during flush", e);
        } finally {
            accumulator.endFlush();
        }
    }

    /** The partitions of {@code topic} (waiting up to max.block.ms to learn them). */
    public List<TopicPartition> partitionsFor(String topic) {
        MetadataSnapshot s = metadata.awaitTopic(topic, clockMs.getAsLong() + maxBlockMs);
        List<TopicPartition> out = new ArrayList<>();
        for (int p = 0; p < s.partitionCount(topic); p++) {
            out.add(new TopicPartition(topic, p));
        }
        return out;
    }

    /** Sends everything accepted so far, waits for the answers, then releases the connections. */
    @Override
    public void close() {
        close(Duration.ofMillis(Long.MAX_VALUE));
    }

    /**
     * Like {@link #close()}, waiting at most {@code timeout}; records not delivered by then fail.
     * {@code Duration.ZERO} fails every pending record at once.
     */
    public void close(Duration timeout) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (started.get()) {
            sender.initiateClose();
            try {
                if (timeout.isZero()) {
                    sender.forceClose();
                }
                ioThread.join(Math.max(1, Math.min(timeout.toMillis(), Long.MAX_VALUE / 2)));
                if (ioThread.isAlive()) {
                    log.warn("[{}] records still unsent after waiting {} for close; failing them", clientId, timeout);
                    sender.forceClose();
                    ioThread.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                sender.forceClose();
            }
        }
        accumulator.pool().close();
        channels.close();
        log.debug("[{}] producer closed", clientId);
    }

    private void ensureStarted() {
        if (started.compareAndSet(false, true)) {
            ioThread.start();
        }
    }

    /** For tests: the connections (to inject faults). */
    BrokerChannels channels() {
        return channels;
    }

    /** For tests: the producer id in use (-1 without idempotence). */
    long producerId() {
        return sender.producerId();
    }
}
