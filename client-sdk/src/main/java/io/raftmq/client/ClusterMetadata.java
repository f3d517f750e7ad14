package io.raftmq.client;

import io.raftmq.client.errors.AuthenticationException;
import io.raftmq.client.errors.InterruptException;
import io.raftmq.client.errors.InvalidTopicException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TimeoutException;
import io.raftmq.client.errors.TopicAuthorizationException;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.common.ErrorCode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's cache of cluster metadata: an immutable {@link MetadataSnapshot} swapped on refresh.
 * A refresh asks one broker (the known live ones first, then bootstrap.servers, rotating on failure)
 * for the topics the client uses. It happens on demand: when a topic is first used, when an answer
 * says leadership moved or a broker went away ({@link #requestUpdate()}), and when the snapshot is
 * older than metadata.max.age.ms. Leader hints in answers are applied at once ({@link #leaderHint}).
 *
 * <p>The cache never goes back: a partition an answer has at a lower leader epoch than the cache
 * keeps what the cache has (Kafka's client does the same), and a hint with a lower epoch is
 * ignored. Such an answer came from a broker that is behind or cut off from the controller, so
 * the same refresh asks the other brokers (each once) for a current one; an answer that names no
 * leader for some partition makes the next refresh start at another broker.
 *
 * <p>Thread-safe: the snapshot is volatile; refreshes are serialized by {@code refreshLock}, and a
 * caller that waited for the lock reuses a refresh that completed meanwhile.
 */
final class ClusterMetadata {
    private static final Logger log = LoggerFactory.getLogger(ClusterMetadata.class);

    private final String clientId;
    private final BrokerChannels channels;
    private final List<BrokerAddress> bootstrap;
    private final long requestTimeoutMs;
    private final long retryBackoffMs;
    private final long maxAgeMs;
    private final LongSupplier clockMs;
    private final Set<String> topics = ConcurrentHashMap.newKeySet();
    private final Object refreshLock = new Object();

    private volatile MetadataSnapshot snapshot = MetadataSnapshot.EMPTY;
    private volatile boolean updateRequested = true;
    /** Rotates the first broker asked; guarded by refreshLock. */
    private int attempt;

    ClusterMetadata(String clientId, BrokerChannels channels, List<BrokerAddress> bootstrap, long requestTimeoutMs,
            long retryBackoffMs, long maxAgeMs, LongSupplier clockMs) {
        this.clientId = clientId;
        this.channels = channels;
        this.bootstrap = List.copyOf(bootstrap);
        this.requestTimeoutMs = requestTimeoutMs;
        this.retryBackoffMs = retryBackoffMs;
        this.maxAgeMs = maxAgeMs;
        this.clockMs = clockMs;
    }

    MetadataSnapshot snapshot() {
        return snapshot;
    }

    void requestUpdate() {
        updateRequested = true;
    }

    boolean updateNeeded() {
        return updateRequested || clockMs.getAsLong() - snapshot.fetchedAtMs() >= maxAgeMs;
    }

    /** Adds topics to those refreshed; a topic not known yet makes the next refresh due. */
    void addTopics(Collection<String> names) {
        for (String name : names) {
            if (topics.add(name)) {
                updateRequested = true;
            }
        }
    }

    void leaderHint(TopicPartition tp, int leader, int leaderEpoch) {
        if (leader < 0) {
            updateRequested = true;
            return;
        }
        synchronized (refreshLock) {
            MetadataSnapshot updated = snapshot.withLeader(tp, leader, leaderEpoch);
            if (updated == snapshot) {
                updateRequested = true;
            }
            snapshot = updated;
        }
    }

    /** Refreshes if {@link #updateNeeded()}; returns the (possibly new) snapshot. */
    MetadataSnapshot maybeRefresh(long deadlineMs) {
        if (!updateNeeded()) {
            return snapshot;
        }
        return refresh(deadlineMs);
    }

    /**
     * Asks brokers for metadata until one answers or the deadline passes.
     *
     * @throws TimeoutException when no broker answered before the deadline
     */
    MetadataSnapshot refresh(long deadlineMs) {
        long requestedAt = clockMs.getAsLong();
        synchronized (refreshLock) {
            if (snapshot.fetchedAtMs() > requestedAt && !updateRequested) {
                return snapshot;
            }
            RaftmqException last = null;
            int behind = 0; // answers in this refresh that were older than the cache
            while (true) {
                List<BrokerAddress> candidates = candidates();
                BrokerAddress address = candidates.get(Math.floorMod(attempt, candidates.size()));
                long now = clockMs.getAsLong();
                long timeout = Math.max(1, Math.min(requestTimeoutMs, deadlineMs - now));
                try {
                    updateRequested = false;
                    MetadataResponse response = Rpc.awaitAnswer(channels.broker(address, timeout)
                            .metadata(MetadataRequest.newBuilder().addAllTopics(topics).build()), timeout);
                    if (response.getError().getCode() != ErrorCode.NONE) {
                        throw Errors.exception(response.getError());
                    }
                    MetadataSnapshot previous = snapshot;
                    MetadataSnapshot.Merged merged = previous.merge(MetadataSnapshot.of(response,
                            clockMs.getAsLong()));
                    snapshot = merged.snapshot();
                    if (previous.brokers().isEmpty()) {
                        log.info("[{}] connected to the cluster through {}: {} live brokers", clientId, address,
                                snapshot.brokers().size());
                    }
                    if (merged.stalePartitions() > 0 || snapshot.anyPartitionWithoutLeader()) {
                        attempt++; // the next broker asked is another one
                    }
                    if (merged.stalePartitions() > 0 && ++behind < candidates.size()) {
                        log.debug("[{}] {} answered {} partition(s) at an older leader epoch than known; asking"
                                + " another broker", clientId, address, merged.stalePartitions());
                        updateRequested = true;
                        continue;
                    }
                    return snapshot;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    updateRequested = true;
                    throw new InterruptException(ErrorCode.NONE, "interrupted while fetching metadata", e);
                } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
                    updateRequested = true;
                    last = Errors.fromThrowable(e);
                    if (last instanceof AuthenticationException refused) {
                        throw refused; // another try or another broker will not accept it either
                    }
                    attempt++;
                }
                if (clockMs.getAsLong() + retryBackoffMs >= deadlineMs) {
                    throw new TimeoutException(ErrorCode.REQUEST_TIMED_OUT, "no broker answered a metadata request in"
                            + " time (tried " + candidates() + "); last error: " + last.getMessage(), last);
                }
                sleep(retryBackoffMs);
            }
        }
    }

    /**
     * Waits until the snapshot knows {@code topic}'s partitions, refreshing as needed.
     *
     * @throws TimeoutException when the topic did not appear before the deadline
     * @throws InvalidTopicException when the broker says the name is invalid
     * @throws TopicAuthorizationException when the broker says the caller may not describe the topic
     */
    MetadataSnapshot awaitTopic(String topic, long deadlineMs) {
        long startMs = clockMs.getAsLong();
        addTopics(List.of(topic));
        MetadataSnapshot s = snapshot;
        while (s.partitionCount(topic) <= 0) {
            ErrorCode error = s.topicErrors().get(topic);
            if (error == ErrorCode.INVALID_TOPIC) {
                throw new InvalidTopicException("invalid topic name '" + topic + "'");
            }
            if (error == ErrorCode.TOPIC_AUTHORIZATION_FAILED) {
                throw new TopicAuthorizationException("not authorized to describe topic '" + topic
                        + "' (an ACL allowing DESCRIBE, READ or WRITE on it is missing for this client's principal)");
            }
            long now = clockMs.getAsLong();
            if (now >= deadlineMs) {
                throw topicNotPresent(topic, now - startMs, error, null);
            }
            if (error != null) {
                sleep(Math.min(retryBackoffMs, deadlineMs - now));
            }
            requestUpdate();
            try {
                s = refresh(deadlineMs);
            } catch (TimeoutException e) {
                throw topicNotPresent(topic, clockMs.getAsLong() - startMs, s.topicErrors().get(topic), e);
            }
        }
        return s;
    }

    /**
     * Why {@code topic} is still unknown: the brokers said so ({@code error}, e.g. UNKNOWN_TOPIC_OR_PARTITION),
     * or none answered ({@code noAnswer}). A refresh that runs out of time just after the brokers
     * said the topic is unknown is the first case, not the second.
     */
    private static TimeoutException topicNotPresent(String topic, long waitedMs, ErrorCode error,
            TimeoutException noAnswer) {
        String what = "topic '" + topic + "' not present in metadata after " + waitedMs + " ms";
        if (error != null) {
            return new TimeoutException(ErrorCode.REQUEST_TIMED_OUT, what + " (the brokers answer " + error + ")",
                    noAnswer);
        }
        return noAnswer == null ? new TimeoutException(ErrorCode.REQUEST_TIMED_OUT, what)
                : new TimeoutException(ErrorCode.REQUEST_TIMED_OUT, what + ": " + noAnswer.getMessage(), noAnswer);
    }

    /** Live brokers from the last snapshot first, then bootstrap.servers; never empty. */
    List<BrokerAddress> candidates() {
        Set<BrokerAddress> all = new LinkedHashSet<>(snapshot.brokers().values());
        all.addAll(bootstrap);
        return new ArrayList<>(all);
    }

    /** Some live broker (rotating), for requests any broker can answer. */
    BrokerAddress anyBroker() {
        List<BrokerAddress> c = candidates();
        return c.get(Math.floorMod(attempt, c.size()));
    }

    /** Moves {@link #anyBroker()} on after a failed request. */
    void rotate() {
        synchronized (refreshLock) {
            attempt++;
        }
    }

    private static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(ErrorCode.NONE, "interrupted while waiting to retry", e);
        }
    }
}
