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
 * <p>Times are the controller's monotonic clock in ms. Owned by the controller's event-loop thread.
 */
final class BrokerSessions implements BrokerDecisions.SessionView {
    private record Session(long brokerEpoch, long lastContactMs) {}

    private final long sessionTimeoutMs;
    private final Map<Integer, Session> sessions = new HashMap<>();

    BrokerSessions(long sessionTimeoutMs) {
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    void touch(int brokerId, long brokerEpoch, long nowMs) {
        sessions.put(brokerId, new Session(brokerEpoch, nowMs));
    }

    /**
     * A session for every registered broker that expires in {@code graceMs} (a controller taking
     * over; at most the session timeout). A heartbeat extends it to a full session as usual.
     */
    void grantAll(MetadataImage image, long nowMs, long graceMs) {
        sessions.clear();
        long asIfLastContact = nowMs - (sessionTimeoutMs - Math.min(graceMs, sessionTimeoutMs));
        for (BrokerRegistration broker : image.brokers().values()) {
            touch(broker.id(), broker.epoch(), asIfLastContact);
        }
    }

    void clear() {
        sessions.clear();
    }

    @Override
    public boolean hasLiveSession(int brokerId, long brokerEpoch, long nowMs) {
        Session session = sessions.get(brokerId);
        return session != null && session.brokerEpoch() == brokerEpoch
                && nowMs - session.lastContactMs() < sessionTimeoutMs;
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
                    ? Long.MIN_VALUE : session.lastContactMs() + sessionTimeoutMs;
            next = Math.min(next, expiry);
        }
        return next;
    }

    /** Milliseconds since the broker's last heartbeat, or -1 when it has no session. */
    long sinceLastContactMs(int brokerId, long nowMs) {
        Session session = sessions.get(brokerId);
        return session == null ? -1 : nowMs - session.lastContactMs();
    }
}
