package io.raftmq.storage;

import io.raftmq.protocol.TopicPartition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition logs of one broker, each in {@code <logsDir>/<topic>-<partition>} with a {@code
 * partition.metadata} file naming the topic id (so that a topic deleted and created again under
 * the same name never reuses the old log). Loads (recovering if need be) every log at start,
 * applies retention periodically, creates and deletes logs as the broker's assignments change.
 *
 * <p>Thread-safety: the map of logs is concurrent; create and delete are synchronized on this;
 * the retention task runs on the environment's scheduler.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);
    static final String PARTITION_METADATA = "partition.metadata";
    private static final String DELETE_SUFFIX = "-delete";
    /** Kafka's default producer.id.expiration.ms: one day. */
    public static final long DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000L;

    private final Path logsDir;
    private final LogEnvironment env;
    private final Map<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, UUID> topicIds = new ConcurrentHashMap<>();
    private volatile ToLongFunction<TopicPartition> highWatermarks = tp -> 0;
    private ScheduledFuture<?> retention;
    private volatile long producerIdExpirationMs = DEFAULT_PRODUCER_ID_EXPIRATION_MS;

    public LogManager(Path logsDir, LogEnvironment env) {
        this.logsDir = logsDir;
        this.env = env;
    }

    /**
     * Loads every partition log under the logs directory with {@code configFor} (recovering after
     * an unclean stop), and schedules retention every {@code retentionCheckIntervalMs}.
     */
    public synchronized void startup(java.util.function.Function<TopicPartition, LogConfig> configFor,
            long retentionCheckIntervalMs) throws IOException {
        Files.createDirectories(logsDir);
        List<Path> dirs;
        try (Stream<Path> list = Files.list(logsDir)) {
            dirs = list.filter(Files::isDirectory).toList();
        }
        for (Path dir : dirs) {
            String name = dir.getFileName().toString();
            if (name.endsWith(DELETE_SUFFIX)) {
                deleteTree(dir); // a delete interrupted by a stop
                continue;
            }
            TopicPartition tp = parse(name);
            UUID topicId = readTopicId(dir);
            if (tp == null || topicId == null) {
                LOG.warn("[logs] ignoring {}: not a partition log directory", dir);
                continue;
            }
            logs.put(tp, PartitionLog.open(dir, configFor.apply(tp), env));
            topicIds.put(tp, topicId);
        }
        LOG.info("[logs] loaded {} partition logs from {}", logs.size(), logsDir.toAbsolutePath());
        if (retentionCheckIntervalMs > 0) {
            retention = env.scheduler().scheduleWithFixedDelay(this::applyRetention, retentionCheckIntervalMs,
                    retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * producer.id.expiration.ms: each retention pass also forgets the producers of every log whose
     * last batch is this old ({@link PartitionLog#removeExpiredProducers}).
     */
    public void setProducerIdExpirationMs(long producerIdExpirationMs) {
        this.producerIdExpirationMs = producerIdExpirationMs;
    }

    /** Where retention reads each partition's high watermark (it never deletes past it). */
    public void setHighWatermarks(ToLongFunction<TopicPartition> highWatermarks) {
        this.highWatermarks = highWatermarks;
    }

    /** The log of a partition, or null. */
    /** The directory that holds one sub-directory per partition log. */
    public Path dir() {
        return logsDir;
    }

    public PartitionLog get(TopicPartition tp) {
        return logs.get(tp);
    }

    /** The topic id a log was created for, or null. */
    public UUID topicId(TopicPartition tp) {
        return topicIds.get(tp);
    }

    public Map<TopicPartition, PartitionLog> logs() {
        return Map.copyOf(logs);
    }

    /**
     * The log of {@code tp} for topic {@code topicId}, created if need be. A log left by an older
     * topic of the same name is deleted first.
     */
    public synchronized PartitionLog getOrCreate(TopicPartition tp, UUID topicId, LogConfig config)
            throws IOException {
        PartitionLog existing = logs.get(tp);
        if (existing != null) {
            if (topicId.equals(topicIds.get(tp))) {
                return existing;
            }
            LOG.info("[logs] {} holds the log of an older topic {}; deleting it for topic {}", tp,
                    topicIds.get(tp), topicId);
            delete(tp);
        }
        Path dir = logsDir.resolve(tp.toString());
        Files.createDirectories(dir);
        Checkpoints.writeAtomically(dir.resolve(PARTITION_METADATA),
                ByteBuffer.wrap(("version: 0\ntopic_id: " + topicId + "\n").getBytes(StandardCharsets.UTF_8)), true);
        PartitionLog log = PartitionLog.open(dir, config, env);
        logs.put(tp, log);
        topicIds.put(tp, topicId);
        LOG.info("[logs] created the log of {} (topic id {})", tp, topicId);
        return log;
    }

    /** Closes and deletes the log of {@code tp} (the topic was deleted, or the replica moved). */
    public synchronized void delete(TopicPartition tp) throws IOException {
        PartitionLog log = logs.remove(tp);
        topicIds.remove(tp);
        if (log == null) {
            return;
        }
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("[logs] closing {} before deleting it: {}", tp, e.toString());
        }
        Path doomed = log.dir().resolveSibling(log.dir().getFileName() + "." + UUID.randomUUID() + DELETE_SUFFIX);
        Files.move(log.dir(), doomed);
        env.scheduler().execute(() -> {
            try {
                deleteTree(doomed);
            } catch (IOException e) {
                LOG.warn("[logs] could not delete {}: {}", doomed, e.toString());
            }
        });
        LOG.info("[logs] deleted the log of {}", tp);
    }

    /** Runs retention on every log now (also scheduled). */
    public void applyRetention() {
        for (Map.Entry<TopicPartition, PartitionLog> entry : logs.entrySet()) {
            PartitionLog log = entry.getValue();
            if (log.isOffline()) {
                continue;
            }
            try {
                log.removeExpiredProducers(producerIdExpirationMs);
                log.deleteOldSegments(highWatermarks.applyAsLong(entry.getKey()));
            } catch (IOException e) {
                // The log took itself offline and reported it.
            } catch (RuntimeException e) {
                LOG.error("[logs] retention of {} failed", entry.getKey(), e);
            }
        }
    }

    /** Closes every log cleanly. */
    @Override
    public synchronized void close() {
        if (retention != null) {
            retention.cancel(false);
        }
        Map<TopicPartition, PartitionLog> all = new HashMap<>(logs);
        for (Map.Entry<TopicPartition, PartitionLog> entry : all.entrySet()) {
            try {
                entry.getValue().close();
            } catch (IOException e) {
                LOG.warn("[logs] closing {}: {}", entry.getKey(), e.toString());
            }
        }
        logs.clear();
    }

    private static TopicPartition parse(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return null;
        }
        try {
            return new TopicPartition(name.substring(0, dash), Integer.parseInt(name.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static UUID readTopicId(Path dir) throws IOException {
        Path file = dir.resolve(PARTITION_METADATA);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("topic_id:")) {
                return UUID.fromString(line.substring("topic_id:".length()).trim());
            }
        }
        return null;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
