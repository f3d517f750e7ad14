package io.raftmq.broker;

import io.raftmq.broker.group.GroupCoordinatorConfig;
import io.raftmq.broker.kafka.ListenerSecurity;
import io.raftmq.common.ApiError;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.metadata.authorizer.AclAuthorizer;
import io.raftmq.metadata.controller.TopicConfigs;
import io.raftmq.replication.ReplicationConfig;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

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
    public static final ConfigKey<Integer> PRODUCER_ID_EXPIRATION_MS = ConfigKey.ofInt("producer.id.expiration.ms",
            (int) LogManager.DEFAULT_PRODUCER_ID_EXPIRATION_MS, 1, Integer.MAX_VALUE, "A partition forgets an idempotent"
                    + " producer whose last batch there is this old (checked with retention, every"
                    + " log.retention.check.interval.ms); the producer may then start again at sequence 0 only.");
    public static final ConfigKey<Integer> FETCH_MAX_WAIT_CAP_MS = ConfigKey.ofInt("fetch.max.wait.cap.ms", 30_000,
            0, 600_000, "The longest a consumer fetch or a follower fetch is held waiting for data, whatever it"
                    + " asks for.");
    public static final ConfigKey<Integer> PRODUCE_TIMEOUT_CAP_MS = ConfigKey.ofInt("produce.timeout.cap.ms",
            300_000, 0, Integer.MAX_VALUE, "The longest an acks=all produce waits for its in-sync replicas, whatever"
                    + " timeout it asks for.");

    // ---- the Kafka listener ----

    public static final ConfigKey<Integer> SOCKET_REQUEST_MAX_BYTES = ConfigKey.ofInt("socket.request.max.bytes",
            100 << 20, 64, Integer.MAX_VALUE, "The largest request the Kafka listener reads; a bigger (or negative)"
                    + " request size closes the connection, as Kafka does.");
    public static final ConfigKey<Long> CONNECTIONS_MAX_IDLE_MS = ConfigKey.ofLong("connections.max.idle.ms",
            600_000L, 1, Long.MAX_VALUE, "A Kafka connection with no request in flight and no traffic for this long"
                    + " is closed.");
    // Kafka reads one request per connection at a time; reading a few ahead lets a pipelining
    // producer's next batches arrive while the previous ones wait for their acks.
    public static final ConfigKey<Integer> KAFKA_MAX_INFLIGHT_REQUESTS = ConfigKey.ofInt(
            "kafka.max.inflight.requests.per.connection", 16, 1, 1024, "Requests of one Kafka connection read and"
                    + " not yet answered; at this many the connection is not read until an answer goes out.");
    public static final ConfigKey<Integer> KAFKA_NETWORK_THREADS = ConfigKey.ofInt("kafka.network.threads",
            Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 256, "Event-loop threads of the Kafka"
                    + " listener (default: one per core).");
    public static final ConfigKey<Boolean> AUTO_CREATE_TOPICS_ENABLE = ConfigKey.ofBoolean(
            "auto.create.topics.enable", true, "A Kafka client's Metadata request for a topic that does not exist"
                    + " creates it with num.partitions and default.replication.factor (when the client allows it).");
    public static final ConfigKey<Integer> FETCH_MAX_BYTES = ConfigKey.ofInt("fetch.max.bytes", 55 << 20, 1024,
            Integer.MAX_VALUE, "The most record bytes one consumer fetch answer carries, whatever it asks for"
                    + " (one batch more when the first batch is bigger, so that a consumer always progresses).");
    public static final ConfigKey<Integer> MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS = ConfigKey.ofInt(
            "max.incremental.fetch.session.cache.slots", 1000, 0, 1_000_000, "Kafka fetch sessions this broker"
                    + " keeps; a client without one sends every partition in every fetch.");

    // ---- authorization ----

    public static final ConfigKey<Boolean> AUTHORIZER_ENABLED = ConfigKey.ofBoolean("authorizer.enabled", false,
            "Whether client requests, Kafka and gRPC, are checked against the cluster's ACLs (Kafka's"
                    + " StandardAuthorizer). Off: every request is allowed and the ACL APIs answer SECURITY_DISABLED, as Kafka without"
                    + " authorizer.class.name.");
    public static final ConfigKey<String> SUPER_USERS = ConfigKey.ofString("super.users", "", "Principals allowed"
            + " everything whatever the ACLs say, separated by semicolons: User:admin;User:ops.");
    public static final ConfigKey<Boolean> ALLOW_EVERYONE_IF_NO_ACL_FOUND = ConfigKey.ofBoolean(
            "allow.everyone.if.no.acl.found", false, "With the authorizer on, whether an operation on a resource"
                    + " that no ACL names is allowed.");

    // ---- group coordinator ----

    // 12, not Kafka's 50: a coordinator per partition costs a log, a loader and its timers on
    // every broker; 12 spreads groups evenly over 1, 2, 3, 4 or 6 brokers (4 per broker on the
    // usual 3) while keeping a small machine's open files and fsyncs low. Read once, when the
    // topic is created; the topic's actual partition count decides coordinators afterwards.
    public static final ConfigKey<Integer> OFFSETS_TOPIC_NUM_PARTITIONS = ConfigKey.ofInt(
            "offsets.topic.num.partitions", 12, 1, 1000, "Partitions of the internal topic __consumer_offsets,"
                    + " fixed when it is created (on the first FindCoordinator); each is one group coordinator.");
    public static final ConfigKey<Integer> OFFSETS_TOPIC_REPLICATION_FACTOR = ConfigKey.ofInt(
            "offsets.topic.replication.factor", 3, 1, Short.MAX_VALUE, "Replication factor of __consumer_offsets;"
                    + " min.insync.replicas is 2 when it is 3 or more. Until this many brokers are live,"
                    + " FindCoordinator answers COORDINATOR_NOT_AVAILABLE and the topic is not created, as in Kafka.");
    public static final ConfigKey<Integer> OFFSETS_TOPIC_SEGMENT_BYTES = ConfigKey.ofInt(
            "offsets.topic.segment.bytes", 16 << 20, 1 << 20, Integer.MAX_VALUE, "Segment size of __consumer_offsets:"
                    + " superseded records leave the disk a whole segment at a time after a checkpoint.");
    public static final ConfigKey<Integer> OFFSETS_COMMIT_TIMEOUT_MS = ConfigKey.ofInt("offsets.commit.timeout.ms",
            5_000, 1, Integer.MAX_VALUE, "How long an offset commit or group write waits for the in-sync replicas"
                    + " of its __consumer_offsets partition before answering REQUEST_TIMED_OUT.");
    public static final ConfigKey<Integer> OFFSETS_CHECKPOINT_MIN_RECORDS = ConfigKey.ofInt(
            "offsets.checkpoint.min.records", 1000, 1, Integer.MAX_VALUE, "A __consumer_offsets partition is"
                    + " checkpointed (every live group and offset rewritten, older records dropped) once its"
                    + " superseded records number at least this many and at least as many as its live ones.");
    public static final ConfigKey<Integer> GROUP_MIN_SESSION_TIMEOUT_MS = ConfigKey.ofInt(
            "group.min.session.timeout.ms", 6_000, 1, Integer.MAX_VALUE, "The shortest session timeout a group"
                    + " member may ask for.");
    public static final ConfigKey<Integer> GROUP_MAX_SESSION_TIMEOUT_MS = ConfigKey.ofInt(
            "group.max.session.timeout.ms", 1_800_000, 1, Integer.MAX_VALUE, "The longest session timeout a"
                    + " group member may ask for.");
    // Kafka waits 3000 ms. 300 ms still gathers consumers started together (a deployment, a test)
    // into one generation, and a lone consumer starts within a third of a second instead of three.
    public static final ConfigKey<Integer> GROUP_INITIAL_REBALANCE_DELAY_MS = ConfigKey.ofInt(
            "group.initial.rebalance.delay.ms", 300, 0, Integer.MAX_VALUE, "How long the first rebalance of an"
                    + " empty group waits for more members (extended by each new member, up to the rebalance"
                    + " timeout).");
    public static final ConfigKey<Integer> QUEUED_MAX_REQUESTS = ConfigKey.ofInt("queued.max.requests", 500, 1,
            1_000_000, "Client requests that may wait for the group coordinator's thread; more are answered"
                    + " COORDINATOR_LOAD_IN_PROGRESS at once (clients retry) instead of queueing without bound.");
    public static final ConfigKey<Integer> GROUP_MAX_SIZE = ConfigKey.ofInt("group.max.size", 1000, 1,
            Integer.MAX_VALUE, "The most members a group may have; more joins get GROUP_MAX_SIZE_REACHED.");
    public static final ConfigKey<Integer> OFFSETS_RETENTION_MINUTES = ConfigKey.ofInt("offsets.retention.minutes",
            7 * 24 * 60, 1, Integer.MAX_VALUE, "A group without members loses its committed offsets, and is"
                    + " deleted, once this long has passed since its newest commit and since it became empty.");
    public static final ConfigKey<Long> OFFSETS_RETENTION_CHECK_INTERVAL_MS = ConfigKey.ofLong(
            "offsets.retention.check.interval.ms", 600_000L, 1, Long.MAX_VALUE, "How often each group coordinator"
                    + " looks for groups whose offsets expired.");

    public static final ConfigKey<Integer> OFFSET_METADATA_MAX_BYTES = ConfigKey.ofInt("offset.metadata.max.bytes",
            4096, 0, Integer.MAX_VALUE, "The longest metadata of one committed offset, in UTF-8 bytes; a longer one"
                    + " is refused with OFFSET_METADATA_TOO_LARGE and not stored.");
    public static final ConfigKey<Integer> GROUP_CONSUMER_SESSION_TIMEOUT_MS = ConfigKey.ofInt(
            "group.consumer.session.timeout.ms", GroupCoordinatorConfig.DEFAULT_CONSUMER_SESSION_TIMEOUT_MS, 1,
            Integer.MAX_VALUE, "Consumer-protocol (group.protocol=consumer) groups: a member not heard from for"
                    + " this long is removed and its partitions reassigned.");
    public static final ConfigKey<Integer> GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS = ConfigKey.ofInt(
            "group.consumer.heartbeat.interval.ms", GroupCoordinatorConfig.DEFAULT_CONSUMER_HEARTBEAT_INTERVAL_MS, 1,
            Integer.MAX_VALUE, "Consumer-protocol groups: how often members are told to heartbeat.");

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
        keys.add(PRODUCER_ID_EXPIRATION_MS);
        keys.add(FETCH_MAX_WAIT_CAP_MS);
        keys.add(PRODUCE_TIMEOUT_CAP_MS);
        keys.addAll(List.of(SOCKET_REQUEST_MAX_BYTES, CONNECTIONS_MAX_IDLE_MS, KAFKA_MAX_INFLIGHT_REQUESTS,
                KAFKA_NETWORK_THREADS, AUTO_CREATE_TOPICS_ENABLE, FETCH_MAX_BYTES,
                MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS));
        keys.addAll(ListenerSecurity.KEYS);
        keys.addAll(List.of(OFFSETS_TOPIC_NUM_PARTITIONS, OFFSETS_TOPIC_REPLICATION_FACTOR, OFFSETS_TOPIC_SEGMENT_BYTES,
                OFFSETS_COMMIT_TIMEOUT_MS, OFFSETS_CHECKPOINT_MIN_RECORDS, GROUP_MIN_SESSION_TIMEOUT_MS,
                GROUP_MAX_SESSION_TIMEOUT_MS, GROUP_INITIAL_REBALANCE_DELAY_MS, GROUP_MAX_SIZE,
                OFFSETS_RETENTION_MINUTES, OFFSETS_RETENTION_CHECK_INTERVAL_MS, OFFSET_METADATA_MAX_BYTES));
        keys.add(QUEUED_MAX_REQUESTS);
        keys.addAll(List.of(AUTHORIZER_ENABLED, SUPER_USERS, ALLOW_EVERYONE_IF_NO_ACL_FOUND));
        keys.addAll(List.of(GROUP_CONSUMER_SESSION_TIMEOUT_MS, GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS));
        KEYS = List.copyOf(keys);
    }

    /** A broker setting as DescribeConfigs shows it: its value as text, and whether the node's config set it. */
    public record Setting(ConfigKey<?> key, String value, boolean explicit) {}

    private final ReplicationConfig replication;
    private final Map<String, Setting> settings;
    private final Map<String, String> logDefaults;
    private final long retentionCheckIntervalMs;
    private final int producerIdExpirationMs;
    private final int fetchMaxWaitCapMs;
    private final int produceTimeoutCapMs;
    private final int socketRequestMaxBytes;
    private final long connectionsMaxIdleMs;
    private final int kafkaMaxInflightRequests;
    private final int kafkaNetworkThreads;
    private final ListenerSecurity listenerSecurity;
    private final boolean autoCreateTopicsEnable;
    private final int fetchMaxBytes;
    private final int fetchSessionCacheSlots;
    private final GroupCoordinatorConfig groupCoordinator;
    private final int queuedMaxRequests;
    private final AclAuthorizer authorizer;

    public BrokerConfig(Config config) {
        this.replication = new ReplicationConfig(config);
        Map<String, Setting> described = new TreeMap<>();
        for (ConfigKey<?> key : KEYS) {
            Object value = config.get(key);
            String text = value instanceof List<?> list ? String.join(",", list.stream().map(String::valueOf).toList())
                    : String.valueOf(value);
            described.put(key.name(), new Setting(key, text, config.explicitKeys().contains(key.name())));
        }
        this.settings = Collections.unmodifiableMap(described);
        Map<String, String> defaults = new HashMap<>();
        for (ConfigKey<?> key : LOG_DEFAULT_KEYS) {
            defaults.put(key.name().substring(LOG_DEFAULT_PREFIX.length()), String.valueOf(config.get(key)));
        }
        this.logDefaults = Map.copyOf(defaults);
        // The broker-wide defaults of segment size and age have the topic configs' minimums
        // (log.segment.bytes: Kafka 4's 1 MiB too), so that no topic gets them by default either.
        for (String key : List.of(TopicConfigs.SEGMENT_BYTES, TopicConfigs.SEGMENT_MS)) {
            ApiError invalid = TopicConfigs.validate(key, logDefaults.get(key));
            if (invalid.isFailure()) {
                throw new ConfigException(LOG_DEFAULT_PREFIX + key, logDefaults.get(key), invalid.message());
            }
        }
        this.retentionCheckIntervalMs = config.get(LOG_RETENTION_CHECK_INTERVAL_MS);
        this.producerIdExpirationMs = config.get(PRODUCER_ID_EXPIRATION_MS);
        this.fetchMaxWaitCapMs = config.get(FETCH_MAX_WAIT_CAP_MS);
        this.produceTimeoutCapMs = config.get(PRODUCE_TIMEOUT_CAP_MS);
        this.socketRequestMaxBytes = config.get(SOCKET_REQUEST_MAX_BYTES);
        this.connectionsMaxIdleMs = config.get(CONNECTIONS_MAX_IDLE_MS);
        this.kafkaMaxInflightRequests = config.get(KAFKA_MAX_INFLIGHT_REQUESTS);
        this.kafkaNetworkThreads = config.get(KAFKA_NETWORK_THREADS);
        this.listenerSecurity = ListenerSecurity.from(config);
        this.autoCreateTopicsEnable = config.get(AUTO_CREATE_TOPICS_ENABLE);
        this.fetchMaxBytes = config.get(FETCH_MAX_BYTES);
        this.fetchSessionCacheSlots = config.get(MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS);
        this.queuedMaxRequests = config.get(QUEUED_MAX_REQUESTS);
        Set<String> superUsers;
        try {
            superUsers = AclAuthorizer.parseSuperUsers(config.get(SUPER_USERS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(SUPER_USERS.name(), config.get(SUPER_USERS), e.getMessage());
        }
        this.authorizer = config.get(AUTHORIZER_ENABLED)
                ? new AclAuthorizer(superUsers, config.get(ALLOW_EVERYONE_IF_NO_ACL_FOUND)) : null;
        this.groupCoordinator = new GroupCoordinatorConfig(config.get(OFFSETS_TOPIC_NUM_PARTITIONS),
                config.get(OFFSETS_TOPIC_REPLICATION_FACTOR), config.get(OFFSETS_TOPIC_SEGMENT_BYTES),
                config.get(OFFSETS_COMMIT_TIMEOUT_MS), config.get(OFFSETS_CHECKPOINT_MIN_RECORDS),
                config.get(GROUP_MIN_SESSION_TIMEOUT_MS), config.get(GROUP_MAX_SESSION_TIMEOUT_MS),
                config.get(GROUP_INITIAL_REBALANCE_DELAY_MS), config.get(GROUP_MAX_SIZE),
                config.get(OFFSETS_RETENTION_MINUTES) * 60_000L, config.get(OFFSETS_RETENTION_CHECK_INTERVAL_MS),
                config.get(GROUP_CONSUMER_SESSION_TIMEOUT_MS), config.get(GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS),
                config.get(OFFSET_METADATA_MAX_BYTES));
        if (groupCoordinator.minSessionTimeoutMs() > groupCoordinator.maxSessionTimeoutMs()) {
            throw new ConfigException(GROUP_MIN_SESSION_TIMEOUT_MS.name(),
                    String.valueOf(groupCoordinator.minSessionTimeoutMs()), "must not exceed "
                            + GROUP_MAX_SESSION_TIMEOUT_MS.name() + " (" + groupCoordinator.maxSessionTimeoutMs()
                            + " ms)");
        }
    }

    /** With every key at its default except {@code values}. */
    public static BrokerConfig of(Map<String, String> values) {
        return new BrokerConfig(new Config(values, KEYS));
    }

    /** Every setting of the broker role by key, sorted: what DescribeConfigs shows for a broker. */
    public Map<String, Setting> settings() {
        return settings;
    }

    /** The broker-wide default of topic-level config {@code topicKey} ({@code log.K} for a log setting). */
    public Setting topicDefault(String topicKey) {
        Setting log = settings.get(LOG_DEFAULT_PREFIX + topicKey);
        return log != null ? log : settings.get(topicKey);
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

    public int producerIdExpirationMs() {
        return producerIdExpirationMs;
    }

    public int fetchMaxWaitCapMs() {
        return fetchMaxWaitCapMs;
    }

    public int produceTimeoutCapMs() {
        return produceTimeoutCapMs;
    }

    public int socketRequestMaxBytes() {
        return socketRequestMaxBytes;
    }

    public long connectionsMaxIdleMs() {
        return connectionsMaxIdleMs;
    }

    public int kafkaMaxInflightRequests() {
        return kafkaMaxInflightRequests;
    }

    public int kafkaNetworkThreads() {
        return kafkaNetworkThreads;
    }

    /** TLS and authentication of the Kafka listener (its security protocol and Kafka's ssl.* / sasl.* settings). */
    public ListenerSecurity listenerSecurity() {
        return listenerSecurity;
    }

    public boolean autoCreateTopicsEnable() {
        return autoCreateTopicsEnable;
    }

    public int fetchMaxBytes() {
        return fetchMaxBytes;
    }

    public int fetchSessionCacheSlots() {
        return fetchSessionCacheSlots;
    }

    public int queuedMaxRequests() {
        return queuedMaxRequests;
    }

    /** The authorizer Kafka requests pass, or null when authorizer.enabled is off (everything allowed). */
    public AclAuthorizer authorizer() {
        return authorizer;
    }

    public GroupCoordinatorConfig groupCoordinator() {
        return groupCoordinator;
    }
}
