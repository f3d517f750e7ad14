package io.raftmq.replication;

import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.protocol.TopicPartition;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The follower fetchers of this broker: one per leader broker it follows partitions from, created
 * when the first partition needs it and stopped when the last leaves.
 *
 * <p>Thread-safety: every method is synchronized on this object (called by the metadata thread
 * and at shutdown).
 */
final class FetcherManager {
    private final int localBrokerId;
    private final LongSupplier brokerEpoch;
    private final ReplicationConfig config;
    private final Time time;
    private final NodeChannelCredentials credentials;
    /** A partition followed from a leader at an epoch. */
    private record Follow(Partition partition, int leaderId, int leaderEpoch) {}

    // Guarded by this.
    private final Map<Integer, FollowerFetcher> fetchers = new HashMap<>();
    private final Map<TopicPartition, Follow> follows = new HashMap<>();

    FetcherManager(int localBrokerId, LongSupplier brokerEpoch, ReplicationConfig config, Time time,
            NodeChannelCredentials credentials) {
        this.localBrokerId = localBrokerId;
        this.brokerEpoch = brokerEpoch;
        this.config = config;
        this.time = time;
        this.credentials = credentials;
    }

    /** Fetches {@code partition} from {@code leaderId} at {@code leaderEpoch} from now on. */
    synchronized void follow(Partition partition, int leaderId, HostPort endpoint, int leaderEpoch) {
        TopicPartition tp = partition.topicPartition();
        Follow current = follows.get(tp);
        FollowerFetcher fetcher = fetchers.get(leaderId);
        if (current != null && current.partition() == partition && current.leaderId() == leaderId
                && current.leaderEpoch() == leaderEpoch && fetcher != null && fetcher.endpoint.equals(endpoint)) {
            return;
        }
        stopFollowing(tp);
        fetcher = fetchers.get(leaderId);
        if (fetcher != null && !fetcher.endpoint.equals(endpoint)) {
            // The leader's broker moved to another address: one new connection for everything it leads.
            fetcher.shutdown();
            fetchers.remove(leaderId);
            fetcher = null;
        }
        if (fetcher == null) {
            fetcher = new FollowerFetcher(localBrokerId, brokerEpoch, leaderId, endpoint, config, time,
                    credentials);
            fetchers.put(leaderId, fetcher);
            for (Follow f : follows.values()) {
                if (f.leaderId() == leaderId) {
                    fetcher.add(f.partition(), f.leaderEpoch());
                }
            }
            fetcher.start();
        }
        fetcher.add(partition, leaderEpoch);
        follows.put(tp, new Follow(partition, leaderId, leaderEpoch));
    }

    synchronized void stopFollowing(TopicPartition tp) {
        Follow follow = follows.remove(tp);
        if (follow == null) {
            return;
        }
        FollowerFetcher fetcher = fetchers.get(follow.leaderId());
        if (fetcher != null) {
            fetcher.remove(tp);
            if (fetcher.isEmpty()) {
                fetchers.remove(follow.leaderId());
                fetcher.shutdown();
            }
        }
    }

    synchronized void shutdown() {
        fetchers.values().forEach(FollowerFetcher::shutdown);
        fetchers.clear();
        follows.clear();
    }
}
