package io.raftmq.node.grpc;

import io.raftmq.common.Time;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The session tokens this node has issued after a successful SASL authentication on its SASL gRPC
 * port: token -> (caller, expiry). A token is 32 bytes from {@link SecureRandom},
 * base64url without padding; it is valid on this node only, until its expiry ({@code
 * grpc.sasl.session.lifetime.ms} after issue) or the node's restart (the map is in memory only).
 * Expired tokens are removed when looked up and, all of them, whenever a token is issued; at most
 * {@link #MAX_SESSIONS} live at once (the oldest-expiring is dropped to make room).
 *
 * <p>Thread-safe: every method holds this object's monitor (the map's one lock); issue runs on the
 * gRPC handler pool, lookups on transport threads; each is a map operation, no I/O.
 */
public final class GrpcSessions {
    /** Bounds the memory a flood of authentications can take. */
    static final int MAX_SESSIONS = 100_000;
    private static final int TOKEN_BYTES = 32;

    /**
     * Who a valid token stands for.
     *
     * @param nodeId the node the caller proved it is (SASL_PLAINTEXT: the user {@code node-<id>} with
     *     the cluster's node secret), or {@link #NOT_A_NODE}
     */
    public record Caller(KafkaPrincipal principal, int nodeId) {
        public static final int NOT_A_NODE = -1;

        public boolean isNode() {
            return nodeId != NOT_A_NODE;
        }
    }

    /** One issued session. */
    private record Session(Caller caller, long expiresAtMs) {}

    private final Time time;
    private final long lifetimeMs;
    private final SecureRandom random = new SecureRandom();
    // Guarded by this.
    private final Map<String, Session> sessions = new HashMap<>();

    public GrpcSessions(Time time, long lifetimeMs) {
        this.time = time;
        this.lifetimeMs = lifetimeMs;
    }

    public long lifetimeMs() {
        return lifetimeMs;
    }

    /** A new token for {@code caller}, valid for {@link #lifetimeMs()} from now. */
    public synchronized String issue(Caller caller) {
        long now = time.milliseconds();
        sessions.values().removeIf(s -> s.expiresAtMs() <= now);
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().stream().min(Comparator.comparingLong(e -> e.getValue().expiresAtMs()))
                    .map(Map.Entry::getKey).ifPresent(sessions::remove);
        }
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        sessions.put(token, new Session(caller, now + lifetimeMs));
        return token;
    }

    /** The caller of a token that is valid now; empty for an unknown or expired one (removed). */
    public synchronized Optional<Caller> callerOf(String token) {
        Session session = sessions.get(token);
        if (session == null) {
            return Optional.empty();
        }
        if (session.expiresAtMs() <= time.milliseconds()) {
            sessions.remove(token);
            return Optional.empty();
        }
        return Optional.of(session.caller());
    }

    /** How many sessions are held (expired ones not yet removed included). */
    synchronized int size() {
        return sessions.size();
    }
}
