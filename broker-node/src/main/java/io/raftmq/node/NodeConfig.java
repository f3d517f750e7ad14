package io.raftmq.node;

import io.raftmq.broker.BrokerConfig;
import io.raftmq.broker.kafka.ListenerSecurity;
import io.raftmq.broker.sasl.NodeUsers;
import io.raftmq.broker.sasl.SaslServers;
import io.raftmq.common.HostPort;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.metadata.log.Voter;
import io.raftmq.metadata.node.ControllerConfig;
import io.raftmq.protocol.rpc.SaslLogin;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A node's configuration: which roles it runs, where it listens and keeps data, and (for each
 * role) that role's settings. Every key is overridable by an environment variable named after it
 * ({@code RAFTMQ_} + the key in upper case with '.' as '_'). Built once at start; a bad value
 * fails the start with a message naming the key.
 */
public final class NodeConfig {
    public static final String ROLE_BROKER = "broker";
    public static final String ROLE_CONTROLLER = "controller";

    public static final ConfigKey<Integer> NODE_ID = ConfigKey.ofInt("node.id", null, 0, Integer.MAX_VALUE,
            "This node's id: its voter id when it is a controller, its broker id when it is a broker.");
    public static final ConfigKey<List<String>> PROCESS_ROLES = ConfigKey.ofList("process.roles",
            List.of(ROLE_BROKER, ROLE_CONTROLLER),
            "The roles this node runs: broker, controller, or both (broker,controller: combined mode).");
    public static final ConfigKey<String> DATA_DIR = ConfigKey.ofString("data.dir", null,
            "Directory for this node's data: the metadata Raft log and snapshots, and partition logs.");
    public static final ConfigKey<String> GRPC_LISTENER = ConfigKey.ofString("grpc.listener", "0.0.0.0:9093",
            "host:port the gRPC server binds (Broker, Replica and Controller services); 0.0.0.0 for every"
                    + " interface.");
    public static final ConfigKey<String> GRPC_ADVERTISED_LISTENER = ConfigKey.ofString(
            "grpc.advertised.listener", "",
            "host:port other nodes and clients use to reach this node's gRPC server. Default: the listener,"
                    + " with this machine's host name when the listener binds every interface.");
    public static final ConfigKey<String> HTTP_LISTENER = ConfigKey.ofString("http.listener", "0.0.0.0:8080",
            "host:port of the HTTP server for health checks (GET /health) and Prometheus metrics (GET /metrics);"
                    + " none: no HTTP server. Nodes sharing one host need distinct ports.");
    /** The {@link #HTTP_LISTENER} value that turns the HTTP server off (an empty value means the default). */
    public static final String NO_HTTP_LISTENER = "none";
    public static final ConfigKey<Long> HTTP_READ_TIMEOUT_MS = ConfigKey.ofLong("http.read.timeout.ms", 10_000L, 1,
            600_000, "An HTTP connection that has not sent its whole request this long after opening is closed;"
                    + " every answer closes its connection.");
    public static final ConfigKey<Integer> HTTP_MAX_CONNECTIONS = ConfigKey.ofInt("http.max.connections", 32, 1,
            10_000, "HTTP connections open at once; one more is closed as soon as it is accepted.");
    public static final ConfigKey<String> HTTP_ADVERTISED_LISTENER = ConfigKey.ofString(
            "http.advertised.listener", "",
            "host:port browsers and the other nodes use to reach this node's HTTP server (the web view and its"
                    + " peers' /api/local); a broker registers it. Default: the listener, with this machine's host"
                    + " name when the listener binds every interface.");
    public static final ConfigKey<Integer> HTTP_MAX_EVENT_STREAMS = ConfigKey.ofInt("http.max.event.streams", 20, 0,
            1_000, "Web view event streams (GET /api/events) open at once, apart from http.max.connections so"
                    + " that open pages never starve /health; one more is answered 503.");
    public static final ConfigKey<String> KAFKA_LISTENER = ConfigKey.ofString("kafka.listener", "0.0.0.0:9092",
            "host:port of the broker's Kafka wire-protocol listener, for Kafka's clients and tools; 0.0.0.0 for"
                    + " every interface; none: no Kafka listener. Only on nodes with the broker role.");
    /** The {@link #KAFKA_LISTENER} value that turns the Kafka listener off. */
    public static final String NO_KAFKA_LISTENER = "none";
    public static final ConfigKey<String> KAFKA_ADVERTISED_LISTENER = ConfigKey.ofString(
            "kafka.advertised.listener", "",
            "host:port Kafka clients are told to use for this broker (Metadata answers). Default: the Kafka"
                    + " listener, with this machine's host name when it binds every interface.");
    public static final ConfigKey<String> CONTROLLER_BOOTSTRAP = ConfigKey.ofString(
            "controller.quorum.bootstrap.servers", "",
            "gRPC host:port of the controller voters, comma-separated, for brokers to find the active controller."
                    + " Default on a node that is also a controller: its own gRPC address.");
    public static final ConfigKey<String> BROKER_RACK = ConfigKey.ofString("broker.rack", "",
            "Failure domain of this broker; replicas of a partition are spread over racks.");
    public static final ConfigKey<Long> CONTROLLED_SHUTDOWN_TIMEOUT_MS = ConfigKey.ofLong(
            "controlled.shutdown.timeout.ms", 30_000L, 0, 600_000,
            "On SIGTERM, how long a broker waits for the controller to move its leaderships away before it"
                    + " stops anyway.");
    public static final ConfigKey<Long> BROKER_LEASE_MARGIN_MS = ConfigKey.ofLong("broker.lease.margin.ms", -1L, -1,
            600_000, "A broker that has had no answer from the controller to anything it sent in the last"
                    + " broker.session.timeout.ms minus this stops acting as leader (it answers"
                    + " NOT_LEADER_OR_FOLLOWER and names no leader in metadata) until the controller answers"
                    + " again: it stops before the controller fences it and elects another leader. At most the"
                    + " session timeout minus two heartbeat intervals; -1: one heartbeat interval.");

    public static final ConfigKey<Boolean> METADATA_RECOVERY_ALLOW_EMPTY = ConfigKey.ofBoolean(
            "metadata.recovery.allow.empty", false,
            "Lets a controller voter whose data directory was lost start empty and copy the metadata from the"
                    + " other voters (README: Recovering a wiped node). Without it such a node refuses to start."
                    + " Set it for one start, while the other voters are up, then remove it.");

    /** {@link #GRPC_LISTENER_SECURITY_PROTOCOL}'s values (as parsed: lower case). */
    public static final String GRPC_PLAINTEXT = "plaintext";
    public static final String GRPC_SSL = "ssl";
    public static final String GRPC_SASL_SSL = "sasl_ssl";
    public static final String GRPC_SASL_PLAINTEXT = "sasl_plaintext";
    public static final ConfigKey<String> GRPC_LISTENER_SECURITY_PROTOCOL = ConfigKey.ofChoice(
            "grpc.listener.security.protocol", GRPC_PLAINTEXT,
            List.of(GRPC_PLAINTEXT, GRPC_SSL, GRPC_SASL_SSL, GRPC_SASL_PLAINTEXT),
            "Security of the gRPC port and of the connections nodes open to each other's gRPC ports. PLAINTEXT"
                    + " (default): anyone who reaches the port may call anything, including the RPCs meant for"
                    + " brokers only. SSL: TLS with the ssl.keystore.* / ssl.truststore.* stores; a client may"
                    + " present a certificate (it becomes its principal, User:<subject>); the node-only RPCs"
                    + " (broker registration, heartbeats, AlterPartition, replica fetch, ...) require a node's"
                    + " certificate (CN=node-<id>) naming the broker id the request claims. SASL_SSL: TLS as"
                    + " SSL, and a caller without a node certificate must authenticate with SASL"
                    + " (sasl.enabled.mechanisms, against the SCRAM credentials in the metadata) before any"
                    + " client RPC; its principal is User:<SASL user>. SASL_PLAINTEXT: SASL as SASL_SSL, without"
                    + " TLS; nodes prove who they are by authenticating as node-<id> with grpc.sasl.node.secret,"
                    + " and every call, a node's too, needs a session. One value for the whole cluster: a TLS"
                    + " node and a PLAINTEXT node cannot talk.");
    public static final ConfigKey<String> GRPC_SASL_NODE_SECRET = ConfigKey.ofString("grpc.sasl.node.secret", "",
            "With grpc.listener.security.protocol=SASL_PLAINTEXT (required there, at least "
                    + "16 characters): the secret every node of the cluster shares and authenticates to the others'"
                    + " gRPC ports with, as the SASL user node-<id> (SCRAM-SHA-512 when enabled in"
                    + " sasl.enabled.mechanisms, else SCRAM-SHA-256, else PLAIN). Whoever knows it can act as"
                    + " any node: keep it as a keystore password is kept. Users named node-<id> in the metadata"
                    + " are not consulted on that port.");
    /** A node secret shorter than this is refused: it would be guessable. */
    static final int MIN_NODE_SECRET_CHARS = 16;
    public static final ConfigKey<Long> GRPC_SASL_SESSION_LIFETIME_MS = ConfigKey.ofLong(
            "grpc.sasl.session.lifetime.ms", 3_600_000L, 1_000, 7L * 24 * 3_600_000,
            "With grpc.listener.security.protocol=SASL_SSL: how long the session token a client gets from a"
                    + " SASL authentication stays valid on the node that issued it; the SDK authenticates again"
                    + " before then. Calls already running (streams) are not cut at expiry.");

    static final List<ConfigKey<?>> NODE_KEYS = List.of(NODE_ID, PROCESS_ROLES, DATA_DIR, GRPC_LISTENER,
            GRPC_ADVERTISED_LISTENER, HTTP_LISTENER, HTTP_ADVERTISED_LISTENER, HTTP_READ_TIMEOUT_MS, HTTP_MAX_CONNECTIONS,
            HTTP_MAX_EVENT_STREAMS, KAFKA_LISTENER,
            KAFKA_ADVERTISED_LISTENER, CONTROLLER_BOOTSTRAP, BROKER_RACK, CONTROLLED_SHUTDOWN_TIMEOUT_MS,
            METADATA_RECOVERY_ALLOW_EMPTY, BROKER_LEASE_MARGIN_MS, GRPC_LISTENER_SECURITY_PROTOCOL,
            GRPC_SASL_SESSION_LIFETIME_MS, GRPC_SASL_NODE_SECRET);

    /** Every key a node reads. */
    public static List<ConfigKey<?>> allKeys() {
        List<ConfigKey<?>> all = new ArrayList<>(NODE_KEYS);
        all.addAll(NodeTls.KEYS);
        all.addAll(ControllerConfig.KEYS);
        all.addAll(BrokerConfig.KEYS);
        return List.copyOf(all);
    }

    private final int nodeId;
    private final Set<String> roles;
    private final Path dataDir;
    private final HostPort listener;
    private final HostPort advertisedListener;
    /** The gRPC port's TLS identity and trust; null with PLAINTEXT. */
    private final NodeTls grpcTls;
    /** The SASL mechanisms the gRPC port offers; empty unless SASL_SSL or SASL_PLAINTEXT. */
    private final List<String> grpcSaslMechanisms;
    /** SASL_PLAINTEXT: how this node authenticates to the others' gRPC ports; null otherwise. */
    private final SaslLogin grpcNodeLogin;
    private final long grpcSaslSessionLifetimeMs;
    private final HostPort httpListener;
    private final long httpReadTimeoutMs;
    private final int httpMaxConnections;
    /** Null when the HTTP server is off. */
    private final HostPort httpAdvertisedListener;
    private final int httpMaxEventStreams;
    private final HostPort kafkaListener;
    private final HostPort kafkaAdvertisedListener;
    private final List<HostPort> controllerBootstrap;
    private final String rack;
    private final long controlledShutdownTimeoutMs;
    private final boolean metadataRecoveryAllowEmpty;
    private final long heartbeatIntervalMs;
    private final long sessionTimeoutMs;
    private final long leaseMarginMs;
    private final ControllerConfig controllerConfig;
    private final BrokerConfig brokerConfig;
    private final Set<String> unknownKeys;

    public NodeConfig(Config config) {
        this.nodeId = config.get(NODE_ID);
        this.roles = parseRoles(config.get(PROCESS_ROLES));
        this.dataDir = Path.of(config.get(DATA_DIR));
        this.listener = hostPort(GRPC_LISTENER, config.get(GRPC_LISTENER));
        String advertised = config.get(GRPC_ADVERTISED_LISTENER);
        this.advertisedListener = advertised.isBlank() ? defaultAdvertised(GRPC_ADVERTISED_LISTENER, listener)
                : hostPort(GRPC_ADVERTISED_LISTENER, advertised);
        String grpcProtocol = config.get(GRPC_LISTENER_SECURITY_PROTOCOL);
        this.grpcTls = grpcProtocol.equals(GRPC_SSL) || grpcProtocol.equals(GRPC_SASL_SSL) ? NodeTls.load(config)
                : null;
        boolean sasl = grpcProtocol.equals(GRPC_SASL_SSL) || grpcProtocol.equals(GRPC_SASL_PLAINTEXT);
        this.grpcSaslMechanisms = sasl ? SaslServers.enabled(ListenerSecurity.SASL_ENABLED_MECHANISMS.name(),
                config.get(ListenerSecurity.SASL_ENABLED_MECHANISMS), "grpc.listener.security.protocol="
                        + grpcProtocol.toUpperCase(Locale.ROOT)) : List.of();
        this.grpcNodeLogin = grpcProtocol.equals(GRPC_SASL_PLAINTEXT)
                ? nodeLogin(nodeId, config.get(GRPC_SASL_NODE_SECRET), grpcSaslMechanisms) : null;
        this.grpcSaslSessionLifetimeMs = config.get(GRPC_SASL_SESSION_LIFETIME_MS);
        String http = config.get(HTTP_LISTENER);
        this.httpListener = http.equalsIgnoreCase(NO_HTTP_LISTENER) ? null : hostPort(HTTP_LISTENER, http);
        this.httpReadTimeoutMs = config.get(HTTP_READ_TIMEOUT_MS);
        this.httpMaxConnections = config.get(HTTP_MAX_CONNECTIONS);
        String httpAdvertised = config.get(HTTP_ADVERTISED_LISTENER);
        this.httpAdvertisedListener = httpListener == null ? null : httpAdvertised.isBlank()
                ? defaultAdvertised(HTTP_ADVERTISED_LISTENER, httpListener)
                : hostPort(HTTP_ADVERTISED_LISTENER, httpAdvertised);
        this.httpMaxEventStreams = config.get(HTTP_MAX_EVENT_STREAMS);
        String kafka = config.get(KAFKA_LISTENER);
        if (!roles.contains(ROLE_BROKER) || kafka.equalsIgnoreCase(NO_KAFKA_LISTENER)) {
            this.kafkaListener = null;
            this.kafkaAdvertisedListener = null;
        } else {
            this.kafkaListener = hostPort(KAFKA_LISTENER, kafka);
            String kafkaAdvertised = config.get(KAFKA_ADVERTISED_LISTENER);
            this.kafkaAdvertisedListener = kafkaAdvertised.isBlank()
                    ? defaultAdvertised(KAFKA_ADVERTISED_LISTENER, kafkaListener)
                    : hostPort(KAFKA_ADVERTISED_LISTENER, kafkaAdvertised);
            if (kafkaListener.port() == listener.port() && (kafkaListener.host().equals(listener.host())
                    || isWildcard(kafkaListener.host()) || isWildcard(listener.host()))) {
                throw new ConfigException(KAFKA_LISTENER.name(), kafka, "the gRPC server (" + GRPC_LISTENER.name()
                        + "=" + listener + ") uses the same port");
            }
        }
        this.rack = config.get(BROKER_RACK);
        this.controlledShutdownTimeoutMs = config.get(CONTROLLED_SHUTDOWN_TIMEOUT_MS);
        this.metadataRecoveryAllowEmpty = config.get(METADATA_RECOVERY_ALLOW_EMPTY);
        this.heartbeatIntervalMs = config.get(ControllerConfig.BROKER_HEARTBEAT_INTERVAL_MS);
        this.sessionTimeoutMs = config.get(ControllerConfig.BROKER_SESSION_TIMEOUT_MS);
        this.controllerConfig = roles.contains(ROLE_CONTROLLER) ? new ControllerConfig(config) : null;
        this.brokerConfig = roles.contains(ROLE_BROKER) ? new BrokerConfig(config) : null;
        // After the controller's checks, which bound the heartbeat interval by the session.
        long margin = config.get(BROKER_LEASE_MARGIN_MS);
        this.leaseMarginMs = margin >= 0 ? margin
                : Math.max(0, Math.min(heartbeatIntervalMs, sessionTimeoutMs - 2 * heartbeatIntervalMs));
        if (sessionTimeoutMs - leaseMarginMs < 2 * heartbeatIntervalMs && margin >= 0) {
            throw new ConfigException(BROKER_LEASE_MARGIN_MS.name(), String.valueOf(margin), "must leave a lease"
                    + " (" + ControllerConfig.BROKER_SESSION_TIMEOUT_MS.name() + ", " + sessionTimeoutMs + " ms, minus"
                    + " the margin) of at least two heartbeat intervals (" + 2 * heartbeatIntervalMs + " ms), so"
                    + " that one lost heartbeat does not stop a leader");
        }
        if (controllerConfig != null && controllerConfig.voters().stream().noneMatch(v -> v.nodeId() == nodeId)) {
            throw new ConfigException(ControllerConfig.QUORUM_VOTERS.name(), config.get(ControllerConfig.QUORUM_VOTERS),
                    "node " + nodeId + " runs the controller role but is not among the voters");
        }
        String bootstrap = config.get(CONTROLLER_BOOTSTRAP);
        if (!bootstrap.isBlank()) {
            try {
                this.controllerBootstrap = HostPort.parseList(bootstrap);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(CONTROLLER_BOOTSTRAP.name(), bootstrap, e.getMessage());
            }
        } else if (controllerConfig != null) {
            this.controllerBootstrap = List.of(advertisedListener);
        } else {
            throw new ConfigException("missing required config " + CONTROLLER_BOOTSTRAP.name() + " (environment: "
                    + CONTROLLER_BOOTSTRAP.envName() + "): a broker-only node must know where the controllers are");
        }
        this.unknownKeys = config.unknownKeys();
    }

    private static Set<String> parseRoles(List<String> values) {
        Set<String> roles = new LinkedHashSet<>();
        for (String value : values) {
            String role = value.toLowerCase(Locale.ROOT);
            if (!role.equals(ROLE_BROKER) && !role.equals(ROLE_CONTROLLER)) {
                throw new ConfigException(PROCESS_ROLES.name(), String.join(",", values),
                        "unknown role '" + value + "'; the roles are broker and controller");
            }
            if (!roles.add(role)) {
                throw new ConfigException(PROCESS_ROLES.name(), String.join(",", values), "role " + role
                        + " is listed twice");
            }
        }
        if (roles.isEmpty()) {
            throw new ConfigException(PROCESS_ROLES.name(), "", "at least one role (broker, controller) is needed");
        }
        return Set.copyOf(roles);
    }

    private static HostPort hostPort(ConfigKey<String> key, String text) {
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key.name(), text, e.getMessage());
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::");
    }

    private static HostPort defaultAdvertised(ConfigKey<String> advertisedKey, HostPort listener) {
        if (!isWildcard(listener.host())) {
            return listener;
        }
        try {
            return new HostPort(InetAddress.getLocalHost().getCanonicalHostName(), listener.port());
        } catch (UnknownHostException e) {
            throw new ConfigException(advertisedKey.name(), "", "the listener binds every interface and"
                    + " this machine's host name cannot be resolved (" + e.getMessage() + "); set it explicitly");
        }
    }

    public int nodeId() {
        return nodeId;
    }

    public boolean isBroker() {
        return roles.contains(ROLE_BROKER);
    }

    public boolean isController() {
        return roles.contains(ROLE_CONTROLLER);
    }

    public List<String> roles() {
        List<String> out = new ArrayList<>();
        if (isBroker()) {
            out.add(ROLE_BROKER);
        }
        if (isController()) {
            out.add(ROLE_CONTROLLER);
        }
        return out;
    }

    public Path dataDir() {
        return dataDir;
    }

    public HostPort listener() {
        return listener;
    }

    public HostPort advertisedListener() {
        return advertisedListener;
    }

    /** The gRPC port's TLS identity and trust (grpc.listener.security.protocol=SSL or SASL_SSL), or null for PLAINTEXT. */
    public NodeTls grpcTls() {
        return grpcTls;
    }

    /** The SASL mechanisms clients authenticate with on the gRPC port: empty unless it is SASL_SSL or SASL_PLAINTEXT. */
    public List<String> grpcSaslMechanisms() {
        return grpcSaslMechanisms;
    }

    /**
     * With grpc.listener.security.protocol=SASL_PLAINTEXT, how this node authenticates to the other
     * nodes' gRPC ports (user {@code node-<id>}, the node secret, the strongest enabled mechanism);
     * null otherwise.
     */
    public SaslLogin grpcNodeLogin() {
        return grpcNodeLogin;
    }

    /** The node's own SASL login on a SASL_PLAINTEXT gRPC port; fails naming the setting at fault. */
    private static SaslLogin nodeLogin(int nodeId, String secret, List<String> mechanisms) {
        if (secret.length() < MIN_NODE_SECRET_CHARS) {
            throw new ConfigException(GRPC_SASL_NODE_SECRET.name(), secret.isEmpty() ? "" : "(hidden)",
                    "grpc.listener.security.protocol=SASL_PLAINTEXT needs the cluster's node secret, at least "
                            + MIN_NODE_SECRET_CHARS + " characters" + (secret.isEmpty() ? "" : " (it has "
                            + secret.length() + ")") + ", the same on every node");
        }
        String mechanism = mechanisms.contains(SaslLogin.SCRAM_SHA_512) ? SaslLogin.SCRAM_SHA_512
                : mechanisms.contains(SaslLogin.SCRAM_SHA_256) ? SaslLogin.SCRAM_SHA_256 : SaslLogin.PLAIN;
        return new SaslLogin(mechanism, NodeUsers.PREFIX + nodeId, secret);
    }

    public long grpcSaslSessionLifetimeMs() {
        return grpcSaslSessionLifetimeMs;
    }

    /** Where the health and metrics HTTP server binds, or null when it is turned off. */
    public HostPort httpListener() {
        return httpListener;
    }

    public long httpReadTimeoutMs() {
        return httpReadTimeoutMs;
    }

    public int httpMaxConnections() {
        return httpMaxConnections;
    }

    /** Where browsers and other nodes reach the HTTP server, or null when it is turned off. */
    public HostPort httpAdvertisedListener() {
        return httpAdvertisedListener;
    }

    public int httpMaxEventStreams() {
        return httpMaxEventStreams;
    }

    /** Where the Kafka listener binds, or null when it is off (or this node is not a broker). */
    public HostPort kafkaListener() {
        return kafkaListener;
    }

    /** The Kafka address this broker registers and Metadata answers name; null when the listener is off. */
    public HostPort kafkaAdvertisedListener() {
        return kafkaAdvertisedListener;
    }

    public List<HostPort> controllerBootstrap() {
        return controllerBootstrap;
    }

    public String rack() {
        return rack;
    }

    /** Whether a voter whose data directory was lost may start empty (metadata.recovery.allow.empty). */
    public boolean metadataRecoveryAllowEmpty() {
        return metadataRecoveryAllowEmpty;
    }

    public long controlledShutdownTimeoutMs() {
        return controlledShutdownTimeoutMs;
    }

    public long heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    public long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    /** How much earlier than the controller's session timeout a broker without answers stops leading. */
    public long leaseMarginMs() {
        return leaseMarginMs;
    }

    /** The controller role's settings; null when this node is not a controller. */
    public ControllerConfig controllerConfig() {
        return controllerConfig;
    }

    /** The broker role's settings; null when this node is not a broker. */
    public BrokerConfig brokerConfig() {
        return brokerConfig;
    }

    public List<Voter> voters() {
        return controllerConfig == null ? List.of() : controllerConfig.voters();
    }

    public Set<String> unknownKeys() {
        return unknownKeys;
    }
}
