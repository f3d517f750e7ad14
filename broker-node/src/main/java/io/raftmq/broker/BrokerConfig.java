package io.raftmq.broker;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.replication.ReplicationConfig;
import io.raftmq.storage.LogConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The broker role's settings: replication ({@link ReplicationConfig}), the log defaults every topic
 * starts from, and request limits. A topic-level log config {@code K} has the broker-wide default
 * {@code log.K} (e.g. {@code log.retention.ms} for {@code retention.ms}); a topic's own value wins.
 * Immutable.
 */
public final class BrokerConfig {
    static final String LOG_DEFAULT_PREFIX = "log.";

    public static final ConfigKey<Long> LOG_RETENTION_CHECK_INTERVAL_MS = ConfigKey.ofLong(
            "log.retention.check.interval.ms", 300_000L, 1, Long.MAX_VALUE,
            "How often the broker deletes segments past their topic's retention.");
    public static final ConfigKey<Integer> FETCH_MAX_WAIT_CAP_MS = ConfigKey.ofInt("fetch.max.wait.cap.ms", 30_000,
            0, 600_000, "The longest a consumer fetch or a follower fetch is held waiting for data, whatever it"
                    + " asks for.");
    public static final ConfigKey<Integer> PRODUCE_TIMEOUT_CAP_MS = ConfigKey.ofInt("produce.timeout.cap.ms",
            300_000, 0, Integer.MAX_VALUE, "The longest an acks=all produce waits for its in-sync replicas, whatever"
                    + " timeout it asks for.");

    /** log.K for every topic-level log config K. */
    static final List<ConfigKey<?>> LOG_DEFAULT_KEYS = LogConfig.KEYS.stream()
            .<ConfigKey<?>>map(k -> k.renamed(LOG_DEFAULT_PREFIX + k.name(), "Default of the topic config " + k.name()
                    + ": " + k.doc()))
            .toList();

    /** Every key the broker role reads. */
    public static final List<ConfigKey<?>> KEYS;

    static {
        List<ConfigKey<?>> keys = new ArrayList<>(ReplicationConfig.KEYS);
        keys.addAll(LOG_DEFAULT_KEYS);
        keys.add(LOG_RETENTION_CHECK_INTERVAL_MS);
        keys.add(FETCH_MAX_WAIT_CAP_MS);
        keys.add(PRODUCE_TIMEOUT_CAP_MS);
        KEYS = List.copyOf(keys);
    }

    private final ReplicationConfig replication;
    private final Map<String, String> logDefaults;
    private final long retentionCheckIntervalMs;
    private final int fetchMaxWaitCapMs;
    private final int produceTimeoutCapMs;

    public BrokerConfig(Config config) {
        this.replication = new ReplicationConfig(config);
        Map<String, String> defaults = new HashMap<>();
        for (ConfigKey<?> key : LOG_DEFAULT_KEYS) {
            defaults.put(key.name().substring(LOG_DEFAULT_PREFIX.length()), String.valueOf(config.get(key)));
        }
        this.logDefaults = Map.copyOf(defaults);
        this.retentionCheckIntervalMs = config.get(LOG_RETENTION_CHECK_INTERVAL_MS);
        this.fetchMaxWaitCapMs = config.get(FETCH_MAX_WAIT_CAP_MS);
        this.produceTimeoutCapMs = config.get(PRODUCE_TIMEOUT_CAP_MS);
    }

    /** With every key at its default except {@code values}. */
    public static BrokerConfig of(Map<String, String> values) {
        return new BrokerConfig(new Config(values, KEYS));
    }

    public ReplicationConfig replication() {
        return replication;
    }

    /** The log config of a topic with these overrides: the broker's defaults, then the topic's values. */
    public LogConfig logConfig(Map<String, String> topicConfigs) {
        Map<String, String> merged = new HashMap<>(logDefaults);
        for (Map.Entry<String, String> e : topicConfigs.entrySet()) {
            if (merged.containsKey(e.getKey())) {
                merged.put(e.getKey(), e.getValue());
            }
        }
        return LogConfig.of(merged);
    }

    /** The topic's min.insync.replicas, or the broker default. */
    public int minInsyncReplicas(Map<String, String> topicConfigs) {
        return Optional.ofNullable(topicConfigs.get(ReplicationConfig.MIN_INSYNC_REPLICAS.name()))
                .map(Integer::parseInt)
                .orElse(replication.defaultMinInsyncReplicas());
    }

    public long retentionCheckIntervalMs() {
        return retentionCheckIntervalMs;
    }

    public int fetchMaxWaitCapMs() {
        return fetchMaxWaitCapMs;
    }

    public int produceTimeoutCapMs() {
        return produceTimeoutCapMs;
    }
}
