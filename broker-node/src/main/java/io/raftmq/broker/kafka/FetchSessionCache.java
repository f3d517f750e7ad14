package io.raftmq.broker.kafka;

import io.raftmq.common.Time;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka fetch sessions (KIP-227), as kafka-clients' FetchSessionHandler uses them: a consumer
 * sends its partitions once; later fetches in the session carry only partitions added or changed
 * and those to forget, and the answers only partitions with something to say.
 *
 * <p>A fetch's (session id, epoch) decides its {@link Context}:
 *
 * <ul>
 *   <li>(0, -1), every Fetch below v7: {@link Sessionless}, answered in full with session id 0;
 *   <li>(any, 0): a full fetch that asks for a session ({@link NewSession}); a session it names is
 *       closed first. Its answer creates a session holding the answered partitions (those that
 *       returned records last), at epoch 1, and gives its id; or id 0 when the cache is full and
 *       no session has been idle longer than the eviction bound (the least recently used such
 *       session makes room), or when sessions are off (0 slots): the client then fetches in full;
 *   <li>(id, -1): closes the session and is answered as sessionless;
 *   <li>(id, e > 0): {@link Incremental}: refused when no session has the id
 *       (FETCH_SESSION_ID_NOT_FOUND), when e is not the session's epoch
 *       (INVALID_FETCH_SESSION_EPOCH), or when the session named topics by id and the request by
 *       name or the other way round (FETCH_SESSION_TOPIC_ID_ERROR). Otherwise the request's
 *       partitions are added or updated, the forgotten ones dropped, and the session moves to the
 *       next epoch; a session left without partitions is closed and the fetch answered as
 *       sessionless. The answer lists a partition only when it has records, an error or a
 *       divergence, or when its high watermark, last stable offset or log start offset changed
 *       since the session last told the client; a partition that returned records moves to the
 *       end of the session's order, so one busy partition cannot take every answer's byte budget.
 * </ul>
 *
 * <p>Bounds: at most {@code maxSessions} sessions (max.incremental.fetch.session.cache.slots);
 * each holds the partitions its client fetches (a request's size bounds them).
 *
 * <p>Thread-safe: connections on several event loops share one cache, and fetch answers complete
 * on purgatory threads. One lock guards every session and its partitions; a call holds it for one
 * pass over one request's or answer's partitions and never across a read or a wait.
 */
final class FetchSessionCache {
    /**
     * How long a session must be unused before a new one may take its slot: Kafka's
     * min.incremental.fetch.session.eviction.ms default.
     */
    static final long EVICTION_MS = 120_000;

    private static final Logger LOG = LoggerFactory.getLogger(FetchSessionCache.class);

    /**
     * A partition as a fetch names it: by topic id (Fetch v13+; {@code topic} null) or by name
     * (older; {@code topicId} {@link Uuid#ZERO_UUID}).
     */
    record FetchKey(Uuid topicId, String topic, int partition) {
        static FetchKey byId(Uuid topicId, int partition) {
            return new FetchKey(topicId, null, partition);
        }

        static FetchKey byName(String topic, int partition) {
            return new FetchKey(Uuid.ZERO_UUID, topic, partition);
        }

        boolean sameTopic(FetchKey other) {
            return topicId.equals(other.topicId) && Objects.equals(topic, other.topic);
        }

        @Override
        public String toString() {
            return (topic != null ? topic : topicId.toString()) + "-" + partition;
        }
    }

    /** What a client asks of one partition. */
    record PartitionFetch(FetchKey key, long fetchOffset, int maxBytes, int currentLeaderEpoch,
            int lastFetchedEpoch) {}

    /** One partition's answer as it would be sent, and whether it reports a divergence. */
    record PartitionAnswer(FetchKey key, FetchResponseData.PartitionData data, boolean diverged) {}

    /** What goes out: the top-level error, the session id (0: none), the partitions to list. */
    record Outcome(Errors error, int sessionId, List<PartitionAnswer> partitions) {}

    /** A fetch request's place in the session protocol. */
    sealed interface Context permits Sessionless, NewSession, Incremental, Refused {
        /** The partitions to read, in the order to read them. */
        List<PartitionFetch> partitions();

        /** Records what was read and says what to answer (answers in {@link #partitions()} order). */
        Outcome answer(List<PartitionAnswer> answers);
    }

    /** A fetch refused for its session: answered with {@code error} and no partition. */
    record Refused(Errors error) implements Context {
        @Override
        public List<PartitionFetch> partitions() {
            return List.of();
        }

        @Override
        public Outcome answer(List<PartitionAnswer> answers) {
            return new Outcome(error, FetchMetadata.INVALID_SESSION_ID, List.of());
        }
    }

    /** A full fetch without a session. */
    record Sessionless(List<PartitionFetch> partitions) implements Context {
        @Override
        public Outcome answer(List<PartitionAnswer> answers) {
            return new Outcome(Errors.NONE, FetchMetadata.INVALID_SESSION_ID, answers);
        }
    }

    /** A full fetch whose answer opens a session. */
    final class NewSession implements Context {
        private final boolean usesTopicIds;
        private final List<PartitionFetch> partitions;

        private NewSession(boolean usesTopicIds, List<PartitionFetch> partitions) {
            this.usesTopicIds = usesTopicIds;
            this.partitions = partitions;
        }

        @Override
        public List<PartitionFetch> partitions() {
            return partitions;
        }

        @Override
        public Outcome answer(List<PartitionAnswer> answers) {
            Map<FetchKey, PartitionFetch> requested = new HashMap<>();
            partitions.forEach(p -> requested.put(p.key(), p));
            int id = create(usesTopicIds, answers, requested);
            return new Outcome(Errors.NONE, id, answers);
        }
    }

    /** A fetch within a session, at the session's next epoch. */
    final class Incremental implements Context {
        private final Session session;
        private final int epoch;
        private final List<PartitionFetch> partitions;

        private Incremental(Session session, int epoch, List<PartitionFetch> partitions) {
            this.session = session;
            this.epoch = epoch;
            this.partitions = partitions;
        }

        @Override
        public List<PartitionFetch> partitions() {
            return partitions;
        }

        @Override
        public Outcome answer(List<PartitionAnswer> answers) {
            return select(session, epoch, answers);
        }
    }

    /** Guarded by {@link #lock}. */
    private static final class Session {
        final int id;
        final boolean usesTopicIds;
        /** The client's partitions in fetch order; those that returned records last. */
        final LinkedHashMap<FetchKey, CachedPartition> partitions = new LinkedHashMap<>();
        int epoch;
        long lastUsedMs;

        Session(int id, boolean usesTopicIds, long nowMs) {
            this.id = id;
            this.usesTopicIds = usesTopicIds;
            this.epoch = FetchMetadata.nextEpoch(FetchMetadata.INITIAL_EPOCH);
            this.lastUsedMs = nowMs;
        }

        List<PartitionFetch> requests() {
            List<PartitionFetch> out = new ArrayList<>(partitions.size());
            partitions.values().forEach(c -> out.add(c.request));
            return out;
        }
    }

    /** A session's partition: what the client asks, and what it was last told. Guarded by {@link #lock}. */
    private static final class CachedPartition {
        PartitionFetch request;
        long highWatermark = -1;
        long lastStableOffset = -1;
        long logStartOffset = -1;

        CachedPartition(PartitionFetch request) {
            this.request = request;
        }

        /** Whether {@code answer} tells the client something new; remembers what it tells. */
        boolean update(PartitionAnswer answer) {
            FetchResponseData.PartitionData data = answer.data();
            boolean failed = data.errorCode() != Errors.NONE.code();
            boolean changed = highWatermark != data.highWatermark() || lastStableOffset != data.lastStableOffset()
                    || logStartOffset != data.logStartOffset();
            // After an error the client is told the high watermark again once the error is gone.
            highWatermark = failed ? -1 : data.highWatermark();
            lastStableOffset = data.lastStableOffset();
            logStartOffset = data.logStartOffset();
            return hasRecords(answer) || failed || answer.diverged() || changed;
        }
    }

    private final int brokerId;
    private final int maxSessions;
    private final long evictionMs;
    private final Time time;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}: least recently used first. */
    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>();
    /** Guarded by {@link #lock}; the random session ids. */
    private final RandomGenerator random;
    /** Guarded by {@link #lock}: the last new session found no slot (logged once per episode). */
    private boolean full;

    /** @param maxSessions max.incremental.fetch.session.cache.slots; 0 turns sessions off */
    FetchSessionCache(int brokerId, int maxSessions) {
        this(brokerId, maxSessions, EVICTION_MS, Time.SYSTEM, new SplittableRandom());
    }

    FetchSessionCache(int brokerId, int maxSessions, long evictionMs, Time time, RandomGenerator random) {
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be >= 0; got " + maxSessions);
        }
        this.brokerId = brokerId;
        this.maxSessions = maxSessions;
        this.evictionMs = evictionMs;
        this.time = time;
        this.random = random;
    }


    /** Sessions now open. */
    int size() {
        lock.lock();
        try {
            return sessions.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Places a fetch in the session protocol (see the class comment).
     *
     * @param usesTopicIds whether the request names topics by id (Fetch v13+)
     * @param requested the request's partitions in request order
     * @param forgotten partitions an incremental fetch drops from its session
     */
    Context open(boolean usesTopicIds, int sessionId, int epoch, List<PartitionFetch> requested,
            List<FetchKey> forgotten) {
        boolean isFull = epoch == FetchMetadata.INITIAL_EPOCH || epoch == FetchMetadata.FINAL_EPOCH;
        lock.lock();
        try {
            if (isFull) {
                if (sessionId != FetchMetadata.INVALID_SESSION_ID) {
                    Session closed = sessions.remove(sessionId);
                    if (closed != null) {
                        LOG.debug("[broker {}] fetch session {} closed by its client", brokerId, sessionId);
                    }
                }
                return epoch == FetchMetadata.FINAL_EPOCH || maxSessions == 0 ? new Sessionless(requested)
                        : new NewSession(usesTopicIds, requested);
            }
            Session session = sessions.get(sessionId);
            if (session == null) {
                return new Refused(Errors.FETCH_SESSION_ID_NOT_FOUND);
            }
            if (session.epoch != epoch) {
                return new Refused(Errors.INVALID_FETCH_SESSION_EPOCH);
            }
            if (session.usesTopicIds != usesTopicIds) {
                return new Refused(Errors.FETCH_SESSION_TOPIC_ID_ERROR);
            }
            for (PartitionFetch p : requested) {
                CachedPartition cached = session.partitions.get(p.key());
                if (cached == null) {
                    session.partitions.put(p.key(), new CachedPartition(p));
                } else {
                    cached.request = p;
                }
            }
            forgotten.forEach(session.partitions::remove);
            if (session.partitions.isEmpty()) {
                sessions.remove(sessionId);
                LOG.debug("[broker {}] fetch session {} closed: its client forgot every partition", brokerId,
                        sessionId);
                return new Sessionless(requested);
            }
            touch(session);
            session.epoch = FetchMetadata.nextEpoch(session.epoch);
            return new Incremental(session, session.epoch, session.requests());
        } finally {
            lock.unlock();
        }
    }

    /** Moves the session to the most recently used end. Holds the lock. */
    private void touch(Session session) {
        sessions.remove(session.id);
        session.lastUsedMs = time.monotonicMs();
        sessions.put(session.id, session);
    }

    /** A new session with the answered partitions, or 0 when there is no slot for it. */
    private int create(boolean usesTopicIds, List<PartitionAnswer> answers, Map<FetchKey, PartitionFetch> requested) {
        lock.lock();
        try {
            long nowMs = time.monotonicMs();
            if (sessions.size() >= maxSessions && !evictIdle(nowMs)) {
                if (!full) {
                    full = true;
                    LOG.info("[broker {}] fetch session cache full ({} sessions, none idle for {} ms): new"
                            + " consumers fetch without a session until one is", brokerId, sessions.size(),
                            evictionMs);
                }
                return FetchMetadata.INVALID_SESSION_ID;
            }
            if (full) {
                full = false;
                LOG.info("[broker {}] fetch session cache has room again ({} of {} sessions)", brokerId,
                        sessions.size(), maxSessions);
            }
            int id;
            do {
                id = random.nextInt(1, Integer.MAX_VALUE);
            } while (sessions.containsKey(id));
            Session session = new Session(id, usesTopicIds, nowMs);
            List<PartitionAnswer> withRecords = new ArrayList<>();
            for (PartitionAnswer a : answers) {
                if (hasRecords(a)) {
                    withRecords.add(a); // read last next time, as in an incremental answer
                } else {
                    session.partitions.put(a.key(), cached(requested.get(a.key()), a));
                }
            }
            withRecords.forEach(a -> session.partitions.put(a.key(), cached(requested.get(a.key()), a)));
            sessions.put(id, session);
            return id;
        } finally {
            lock.unlock();
        }
    }

    private static CachedPartition cached(PartitionFetch request, PartitionAnswer answer) {
        CachedPartition cached = new CachedPartition(request);
        cached.update(answer);
        return cached;
    }

    private static boolean hasRecords(PartitionAnswer answer) {
        return answer.data().records() != null && answer.data().records().sizeInBytes() > 0;
    }

    /** Evicts the least recently used session if it has been idle longer than the bound. Holds the lock. */
    private boolean evictIdle(long nowMs) {
        Iterator<Session> eldest = sessions.values().iterator();
        if (!eldest.hasNext()) {
            return false;
        }
        Session session = eldest.next();
        if (nowMs - session.lastUsedMs <= evictionMs) {
            return false;
        }
        eldest.remove();
        LOG.debug("[broker {}] fetch session {} evicted after {} ms unused", brokerId, session.id,
                nowMs - session.lastUsedMs);
        return true;
    }

    /** The incremental answer: only partitions with something new; those with records move last. */
    private Outcome select(Session session, int expectedEpoch, List<PartitionAnswer> answers) {
        lock.lock();
        try {
            if (session.epoch != expectedEpoch) {
                // Another fetch of the session was accepted while this one was read: a client retry.
                return new Outcome(Errors.INVALID_FETCH_SESSION_EPOCH, session.id, List.of());
            }
            List<PartitionAnswer> out = new ArrayList<>();
            for (PartitionAnswer a : answers) {
                CachedPartition cached = session.partitions.get(a.key());
                if (cached == null) {
                    out.add(a);
                    continue;
                }
                if (cached.update(a)) {
                    out.add(a);
                    if (hasRecords(a)) {
                        session.partitions.remove(a.key());
                        session.partitions.put(a.key(), cached);
                    }
                }
            }
            return new Outcome(Errors.NONE, session.id, out);
        } finally {
            lock.unlock();
        }
    }
}
