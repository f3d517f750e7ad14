package io.raftmq.storage;

import io.raftmq.protocol.TopicPartition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
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
 * applies retention periodically, creates and deletes logs as the broker's assignments change,
 * and deletes stray logs (of topics deleted while the broker was down) once the broker has caught
 * up with metadata.
 *
 * <p>Directory changes are durable before they count: a new partition directory and a rename to
 * {@code <topic>-<partition>.<uuid>-delete} are followed by an fsync of the logs directory.
 *
 * <p>Thread-safety: the map of logs is concurrent; create and delete are synchronized on this;
 * the retention task runs on the environment's scheduler.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);
    static final String PARTITION_METADATA = "partition.metadata";
    private static final String DELETE_SUFFIX = "-delete";
    /** The longest file name most file systems (ext4, xfs, tmpfs) allow. */
    static final int MAX_FILE_NAME_BYTES = 255;

    private final Path logsDir;
    private final LogEnvironment env;
    private final Map<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, UUID> topicIds = new ConcurrentHashMap<>();
    private volatile ToLongFunction<TopicPartition> highWatermarks = tp -> 0;
    private ScheduledFuture<?> retention;

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
        if (!Files.isDirectory(logsDir)) {
            Files.createDirectories(logsDir);
            Checkpoints.syncDirectory(logsDir.toAbsolutePath().getParent(), env.files());
        }
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

    /** Where retention reads each partition's high watermark (it never deletes past it). */
    public void setHighWatermarks(ToLongFunction<TopicPartition> highWatermarks) {
        this.highWatermarks = highWatermarks;
    }

    /** The directory that holds one sub-directory per partition log. */
    public Path dir() {
        return logsDir;
    }

    /** The log of a partition, or null. */
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
     * topic of the same name (open, or a directory on disk whose {@code partition.metadata} names
     * another topic id or none) is deleted first: a log is never adopted by another topic. An I/O
     * error is reported to the environment's offline listener before it is thrown.
     */
    public synchronized PartitionLog getOrCreate(TopicPartition tp, UUID topicId, LogConfig config)
            throws IOException {
        PartitionLog existing = logs.get(tp);
        if (existing != null && topicId.equals(topicIds.get(tp))) {
            return existing;
        }
        Path dir = logsDir.resolve(tp.toString());
        try {
            if (existing != null) {
                LOG.info("[logs] {} holds the log of an older topic {}; deleting it for topic {}", tp,
                        topicIds.get(tp), topicId);
                delete(tp);
            }
            return create(tp, topicId, config, dir);
        } catch (IOException e) {
            // As an I/O error on an open log does: the data directory failed.
            env.offlineListener().onOffline(dir, e);
            throw e;
        }
    }

    private PartitionLog create(TopicPartition tp, UUID topicId, LogConfig config, Path dir) throws IOException {
        if (Files.exists(dir)) {
            UUID onDisk = readTopicIdQuietly(dir);
            if (!topicId.equals(onDisk)) {
                LOG.info("[logs] {} on disk belongs to topic {}, not {}; deleting it", dir, onDisk, topicId);
                deleteDir(dir, tp);
            }
        }
        if (!Files.exists(dir)) {
            Files.createDirectories(dir);
            Checkpoints.syncDirectory(logsDir, env.files());
        }
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
        deleteDir(log.dir(), tp);
        LOG.info("[logs] deleted the log of {}", tp);
    }

    /**
     * Deletes every open log that {@code assigned} does not name with the same topic id: logs of
     * topics deleted, or of replicas moved away, while this broker was down (Kafka's stray logs).
     * Call once the broker has caught up with metadata, with every partition it holds a replica
     * of; returns the partitions whose logs went.
     */
    public synchronized List<TopicPartition> deleteStrayLogs(Map<TopicPartition, UUID> assigned) {
        List<TopicPartition> stray = new ArrayList<>();
        for (Map.Entry<TopicPartition, UUID> entry : Map.copyOf(topicIds).entrySet()) {
            if (!entry.getValue().equals(assigned.get(entry.getKey()))) {
                stray.add(entry.getKey());
            }
        }
        for (TopicPartition tp : stray) {
            LOG.info("[logs] {} (topic id {}) is not assigned to this broker in the metadata; deleting the stray"
                    + " log", tp, topicIds.get(tp));
            try {
                delete(tp);
            } catch (IOException e) {
                LOG.error("[logs] could not delete the stray log of {}: {}", tp, e.toString());
            }
        }
        return stray;
    }

    /**
     * Renames {@code dir} to a unique {@code -delete} name (durably: the directory is fsynced), so
     * that no later log of the same partition can see its files, then removes it in the
     * background; a stop before that finishes leaves a name {@link #startup} removes.
     */
    private void deleteDir(Path dir, TopicPartition tp) throws IOException {
        Path doomed = logsDir.resolve(deleteDirName(tp, UUID.randomUUID()));
        Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        Checkpoints.syncDirectory(logsDir, env.files());
        env.scheduler().execute(() -> {
            try {
                deleteTree(doomed);
            } catch (IOException e) {
                LOG.warn("[logs] could not delete {}: {}", doomed, e.toString());
            }
        });
    }

    /**
     * {@code <topic>-<partition>.<uuid>-delete}, with the topic cut short so that the name fits in
     * {@link #MAX_FILE_NAME_BYTES} (topic names are ASCII, up to 249 characters), as Kafka names
     * them.
     */
    static String deleteDirName(TopicPartition tp, UUID unique) {
        String suffix = "-" + tp.partition() + "." + unique.toString().replace("-", "") + DELETE_SUFFIX;
        String topic = tp.topic();
        return topic.substring(0, Math.min(topic.length(), MAX_FILE_NAME_BYTES - suffix.length())) + suffix;
    }

    /** Runs retention on every log now (also scheduled). */
    public void applyRetention() {
        for (Map.Entry<TopicPartition, PartitionLog> entry : logs.entrySet()) {
            PartitionLog log = entry.getValue();
            if (log.isOffline()) {
                continue;
            }
            try {
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

    /** The topic id in a directory's partition.metadata; null when missing or unreadable. */
    private static UUID readTopicIdQuietly(Path dir) {
        try {
            return readTopicId(dir);
        } catch (IOException | IllegalArgumentException e) {
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
