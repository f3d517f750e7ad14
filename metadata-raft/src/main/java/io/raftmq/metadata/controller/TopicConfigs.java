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
 * An unknown key or a bad value is refused with INVALID_CONFIG naming the key.
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
    public static final String COMPRESSION_TYPE = "compression.type";

    /** key -> check that returns a problem description, or empty when the value is fine. */
    private static final Map<String, Function<String, Optional<String>>> CHECKS = new TreeMap<>(Map.of(
            CLEANUP_POLICY, v -> v.equals("delete") ? Optional.empty()
                    : Optional.of("only 'delete' is supported (log compaction is not)"),
            RETENTION_MS, v -> longAtLeast(v, -1, "-1 (keep forever)"),
            RETENTION_BYTES, v -> longAtLeast(v, -1, "-1 (no size limit)"),
            SEGMENT_BYTES, v -> longBetween(v, 1024, Integer.MAX_VALUE),
            SEGMENT_MS, v -> longBetween(v, 1, Long.MAX_VALUE),
            MAX_MESSAGE_BYTES, v -> longBetween(v, 0, Integer.MAX_VALUE),
            MIN_INSYNC_REPLICAS, v -> longBetween(v, 1, Integer.MAX_VALUE),
            UNCLEAN_LEADER_ELECTION_ENABLE, v -> oneOf(v, List.of("true", "false")),
            MESSAGE_TIMESTAMP_TYPE, v -> oneOf(v, List.of("CreateTime", "LogAppendTime")),
            COMPRESSION_TYPE, v -> oneOf(v, List.of("producer", "uncompressed", "gzip", "lz4", "zstd"))));

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
