package io.raftmq.client;

import io.raftmq.client.ConfigDef.Type;
import io.raftmq.client.errors.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Consumer settings, with Kafka's key names and defaults. Build with {@link #builder()} or from
 * {@link Properties}; every value is checked when built. Without a {@code group.id} the consumer can
 * only {@code assign} partitions and auto commit is off (setting it on is an error).
 *
 * <p>{@code partition.assignment.strategy} takes {@code range} and {@code roundrobin} (Kafka's
 * RangeAssignor / RoundRobinAssignor class names are accepted too); the group's coordinator computes
 * the assignment with the first strategy every member supports.
 */
public final class ConsumerConfig extends ClientConfig {
    public static final String RETRY_BACKOFF_MS = CommonConfigs.RETRY_BACKOFF_MS;
    public static final String GROUP_ID = "group.id";
    public static final String ENABLE_AUTO_COMMIT = "enable.auto.commit";
    public static final String AUTO_COMMIT_INTERVAL_MS = "auto.commit.interval.ms";
    public static final String AUTO_OFFSET_RESET = "auto.offset.reset";
    public static final String SESSION_TIMEOUT_MS = "session.timeout.ms";
    public static final String HEARTBEAT_INTERVAL_MS = "heartbeat.interval.ms";
    public static final String MAX_POLL_INTERVAL_MS = "max.poll.interval.ms";
    public static final String MAX_POLL_RECORDS = "max.poll.records";
    public static final String FETCH_MIN_BYTES = "fetch.min.bytes";
    public static final String FETCH_MAX_WAIT_MS = "fetch.max.wait.ms";
    public static final String FETCH_MAX_BYTES = "fetch.max.bytes";
    public static final String MAX_PARTITION_FETCH_BYTES = "max.partition.fetch.bytes";
    public static final String PARTITION_ASSIGNMENT_STRATEGY = "partition.assignment.strategy";
    public static final String DEFAULT_API_TIMEOUT_MS = "default.api.timeout.ms";

    static final ConfigDef DEF = CommonConfigs.define(new ConfigDef())
            .define(GROUP_ID, Type.STRING, "", "the consumer group; empty: no group (assign only)")
            .define(ENABLE_AUTO_COMMIT, Type.BOOLEAN, true, "commit positions every auto.commit.interval.ms")
            .define(AUTO_COMMIT_INTERVAL_MS, Type.LONG, 5_000L, 0, Long.MAX_VALUE, "auto commit period")
            .defineChoice(AUTO_OFFSET_RESET, "latest", Set.of("earliest", "latest", "none"),
                    "where to start without a committed offset, or when the position is out of range")
            .define(SESSION_TIMEOUT_MS, Type.INT, 45_000, 1, Integer.MAX_VALUE,
                    "the group drops a member that sends no heartbeat for this long")
            .define(HEARTBEAT_INTERVAL_MS, Type.INT, 3_000, 1, Integer.MAX_VALUE, "heartbeat period")
            .define(MAX_POLL_INTERVAL_MS, Type.INT, 300_000, 1, Integer.MAX_VALUE,
                    "how long the coordinator waits for members to rejoin during a rebalance")
            .define(MAX_POLL_RECORDS, Type.INT, 500, 1, Integer.MAX_VALUE, "most records one poll returns")
            .define(FETCH_MIN_BYTES, Type.INT, 1, 0, Integer.MAX_VALUE, "bytes a fetch waits for")
            .define(FETCH_MAX_WAIT_MS, Type.INT, 500, 0, Integer.MAX_VALUE, "longest wait of a fetch")
            .define(FETCH_MAX_BYTES, Type.INT, 52_428_800, 1, Integer.MAX_VALUE, "bytes per fetch response")
            .define(MAX_PARTITION_FETCH_BYTES, Type.INT, 1_048_576, 1, Integer.MAX_VALUE,
                    "bytes per partition in a fetch response")
            .define(PARTITION_ASSIGNMENT_STRATEGY, Type.LIST, List.of("range"),
                    "range and/or roundrobin, most preferred first")
            .define(DEFAULT_API_TIMEOUT_MS, Type.LONG, 60_000L, 0, Long.MAX_VALUE,
                    "bound on blocking calls that take no timeout (commitSync, position, committed)");

    final List<String> assignors;
    final boolean autoCommit;
    final String groupId;

    private ConsumerConfig(Map<String, ?> input) {
        super(DEF, input);
        String group = values.string(GROUP_ID);
        this.groupId = group.isEmpty() ? null : group;
        if (groupId == null && values.isSet(ENABLE_AUTO_COMMIT) && values.bool(ENABLE_AUTO_COMMIT)) {
            throw new ConfigException("enable.auto.commit=true needs a group.id");
        }
        this.autoCommit = groupId != null && values.bool(ENABLE_AUTO_COMMIT);
        if (values.intValue(HEARTBEAT_INTERVAL_MS) >= values.intValue(SESSION_TIMEOUT_MS)) {
            throw new ConfigException("invalid value '" + values.intValue(HEARTBEAT_INTERVAL_MS) + "' for config "
                    + HEARTBEAT_INTERVAL_MS + ": must be below session.timeout.ms ("
                    + values.intValue(SESSION_TIMEOUT_MS) + ")");
        }
        List<String> names = new ArrayList<>();
        for (String s : values.list(PARTITION_ASSIGNMENT_STRATEGY)) {
            String n = s.toLowerCase(Locale.ROOT);
            if (n.endsWith("roundrobinassignor") || n.equals("roundrobin")) {
                names.add("roundrobin");
            } else if (n.endsWith("rangeassignor") || n.equals("range")) {
                names.add("range");
            } else {
                throw new ConfigException("invalid value '" + s + "' in config " + PARTITION_ASSIGNMENT_STRATEGY
                        + ": must be range or roundrobin");
            }
        }
        if (names.isEmpty()) {
            throw new ConfigException("config " + PARTITION_ASSIGNMENT_STRATEGY + " is empty");
        }
        this.assignors = List.copyOf(names);
    }

    public static ConsumerConfig fromProperties(Properties properties) {
        return new ConsumerConfig(CommonConfigs.fromProperties(properties));
    }

    public static ConsumerConfig fromMap(Map<String, ?> map) {
        return new ConsumerConfig(map);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Map<String, Object> values() {
        return Map.copyOf(values.asMap());
    }

    /** Typed setters for the common keys; {@link #set} for any key by name. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Object> map = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder set(String key, Object value) {
            map.put(key, value);
            return this;
        }

        public Builder bootstrapServers(String servers) {
            return set(BOOTSTRAP_SERVERS, servers);
        }

        public Builder clientId(String id) {
            return set(CLIENT_ID, id);
        }

        public Builder groupId(String groupId) {
            return set(GROUP_ID, groupId);
        }

        public Builder enableAutoCommit(boolean enabled) {
            return set(ENABLE_AUTO_COMMIT, enabled);
        }

        public Builder autoCommitIntervalMs(long ms) {
            return set(AUTO_COMMIT_INTERVAL_MS, ms);
        }

        /** earliest, latest or none. */
        public Builder autoOffsetReset(String policy) {
            return set(AUTO_OFFSET_RESET, policy);
        }

        public Builder sessionTimeoutMs(int ms) {
            return set(SESSION_TIMEOUT_MS, ms);
        }

        public Builder heartbeatIntervalMs(int ms) {
            return set(HEARTBEAT_INTERVAL_MS, ms);
        }

        public Builder maxPollRecords(int n) {
            return set(MAX_POLL_RECORDS, n);
        }

        public Builder fetchMinBytes(int bytes) {
            return set(FETCH_MIN_BYTES, bytes);
        }

        public Builder fetchMaxWaitMs(int ms) {
            return set(FETCH_MAX_WAIT_MS, ms);
        }

        public Builder fetchMaxBytes(int bytes) {
            return set(FETCH_MAX_BYTES, bytes);
        }

        public Builder maxPartitionFetchBytes(int bytes) {
            return set(MAX_PARTITION_FETCH_BYTES, bytes);
        }

        /** "range", "roundrobin", or both comma-separated (most preferred first). */
        public Builder partitionAssignmentStrategy(String strategies) {
            return set(PARTITION_ASSIGNMENT_STRATEGY, strategies);
        }

        public Builder requestTimeoutMs(int ms) {
            return set(REQUEST_TIMEOUT_MS, ms);
        }

        public ConsumerConfig build() {
            return new ConsumerConfig(map);
        }
    }
}
