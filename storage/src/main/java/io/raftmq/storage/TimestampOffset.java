package io.raftmq.storage;

/** The first record at or after a timestamp: its offset and its own timestamp. */
public record TimestampOffset(long offset, long timestamp) {}
