package io.raftmq.storage;

/** When appended bytes are forced to disk. */
public enum FlushMode {
    /**
     * fsync before an append counts as durable; appends that arrive while an fsync runs share the
     * next one (group commit).
     */
    GROUP,
    /** fsync every {@code flush.interval.ms}; appends count as durable once written. */
    INTERVAL,
    /** Never fsync on the write path (only on roll and close): the operating system decides. */
    OS
}
