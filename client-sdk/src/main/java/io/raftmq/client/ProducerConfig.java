package io.raftmq.client;

import io.raftmq.client.ConfigDef.Type;
import io.raftmq.client.errors.ConfigException;
import io.raftmq.protocol.Acks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Producer settings, with Kafka's key names and defaults. Build with {@link #builder()} or from
 * {@link Properties}; every value is checked when built, and a bad one fails with a
 * {@link ConfigException} naming the key.
 *
 * <p>Idempotence ({@code enable.idempotence}, default true) needs {@code acks=all}, {@code
 * retries > 0} and at most 5 in-flight requests per partition. If it was set to true explicitly, a
 * conflicting setting is an error; if it was left at its default, a conflicting setting turns it off
 * (as Kafka does).
 */
public final class ProducerConfig extends ClientConfig {
    public static final String RETRY_BACKOFF_MS = CommonConfigs.RETRY_BACKOFF_MS;
    public static final String ACKS = "acks";
    public static final String LINGER_MS = "linger.ms";
    public static final String BATCH_SIZE = "batch.size";
    public static final String BUFFER_MEMORY = "buffer.memory";
    public static final String MAX_BLOCK_MS = "max.block.ms";
    public static final String DELIVERY_TIMEOUT_MS = "delivery.timeout.ms";
    public static final String RETRIES = "retries";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String ENABLE_IDEMPOTENCE = "enable.idempotence";
    public static final String MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION = "max.in.flight.requests.per.connection";
    public static final String MAX_REQUEST_SIZE = "max.request.size";

    /**
     * The most unanswered batches per partition an idempotent producer may have (Kafka's bound): the
     * broker checks a producer's sequence numbers against its last five batches.
     */
    static final int MAX_IN_FLIGHT_IDEMPOTENT = 5;

    static final ConfigDef DEF = CommonConfigs.define(new ConfigDef())
            .defineChoice(ACKS, "all", Set.of("all", "-1", "0", "1"),
                    "0: no answer awaited; 1: the leader wrote it; all (-1): every in-sync replica has it")
            .define(LINGER_MS, Type.LONG, 5L, 0, Long.MAX_VALUE, "how long a batch waits for more records")
            .define(BATCH_SIZE, Type.INT, 131_072, 1, Integer.MAX_VALUE, "target bytes per partition batch"
                    + " (128 KiB, Kafka's is 16 KiB: a batch starts in 16 KiB and grows as it fills, and each"
                    + " Produce costs the brokers the same per-call work whatever it carries)")
            .define(BUFFER_MEMORY, Type.LONG, 33_554_432L, 1, Long.MAX_VALUE,
                    "bytes of records waiting to be sent, across partitions")
            .define(MAX_BLOCK_MS, Type.LONG, 60_000L, 0, Long.MAX_VALUE,
                    "how long send() may block for metadata or buffer memory")
            .define(DELIVERY_TIMEOUT_MS, Type.INT, 120_000, 1, Integer.MAX_VALUE,
                    "upper bound on the time from send() to success or failure, retries included")
            .define(RETRIES, Type.INT, Integer.MAX_VALUE, 0, Integer.MAX_VALUE,
                    "how often a batch is retried after a retriable error")
            .defineChoice(COMPRESSION_TYPE, "none", Set.of("none", "gzip", "snappy", "lz4", "zstd"),
                    "compression of record batches")
            .define(ENABLE_IDEMPOTENCE, Type.BOOLEAN, true, "write each record exactly once per send, in order")
            .define(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, Type.INT, 5, 1, Integer.MAX_VALUE,
                    "unanswered batches per partition at a time (at most 5 with idempotence)")
            .define(MAX_REQUEST_SIZE, Type.INT, 1_048_576, 1, Integer.MAX_VALUE,
                    "largest record (serialized) the producer accepts");

    final boolean idempotent;
    final short acks;

    private ProducerConfig(Map<String, ?> input) {
        super(DEF, input);
        String acksText = values.string(ACKS);
        this.acks = acksText.equals("all") ? Acks.ALL : Short.parseShort(acksText);
        boolean explicit = values.isSet(ENABLE_IDEMPOTENCE) && values.bool(ENABLE_IDEMPOTENCE);
        boolean wanted = values.bool(ENABLE_IDEMPOTENCE);
        String conflict = null;
        if (acks != Acks.ALL) {
            conflict = "acks must be all (got " + acksText + ")";
        } else if (values.intValue(RETRIES) == 0) {
            conflict = "retries must be above 0";
        } else if (values.intValue(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION) > MAX_IN_FLIGHT_IDEMPOTENT) {
            conflict = MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION + " must be at most " + MAX_IN_FLIGHT_IDEMPOTENT + " (got "
                    + values.intValue(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION) + ")";
        }
        if (explicit && conflict != null) {
            throw new ConfigException("enable.idempotence=true needs " + conflict
                    + "; change it or set enable.idempotence=false");
        }
        this.idempotent = wanted && conflict == null;
        long minDelivery = values.longValue(LINGER_MS) + values.intValue(REQUEST_TIMEOUT_MS);
        if (values.intValue(DELIVERY_TIMEOUT_MS) < minDelivery) {
            throw new ConfigException("invalid value '" + values.intValue(DELIVERY_TIMEOUT_MS) + "' for config "
                    + DELIVERY_TIMEOUT_MS + ": must be at least linger.ms + request.timeout.ms (" + minDelivery + ")");
        }
        if (values.intValue(MAX_REQUEST_SIZE) > values.longValue(BUFFER_MEMORY)) {
            throw new ConfigException("config " + MAX_REQUEST_SIZE + " (" + values.intValue(MAX_REQUEST_SIZE)
                    + ") must not exceed " + BUFFER_MEMORY + " (" + values.longValue(BUFFER_MEMORY) + ")");
        }
    }

    public static ProducerConfig fromProperties(Properties properties) {
        return new ProducerConfig(CommonConfigs.fromProperties(properties));
    }

    public static ProducerConfig fromMap(Map<String, ?> map) {
        return new ProducerConfig(map);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every setting with its effective value (defaults included). */
    public Map<String, Object> values() {
        return Map.copyOf(values.asMap());
    }

    /** Whether the producer will be idempotent with these settings. */
    public boolean idempotenceEnabled() {
        return idempotent;
    }

    /** Typed setters for every key; {@link #set} for any key by name. Not thread-safe. */
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

        /** "all", "1" or "0". */
        public Builder acks(String acks) {
            return set(ACKS, acks);
        }

        public Builder lingerMs(long ms) {
            return set(LINGER_MS, ms);
        }

        public Builder batchSize(int bytes) {
            return set(BATCH_SIZE, bytes);
        }

        public Builder bufferMemory(long bytes) {
            return set(BUFFER_MEMORY, bytes);
        }

        public Builder maxBlockMs(long ms) {
            return set(MAX_BLOCK_MS, ms);
        }

        public Builder deliveryTimeoutMs(int ms) {
            return set(DELIVERY_TIMEOUT_MS, ms);
        }

        public Builder requestTimeoutMs(int ms) {
            return set(REQUEST_TIMEOUT_MS, ms);
        }

        public Builder retries(int retries) {
            return set(RETRIES, retries);
        }

        public Builder retryBackoffMs(long ms) {
            return set(RETRY_BACKOFF_MS, ms);
        }

        /** none, gzip, snappy, lz4 or zstd. */
        public Builder compressionType(String type) {
            return set(COMPRESSION_TYPE, type);
        }

        public Builder enableIdempotence(boolean enabled) {
            return set(ENABLE_IDEMPOTENCE, enabled);
        }

        public Builder maxInFlightRequestsPerConnection(int n) {
            return set(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, n);
        }

        public Builder maxRequestSize(int bytes) {
            return set(MAX_REQUEST_SIZE, bytes);
        }

        public ProducerConfig build() {
            return new ProducerConfig(map);
        }
    }
}
