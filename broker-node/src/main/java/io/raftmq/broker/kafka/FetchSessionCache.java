package io.raftmq.broker.kafka;

/** Skeleton: to be written. */
final class FetchSessionCache {
    private final int maxSessions;

    FetchSessionCache(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    int maxSessions() {
        return maxSessions;
    }
}
