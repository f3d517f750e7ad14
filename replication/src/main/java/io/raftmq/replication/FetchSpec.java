package io.raftmq.replication;

/**
 * What a consumer asks of one partition: from where, how much, at which leader epoch (-1: any),
 * and the leader epoch of the last batch it read (-1: unknown), with which the leader tells it
 * when its log diverged from what the consumer saw (a truncation after an unclean election).
 */
public record FetchSpec(long fetchOffset, int maxBytes, int currentLeaderEpoch, int lastFetchedEpoch) {

    public FetchSpec(long fetchOffset, int maxBytes, int currentLeaderEpoch) {
        this(fetchOffset, maxBytes, currentLeaderEpoch, -1);
    }
}
