package io.raftmq.replication;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigKey;
import java.util.List;

/** Settings of replication on a broker, with Kafka's key names. */
public final class ReplicationConfig {
    public static final ConfigKey<Long> REPLICA_LAG_TIME_MAX_MS = ConfigKey.ofLong("replica.lag.time.max.ms",
            10_000L, 1, Long.MAX_VALUE, "A follower that has not caught up with the leader for this long leaves"
                    + " the ISR.");
    public static final ConfigKey<Integer> REPLICA_FETCH_MAX_WAIT_MS = ConfigKey.ofInt("replica.fetch.max.wait.ms",
            500, 1, 60_000, "How long a leader may hold a follower's fetch waiting for new records.");
    public static final ConfigKey<Integer> REPLICA_FETCH_MAX_BYTES = ConfigKey.ofInt("replica.fetch.max.bytes",
            1 << 20, 1024, Integer.MAX_VALUE, "Bytes a follower fetches per partition per request (at least one"
                    + " batch).");
    public static final ConfigKey<Integer> REPLICA_FETCH_RESPONSE_MAX_BYTES = ConfigKey.ofInt(
            "replica.fetch.response.max.bytes", 10 << 20, 1024, Integer.MAX_VALUE,
            "Bytes a follower fetches per request, over all partitions.");
    public static final ConfigKey<Long> REPLICA_FETCH_BACKOFF_MS = ConfigKey.ofLong("replica.fetch.backoff.ms",
            50L, 0, 60_000, "Wait before a follower fetches again after an error.");
    public static final ConfigKey<Integer> MIN_INSYNC_REPLICAS = ConfigKey.ofInt("min.insync.replicas", 1, 1,
            Integer.MAX_VALUE, "Default for topics: fewer in-sync replicas than this fail acks=all produce with"
                    + " NOT_ENOUGH_REPLICAS.");

    public static final List<ConfigKey<?>> KEYS = List.of(REPLICA_LAG_TIME_MAX_MS, REPLICA_FETCH_MAX_WAIT_MS,
            REPLICA_FETCH_MAX_BYTES, REPLICA_FETCH_RESPONSE_MAX_BYTES, REPLICA_FETCH_BACKOFF_MS, MIN_INSYNC_REPLICAS);

    private final long lagTimeMaxMs;
    private final int fetchMaxWaitMs;
    private final int fetchMaxBytes;
    private final int fetchResponseMaxBytes;
    private final long fetchBackoffMs;
    private final int defaultMinInsyncReplicas;

    public ReplicationConfig(Config config) {
        this.lagTimeMaxMs = config.get(REPLICA_LAG_TIME_MAX_MS);
        this.fetchMaxWaitMs = config.get(REPLICA_FETCH_MAX_WAIT_MS);
        this.fetchMaxBytes = config.get(REPLICA_FETCH_MAX_BYTES);
        this.fetchResponseMaxBytes = config.get(REPLICA_FETCH_RESPONSE_MAX_BYTES);
        this.fetchBackoffMs = config.get(REPLICA_FETCH_BACKOFF_MS);
        this.defaultMinInsyncReplicas = config.get(MIN_INSYNC_REPLICAS);
    }

    public static ReplicationConfig of(java.util.Map<String, String> values) {
        return new ReplicationConfig(new Config(values, KEYS));
    }

    public long lagTimeMaxMs() {
        return lagTimeMaxMs;
    }

    public int fetchMaxWaitMs() {
        return fetchMaxWaitMs;
    }

    public int fetchMaxBytes() {
        return fetchMaxBytes;
    }

    public int fetchResponseMaxBytes() {
        return fetchResponseMaxBytes;
    }

    public long fetchBackoffMs() {
        return fetchBackoffMs;
    }

    public int defaultMinInsyncReplicas() {
        return defaultMinInsyncReplicas;
    }
}
