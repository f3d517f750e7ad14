package io.raftmq.metadata.node;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.metadata.controller.TopicLimits;
import io.raftmq.metadata.log.Voter;
import java.util.List;

/**
 * Configuration of the metadata quorum and the controller: every key with its unit, default and
 * meaning. Values are checked when this is built, and an error names the key.
 *
 * <p>A voter's Raft port speaks only mutual TLS, so this also loads the node's TLS identity from
 * the node-level {@link NodeTls#KEYS} (the {@link Config} must define them): a controller without
 * {@code ssl.keystore.location} and {@code ssl.truststore.location} does not start.
 */
public final class ControllerConfig {
    public static final ConfigKey<String> QUORUM_VOTERS = ConfigKey.ofString("controller.quorum.voters", "",
            "The metadata quorum's voters and their Raft addresses: id@host:port,... (e.g."
                    + " 1@127.0.0.1:9095,2@127.0.0.1:9195,3@127.0.0.1:9295). Identical on every node; required on"
                    + " nodes with the controller role.");
    public static final ConfigKey<Integer> ELECTION_TIMEOUT_MS = ConfigKey.ofInt("controller.election.timeout.ms",
            300, 50, 60_000, "A voter that hears nothing from the leader for this long starts an election.");
    public static final ConfigKey<Integer> MAX_ELECTION_DELAY_MS = ConfigKey.ofInt(
            "controller.max.election.delay.ms", 300, 0, 60_000,
            "Random extra wait, up to this, before an election, so voters do not split the vote. Failover takes"
                    + " electionTimeout plus up to this.");
    public static final ConfigKey<Long> BROKER_HEARTBEAT_INTERVAL_MS = ConfigKey.ofLong(
            "broker.heartbeat.interval.ms", 100L, 10, 60_000,
            "How often a broker heartbeats to the active controller. At most a third of the session timeout.");
    public static final ConfigKey<Long> BROKER_SESSION_TIMEOUT_MS = ConfigKey.ofLong(
            "broker.session.timeout.ms", 600L, 100, 600_000,
            "A broker without a heartbeat for this long is fenced and its partitions get new leaders.");
    public static final ConfigKey<Long> TAKEOVER_SESSION_MS = ConfigKey.ofLong("controller.takeover.session.ms", -1L,
            -1, 600_000, "A controller that takes over gives every broker this long to heartbeat to it before fencing"
                    + " it (sessions are not replicated, and a broker that died with the old controller has none)."
                    + " -1: half of broker.session.timeout.ms, but at least 3 heartbeat intervals.");
    public static final ConfigKey<Long> BROKER_CONNECTION_LOSS_GRACE_MS = ConfigKey.ofLong(
            "broker.connection.loss.grace.ms", -1L, -1, 600_000,
            "When the connection a broker's latest heartbeat came over closes (its process died, or the connection"
                    + " was reset), the active controller fences the broker unless it heartbeats again within this"
                    + " long, instead of waiting out its session. A broker cut off by the network or paused keeps"
                    + " its connection, and only broker.session.timeout.ms applies. Between one heartbeat interval"
                    + " and the session timeout (which turns this off); -1: two heartbeat intervals.");
    public static final ConfigKey<Integer> SNAPSHOT_INTERVAL_SECS = ConfigKey.ofInt(
            "metadata.snapshot.interval.secs", 600, 1, Integer.MAX_VALUE,
            "How often each voter snapshots the metadata image and truncates its Raft log.");
    public static final ConfigKey<Integer> NUM_PARTITIONS = ConfigKey.ofInt("num.partitions", 1, 1, 10_000,
            "Partitions of a topic created without a partition count.");
    public static final ConfigKey<Integer> DEFAULT_REPLICATION_FACTOR = ConfigKey.ofInt(
            "default.replication.factor", 3, 1, 1_000,
            "Replication factor of a topic created without one (capped at the number of live brokers).");
    // Kafka has no such limits (KIP-578 proposed max.partitions and was never shipped); a cluster
    // without them runs out of file descriptors on one bad request, and replays it on every restart.
    public static final ConfigKey<Integer> MAX_PARTITIONS = ConfigKey.ofInt(TopicLimits.MAX_PARTITIONS,
            TopicLimits.DEFAULTS.maxPartitions(), 1, Integer.MAX_VALUE, "The most partitions the cluster may hold"
                    + " over all topics; CreateTopics and CreatePartitions beyond it get INVALID_PARTITIONS.");
    public static final ConfigKey<Integer> MAX_PARTITIONS_PER_REQUEST = ConfigKey.ofInt(
            TopicLimits.MAX_PARTITIONS_PER_REQUEST, TopicLimits.DEFAULTS.maxPartitionsPerRequest(), 1,
            Integer.MAX_VALUE, "The most partitions one CreateTopics or CreatePartitions request may add; a topic"
                    + " that would pass it gets INVALID_PARTITIONS.");
    public static final ConfigKey<Long> REQUEST_TIMEOUT_MS = ConfigKey.ofLong("controller.request.timeout.ms",
            30_000L, 100, 600_000,
            "How long a controller request may wait for its metadata records to commit.");

    public static final ConfigKey<Boolean> AUTO_LEADER_REBALANCE_ENABLE = ConfigKey.ofBoolean(
            "auto.leader.rebalance.enable", true,
            "Move partition leadership back to each partition's preferred replica (the first in its replica list)"
                    + " once it is in the ISR again, as Kafka does, when a broker's imbalance exceeds"
                    + " leader.imbalance.per.broker.percentage; checked every leader.imbalance.check.interval.seconds.");
    public static final ConfigKey<Integer> LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS = ConfigKey.ofInt(
            "leader.imbalance.check.interval.seconds", 300, 1, 86_400,
            "How often the active controller checks for leadership imbalance.");
    public static final ConfigKey<Integer> LEADER_IMBALANCE_PER_BROKER_PERCENTAGE = ConfigKey.ofInt(
            "leader.imbalance.per.broker.percentage", 10, 0, 100,
            "Share of a broker's preferred partitions led by others above which leadership moves back to it.");

    public static final List<ConfigKey<?>> KEYS = List.of(QUORUM_VOTERS, ELECTION_TIMEOUT_MS, MAX_ELECTION_DELAY_MS,
            BROKER_HEARTBEAT_INTERVAL_MS, BROKER_SESSION_TIMEOUT_MS, TAKEOVER_SESSION_MS,
            BROKER_CONNECTION_LOSS_GRACE_MS, SNAPSHOT_INTERVAL_SECS, NUM_PARTITIONS, DEFAULT_REPLICATION_FACTOR,
            MAX_PARTITIONS, MAX_PARTITIONS_PER_REQUEST, REQUEST_TIMEOUT_MS, AUTO_LEADER_REBALANCE_ENABLE, LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS,
            LEADER_IMBALANCE_PER_BROKER_PERCENTAGE);

    private final List<Voter> voters;
    private final NodeTls raftTls;
    private final int electionTimeoutMs;
    private final int maxElectionDelayMs;
    private final long heartbeatIntervalMs;
    private final long sessionTimeoutMs;
    private final long takeoverSessionMs;
    private final long connectionLossGraceMs;
    private final int snapshotIntervalSecs;
    private final int numPartitions;
    private final int defaultReplicationFactor;
    private final TopicLimits topicLimits;
    private final long requestTimeoutMs;
    private final long leaderImbalanceCheckIntervalMs;
    private final int leaderImbalancePercentage;

    public ControllerConfig(Config config) {
        if (config.get(QUORUM_VOTERS).isBlank()) {
            throw new ConfigException("missing required config " + QUORUM_VOTERS.name() + " (environment: "
                    + QUORUM_VOTERS.envName() + "): " + QUORUM_VOTERS.doc());
        }
        try {
            this.voters = Voter.parseList(config.get(QUORUM_VOTERS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(QUORUM_VOTERS.name(), config.get(QUORUM_VOTERS), e.getMessage());
        }
        this.electionTimeoutMs = config.get(ELECTION_TIMEOUT_MS);
        this.maxElectionDelayMs = config.get(MAX_ELECTION_DELAY_MS);
        this.heartbeatIntervalMs = config.get(BROKER_HEARTBEAT_INTERVAL_MS);
        this.sessionTimeoutMs = config.get(BROKER_SESSION_TIMEOUT_MS);
        if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
            throw new ConfigException(BROKER_HEARTBEAT_INTERVAL_MS.name(), String.valueOf(heartbeatIntervalMs),
                    "must be at most a third of " + BROKER_SESSION_TIMEOUT_MS.name() + " (" + sessionTimeoutMs
                            + " ms), so that one lost heartbeat does not fence a broker");
        }
        long takeover = config.get(TAKEOVER_SESSION_MS);
        this.takeoverSessionMs = takeover < 0 ? Math.min(sessionTimeoutMs, Math.max(3 * heartbeatIntervalMs,
                sessionTimeoutMs / 2)) : takeover;
        if (takeoverSessionMs < 2 * heartbeatIntervalMs || takeoverSessionMs > sessionTimeoutMs) {
            throw new ConfigException(TAKEOVER_SESSION_MS.name(), String.valueOf(takeover), "must be between two"
                    + " heartbeat intervals (" + 2 * heartbeatIntervalMs + " ms) and the session timeout ("
                    + sessionTimeoutMs + " ms)");
        }
        long grace = config.get(BROKER_CONNECTION_LOSS_GRACE_MS);
        this.connectionLossGraceMs = grace < 0 ? Math.min(sessionTimeoutMs, 2 * heartbeatIntervalMs) : grace;
        if (connectionLossGraceMs < heartbeatIntervalMs || connectionLossGraceMs > sessionTimeoutMs) {
            throw new ConfigException(BROKER_CONNECTION_LOSS_GRACE_MS.name(), String.valueOf(grace), "must be between"
                    + " one heartbeat interval (" + BROKER_HEARTBEAT_INTERVAL_MS.name() + ", " + heartbeatIntervalMs
                    + " ms) and the session timeout (" + BROKER_SESSION_TIMEOUT_MS.name() + ", " + sessionTimeoutMs
                    + " ms), so that a live broker whose connection broke can heartbeat again over a new one");
        }
        this.snapshotIntervalSecs = config.get(SNAPSHOT_INTERVAL_SECS);
        this.numPartitions = config.get(NUM_PARTITIONS);
        this.defaultReplicationFactor = config.get(DEFAULT_REPLICATION_FACTOR);
        this.topicLimits = new TopicLimits(config.get(MAX_PARTITIONS), config.get(MAX_PARTITIONS_PER_REQUEST));
        this.requestTimeoutMs = config.get(REQUEST_TIMEOUT_MS);
        this.leaderImbalanceCheckIntervalMs = config.get(AUTO_LEADER_REBALANCE_ENABLE)
                ? config.get(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS) * 1000L : 0;
        this.leaderImbalancePercentage = config.get(LEADER_IMBALANCE_PER_BROKER_PERCENTAGE);
        // Last: a mistake in the settings above is reported before the stores are opened.
        this.raftTls = NodeTls.load(config);
    }

    /** How often leaderships move back to preferred replicas; 0 when auto.leader.rebalance.enable is false. */
    public long leaderImbalanceCheckIntervalMs() {
        return leaderImbalanceCheckIntervalMs;
    }

    public int leaderImbalancePercentage() {
        return leaderImbalancePercentage;
    }

    public List<Voter> voters() {
        return voters;
    }

    /** This node's certificate and the CA it trusts, for the Raft port's mutual TLS. */
    public NodeTls raftTls() {
        return raftTls;
    }

    public int electionTimeoutMs() {
        return electionTimeoutMs;
    }

    public int maxElectionDelayMs() {
        return maxElectionDelayMs;
    }

    public long heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    public long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    /** The session a controller taking over grants every broker. */
    public long takeoverSessionMs() {
        return takeoverSessionMs;
    }

    /**
     * How long a broker whose heartbeat connection closed has to heartbeat again before it is fenced;
     * equal to the session timeout when a closed connection changes nothing.
     */
    public long connectionLossGraceMs() {
        return connectionLossGraceMs;
    }

    public int snapshotIntervalSecs() {
        return snapshotIntervalSecs;
    }

    public int numPartitions() {
        return numPartitions;
    }

    public int defaultReplicationFactor() {
        return defaultReplicationFactor;
    }

    public TopicLimits topicLimits() {
        return topicLimits;
    }

    public long requestTimeoutMs() {
        return requestTimeoutMs;
    }
}
