package io.raftmq.storage;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigKey;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of one partition log, with Kafka's key names where Kafka has the setting. Built from the
 * broker's defaults overridden by the topic's configs; every value is checked when built.
 */
public final class LogConfig {
    public static final ConfigKey<Integer> SEGMENT_BYTES = ConfigKey.ofInt("segment.bytes", 1 << 30, 1024,
            Integer.MAX_VALUE, "A segment is rolled once it would grow past this many bytes.");
    public static final ConfigKey<Long> SEGMENT_MS = ConfigKey.ofLong("segment.ms", 7 * 24 * 3600_000L, 1,
            Long.MAX_VALUE, "A non-empty segment is rolled once it is this old, so that retention can delete it.");
    public static final ConfigKey<Long> RETENTION_BYTES = ConfigKey.ofLong("retention.bytes", -1L, -1,
            Long.MAX_VALUE, "Old segments are deleted while the log is bigger than this; -1: no size limit.");
    public static final ConfigKey<Long> RETENTION_MS = ConfigKey.ofLong("retention.ms", 7 * 24 * 3600_000L, -1,
            Long.MAX_VALUE, "A segment whose newest record is older than this is deleted; -1: keep forever.");
    public static final ConfigKey<Integer> MAX_MESSAGE_BYTES = ConfigKey.ofInt("max.message.bytes", 1 << 20, 0,
            Integer.MAX_VALUE, "Largest record batch a producer may append, in bytes.");
    public static final ConfigKey<Integer> INDEX_INTERVAL_BYTES = ConfigKey.ofInt("index.interval.bytes", 4096, 0,
            Integer.MAX_VALUE, "Bytes of log between two entries of the sparse offset and time indexes.");
    public static final ConfigKey<String> MESSAGE_TIMESTAMP_TYPE = ConfigKey.ofChoice("message.timestamp.type",
            "createtime", List.of("createtime", "logappendtime"),
            "CreateTime: keep the producer's timestamps; LogAppendTime: the leader stamps its own time.");
    public static final ConfigKey<Long> MESSAGE_TIMESTAMP_BEFORE_MAX_MS = ConfigKey.ofLong(
            "message.timestamp.before.max.ms", Long.MAX_VALUE, 0, Long.MAX_VALUE, "With CreateTime, a batch holding a"
                    + " record timestamp more than this many ms behind the leader's clock is refused"
                    + " (INVALID_TIMESTAMP).");
    // Kafka 4's default: a far-future timestamp would keep its segment from time retention for as
    // long as it lies ahead.
    public static final ConfigKey<Long> MESSAGE_TIMESTAMP_AFTER_MAX_MS = ConfigKey.ofLong(
            "message.timestamp.after.max.ms", 3_600_000L, 0, Long.MAX_VALUE, "With CreateTime, a batch holding a"
                    + " record timestamp more than this many ms ahead of the leader's clock is refused"
                    + " (INVALID_TIMESTAMP).");
    // Not a Kafka setting (Kafka decompresses record by record); a broker-wide bound only (the
    // topic-level key is refused): the leader decompresses a producer's batch to check it.
    public static final ConfigKey<Integer> MAX_UNCOMPRESSED_BATCH_BYTES = ConfigKey.ofInt(
            "max.uncompressed.batch.bytes", 16 << 20, 1024, Integer.MAX_VALUE, "The most bytes the records of a"
                    + " producer's compressed batch may take decompressed (at least max.message.bytes); more is"
                    + " refused (RECORD_TOO_LARGE) before it takes more memory.");
    public static final ConfigKey<String> FLUSH_MODE = ConfigKey.ofChoice("flush.mode", "group",
            List.of("group", "interval", "os"),
            "group: fsync before an append is durable, shared by concurrent appends; interval: fsync every"
                    + " flush.interval.ms; os: leave it to the operating system.");
    public static final ConfigKey<Long> FLUSH_INTERVAL_MS = ConfigKey.ofLong("flush.interval.ms", 1000L, 1,
            Long.MAX_VALUE, "With flush.mode=interval, time between two fsyncs.");
    public static final ConfigKey<Long> FILE_DELETE_DELAY_MS = ConfigKey.ofLong("file.delete.delay.ms", 60_000L, 0,
            Long.MAX_VALUE, "A deleted segment's files stay this long, so that reads in progress finish.");

    public static final List<ConfigKey<?>> KEYS = List.of(SEGMENT_BYTES, SEGMENT_MS, RETENTION_BYTES, RETENTION_MS,
            MAX_MESSAGE_BYTES, INDEX_INTERVAL_BYTES, MESSAGE_TIMESTAMP_TYPE, MESSAGE_TIMESTAMP_BEFORE_MAX_MS,
            MESSAGE_TIMESTAMP_AFTER_MAX_MS, MAX_UNCOMPRESSED_BATCH_BYTES, FLUSH_MODE, FLUSH_INTERVAL_MS,
            FILE_DELETE_DELAY_MS);

    private final int segmentBytes;
    private final long segmentMs;
    private final long retentionBytes;
    private final long retentionMs;
    private final int maxMessageBytes;
    private final int indexIntervalBytes;
    private final boolean logAppendTime;
    private final long timestampBeforeMaxMs;
    private final long timestampAfterMaxMs;
    private final int maxUncompressedBatchBytes;
    private final FlushMode flushMode;
    private final long flushIntervalMs;
    private final long fileDeleteDelayMs;

    public LogConfig(Config config) {
        this.segmentBytes = config.get(SEGMENT_BYTES);
        this.segmentMs = config.get(SEGMENT_MS);
        this.retentionBytes = config.get(RETENTION_BYTES);
        this.retentionMs = config.get(RETENTION_MS);
        this.maxMessageBytes = config.get(MAX_MESSAGE_BYTES);
        this.indexIntervalBytes = config.get(INDEX_INTERVAL_BYTES);
        this.logAppendTime = config.get(MESSAGE_TIMESTAMP_TYPE).equals("logappendtime");
        this.timestampBeforeMaxMs = config.get(MESSAGE_TIMESTAMP_BEFORE_MAX_MS);
        this.timestampAfterMaxMs = config.get(MESSAGE_TIMESTAMP_AFTER_MAX_MS);
        this.maxUncompressedBatchBytes = Math.max(config.get(MAX_UNCOMPRESSED_BATCH_BYTES), maxMessageBytes);
        this.flushMode = FlushMode.valueOf(config.get(FLUSH_MODE).toUpperCase(Locale.ROOT));
        this.flushIntervalMs = config.get(FLUSH_INTERVAL_MS);
        this.fileDeleteDelayMs = config.get(FILE_DELETE_DELAY_MS);
    }

    /** A config from text values; keys not given take their defaults. */
    public static LogConfig of(Map<String, String> values) {
        return new LogConfig(new Config(values, KEYS));
    }

    public static LogConfig defaults() {
        return of(Map.of());
    }

    public int segmentBytes() {
        return segmentBytes;
    }

    public long segmentMs() {
        return segmentMs;
    }

    public long retentionBytes() {
        return retentionBytes;
    }

    public long retentionMs() {
        return retentionMs;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    public int indexIntervalBytes() {
        return indexIntervalBytes;
    }

    public boolean logAppendTime() {
        return logAppendTime;
    }

    public long timestampBeforeMaxMs() {
        return timestampBeforeMaxMs;
    }

    public long timestampAfterMaxMs() {
        return timestampAfterMaxMs;
    }

    /** The bound on a compressed batch's decompressed records: the setting, but never below max.message.bytes. */
    public int maxUncompressedBatchBytes() {
        return maxUncompressedBatchBytes;
    }

    public FlushMode flushMode() {
        return flushMode;
    }

    public long flushIntervalMs() {
        return flushIntervalMs;
    }

    public long fileDeleteDelayMs() {
        return fileDeleteDelayMs;
    }
}
