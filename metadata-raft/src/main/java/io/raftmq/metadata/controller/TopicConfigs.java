package io.raftmq.metadata.controller;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The topic-level configs a topic may override, with Kafka's names, and how each value is checked.
 * An unknown key or a bad value is refused with INVALID_CONFIG naming the key. The log settings
 * among them are the keys of the storage module's LogConfig; the others are read by replication
 * (min.insync.replicas) and the controller (unclean.leader.election.enable).
 */
public final class TopicConfigs {
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String UNCLEAN_LEADER_ELECTION_ENABLE = "unclean.leader.election.enable";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";
    public static final String MESSAGE_TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String FLUSH_MODE = "flush.mode";
    public static final String FLUSH_INTERVAL_MS = "flush.interval.ms";
    public static final String FILE_DELETE_DELAY_MS = "file.delete.delay.ms";

    /**
     * Kafka 4's minimum for segment.bytes (1 MiB): smaller segments only multiply open files. Checked
     * when a command sets it; a topic whose record already holds less keeps it (replay checks nothing).
     */
    public static final long MIN_SEGMENT_BYTES = 1024 * 1024;
    /**
     * raftmq's minimum for segment.ms (Kafka accepts 1): an active segment younger than this is never
     * rolled for its age, so a topic written to continuously rolls at most one segment a minute
     * instead of one per append, which would run the broker out of file descriptors.
     */
    public static final long MIN_SEGMENT_MS = 60_000;

    /** key -> check that returns a problem description, or empty when the value is fine. */
    private static final Map<String, Function<String, Optional<String>>> CHECKS = new TreeMap<>(Map.ofEntries(
            Map.entry(CLEANUP_POLICY, v -> v.equals("delete") ? Optional.empty()
                    : Optional.of("only 'delete' is supported (log compaction is not)")),
            Map.entry(RETENTION_MS, v -> longAtLeast(v, -1, "-1 (keep forever)")),
            Map.entry(RETENTION_BYTES, v -> longAtLeast(v, -1, "-1 (no size limit)")),
            Map.entry(SEGMENT_BYTES, v -> longBetween(v, MIN_SEGMENT_BYTES, Integer.MAX_VALUE)),
            Map.entry(SEGMENT_MS, v -> longBetween(v, MIN_SEGMENT_MS, Long.MAX_VALUE)),
            Map.entry(MAX_MESSAGE_BYTES, v -> longBetween(v, 0, Integer.MAX_VALUE)),
            Map.entry(MIN_INSYNC_REPLICAS, v -> longBetween(v, 1, Integer.MAX_VALUE)),
            Map.entry(UNCLEAN_LEADER_ELECTION_ENABLE, v -> oneOf(v, List.of("true", "false"))),
            Map.entry(MESSAGE_TIMESTAMP_TYPE, v -> oneOf(v, List.of("CreateTime", "LogAppendTime"))),
            Map.entry(MESSAGE_TIMESTAMP_BEFORE_MAX_MS, v -> longBetween(v, 0, Long.MAX_VALUE)),
            Map.entry(MESSAGE_TIMESTAMP_AFTER_MAX_MS, v -> longBetween(v, 0, Long.MAX_VALUE)),
            // The broker stores batches as producers compressed them and never re-encodes them.
            Map.entry(COMPRESSION_TYPE, v -> v.equals("producer") ? Optional.empty()
                    : Optional.of("only 'producer' is supported: batches are stored as the producer compressed"
                            + " them; set compression.type on the producer")),
            Map.entry(INDEX_INTERVAL_BYTES, v -> longBetween(v, 0, Integer.MAX_VALUE)),
            Map.entry(FLUSH_MODE, v -> oneOf(v, List.of("group", "interval", "os"))),
            Map.entry(FLUSH_INTERVAL_MS, v -> longBetween(v, 1, Long.MAX_VALUE)),
            Map.entry(FILE_DELETE_DELAY_MS, v -> longBetween(v, 0, Long.MAX_VALUE))));

    private TopicConfigs() {}

    public static boolean isKnown(String key) {
        return CHECKS.containsKey(key);
    }

    /** Every key a topic may override, sorted. */
    public static List<String> keys() {
        return List.copyOf(CHECKS.keySet());
    }

    /** {@link ApiError#NONE}, or INVALID_CONFIG naming the key and the problem. */
    public static ApiError validate(String key, String value) {
        Function<String, Optional<String>> check = CHECKS.get(key);
        if (check == null) {
            return ApiError.of(ErrorCode.INVALID_CONFIG, "unknown topic config '%s'; known configs are %s", key, keys());
        }
        if (value == null) {
            return ApiError.of(ErrorCode.INVALID_CONFIG, "config %s has no value", key);
        }
        return check.apply(value)
                .map(problem -> ApiError.of(ErrorCode.INVALID_CONFIG, "invalid value '%s' for config %s: %s",
                        value, key, problem))
                .orElse(ApiError.NONE);
    }

    /**
     * Checks that min.insync.replicas (if set) does not exceed the replication factor: acks=all
     * writes could never succeed.
     */
    public static ApiError validateAgainstReplicationFactor(Map<String, String> configs, int replicationFactor) {
        String minIsr = configs.get(MIN_INSYNC_REPLICAS);
        if (minIsr != null && Long.parseLong(minIsr) > replicationFactor) {
            return ApiError.of(ErrorCode.INVALID_CONFIG,
                    "min.insync.replicas=%s is larger than the replication factor %d: acks=all writes could never"
                            + " succeed", minIsr, replicationFactor);
        }
        return ApiError.NONE;
    }

    private static Optional<String> longAtLeast(String value, long min, String minMeaning) {
        try {
            long v = Long.parseLong(value);
            return v >= min ? Optional.empty() : Optional.of("must be at least " + minMeaning);
        } catch (NumberFormatException e) {
            return Optional.of("not a whole number");
        }
    }

    private static Optional<String> longBetween(String value, long min, long max) {
        try {
            long v = Long.parseLong(value);
            return v >= min && v <= max ? Optional.empty()
                    : Optional.of("must be between " + min + " and " + max);
        } catch (NumberFormatException e) {
            return Optional.of("not a whole number");
        }
    }

    private static Optional<String> oneOf(String value, List<String> allowed) {
        return allowed.contains(value) ? Optional.empty() : Optional.of("must be one of " + allowed);
    }
}
