package io.raftmq.protocol.record;

/** Whose clock a batch's timestamps come from (attribute bit 3). */
public enum TimestampType {
    /** Set by the producer when it created each record. */
    CREATE_TIME,
    /** Set by the partition leader when it appended the batch; every record carries it. */
    LOG_APPEND_TIME
}
