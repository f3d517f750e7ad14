package io.raftmq.replication;

/** What a consumer asks of one partition: from where, how much, at which leader epoch (-1: any). */
public record FetchSpec(long fetchOffset, int maxBytes, int currentLeaderEpoch) {}
