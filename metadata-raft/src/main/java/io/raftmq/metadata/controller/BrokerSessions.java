package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Broker heartbeat sessions, kept in memory by the active controller only (they are not
 * replicated: a new active controller grants every registered broker a fresh session). A session
 * belongs to one broker epoch; a heartbeat of another epoch does not extend it.
 *
 * <p>A session expires a session timeout after the broker's latest heartbeat, or earlier: when the
 * connection that heartbeat came over closes, the session is cut to {@code connectionLossGraceMs}
 * from then, never lengthened (a process that dies closes its sockets at once; a live broker whose
 * connection broke heartbeats again over a new one within the grace, which restores the full
 * session). A broker cut off by the network or paused keeps its connection open, and only the
 * session timeout applies. A controller taking over has no heartbeat connections yet; it applies
 * the same cut to a broker whose node's Raft connection to it closed ({@link #processGone}).
 *
 * <p>Times are the controller's monotonic clock in ms. Owned by the controller's event-loop thread.
 */
final class BrokerSessions implements BrokerDecisions.SessionView {
    /**
     * @param lastContactMs the latest heartbeat or registration (for log lines)
     * @param expiryMs when the session ends unless the broker heartbeats
     * @param connection what the latest heartbeat or registration came over; null when not known
     * @param connectionLostMs when that connection closed and cut the session short; -1 if it did not
     */
    private record Session(long brokerEpoch, long lastContactMs, long expiryMs, ClientConnection connection,
            long connectionLostMs) {}

    private final long sessionTimeoutMs;
    private final long connectionLossGraceMs;
    private final Map<Integer, Session> sessions = new HashMap<>();

    /**
     * @param connectionLossGraceMs how long a broker whose heartbeat connection closed has to
     *     heartbeat again; positive and at most {@code sessionTimeoutMs}
     */
    BrokerSessions(long sessionTimeoutMs, long connectionLossGraceMs) {
        if (sessionTimeoutMs <= 0 || connectionLossGraceMs <= 0 || connectionLossGraceMs > sessionTimeoutMs) {
            throw new IllegalArgumentException("the connection loss grace (" + connectionLossGraceMs + " ms) must be"
                    + " positive and at most the session timeout (" + sessionTimeoutMs + " ms)");
        }
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.connectionLossGraceMs = connectionLossGraceMs;
    }

    long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    long connectionLossGraceMs() {
        return connectionLossGraceMs;
    }

    /** A full session from {@code nowMs}, remembering {@code connection} (null: not known). */
    void touch(int brokerId, long brokerEpoch, ClientConnection connection, long nowMs) {
        sessions.put(brokerId, new Session(brokerEpoch, nowMs, nowMs + sessionTimeoutMs, connection, -1));
    }

    /**
     * The connection {@code connection} closed at {@code nowMs}: every live session whose latest
     * heartbeat came over it now expires at {@code nowMs + connectionLossGraceMs}, unless it expires
     * sooner anyway. Returns the ids of the brokers whose session this shortened, sorted; a session
     * that a heartbeat over another connection refreshed is not touched, and an unknown (or null)
     * connection changes nothing.
     */
    List<Integer> connectionLost(ClientConnection connection, long nowMs) {
        List<Integer> shortened = new ArrayList<>();
        if (connection == null) {
            return shortened;
        }
        long cutMs = nowMs + connectionLossGraceMs;
        for (Map.Entry<Integer, Session> e : sessions.entrySet()) {
            Session s = e.getValue();
            if (connection.equals(s.connection()) && cutMs < s.expiryMs()) {
                e.setValue(new Session(s.brokerEpoch(), s.lastContactMs(), cutMs, s.connection(), nowMs));
                shortened.add(e.getKey());
            }
        }
        shortened.sort(null);
        return shortened;
    }

    /**
     * The process of broker {@code brokerId} closed its connections at {@code lostAtMs} (a controller
     * taking over learnt it from the node's Raft connection): its session now expires at {@code
     * lostAtMs + connectionLossGraceMs}, unless it expires sooner anyway, as if its heartbeat
     * connection had closed then. Whether the session was shortened. For the sessions {@link
     * #grantAll} just granted, before any heartbeat: a heartbeat proves the broker is back.
     */
    boolean processGone(int brokerId, long lostAtMs) {
        Session s = sessions.get(brokerId);
        long cutMs = lostAtMs + connectionLossGraceMs;
        if (s == null || cutMs >= s.expiryMs()) {
            return false;
        }
        sessions.put(brokerId, new Session(s.brokerEpoch(), s.lastContactMs(), cutMs, s.connection(), lostAtMs));
        return true;
    }

    /**
     * A session for every registered broker that expires in {@code graceMs} (a controller taking
     * over; at most the session timeout). A heartbeat extends it to a full session as usual.
     */
    void grantAll(MetadataImage image, long nowMs, long graceMs) {
        sessions.clear();
        long sessionMs = Math.min(graceMs, sessionTimeoutMs);
        // As if the last contact was a session ago, for the log line of a broker fenced at its end.
        long asIfLastContactMs = nowMs - (sessionTimeoutMs - sessionMs);
        for (BrokerRegistration broker : image.brokers().values()) {
            sessions.put(broker.id(), new Session(broker.epoch(), asIfLastContactMs, nowMs + sessionMs, null, -1));
        }
    }

    void clear() {
        sessions.clear();
    }

    @Override
    public boolean hasLiveSession(int brokerId, long brokerEpoch, long nowMs) {
        Session session = sessions.get(brokerId);
        return session != null && session.brokerEpoch() == brokerEpoch && nowMs < session.expiryMs();
    }

    /** Ids of brokers that are not fenced in {@code image} and whose session has expired, sorted. */
    List<Integer> expired(MetadataImage image, long nowMs) {
        List<Integer> out = new ArrayList<>();
        for (BrokerRegistration broker : image.brokersSorted()) {
            if (!broker.isFenced() && !hasLiveSession(broker.id(), broker.epoch(), nowMs)) {
                out.add(broker.id());
            }
        }
        return out;
    }

    /** When the next unfenced broker's session expires if it does not heartbeat; MAX_VALUE if none. */
    long nextExpiryMs(MetadataImage image) {
        long next = Long.MAX_VALUE;
        for (BrokerRegistration broker : image.brokers().values()) {
            if (broker.isFenced()) {
                continue;
            }
            Session session = sessions.get(broker.id());
            long expiry = session == null || session.brokerEpoch() != broker.epoch()
                    ? Long.MIN_VALUE : session.expiryMs();
            next = Math.min(next, expiry);
        }
        return next;
    }

    /** Milliseconds since the broker's last heartbeat, or -1 when it has no session. */
    long sinceLastContactMs(int brokerId, long nowMs) {
        Session session = sessions.get(brokerId);
        return session == null ? -1 : nowMs - session.lastContactMs();
    }

    /**
     * Milliseconds since the connection of the broker's latest heartbeat closed and cut its session
     * short, or -1 when that did not happen (no session, or a heartbeat since).
     */
    long sinceConnectionLostMs(int brokerId, long nowMs) {
        Session session = sessions.get(brokerId);
        return session == null || session.connectionLostMs() < 0 ? -1 : nowMs - session.connectionLostMs();
    }
}
