package io.raftmq.storage;

/**
 * The answer to "where does leader epoch E end in this log": the largest epoch at or below E that
 * this log has, and the offset where it ends (the start of the next epoch, or the log end).
 * {@link #UNDEFINED} when the log knows nothing at or below E.
 */
public record EpochEndOffset(int epoch, long endOffset) {
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_OFFSET = -1;
    public static final EpochEndOffset UNDEFINED = new EpochEndOffset(UNDEFINED_EPOCH, UNDEFINED_OFFSET);

    public boolean isDefined() {
        return epoch != UNDEFINED_EPOCH;
    }
}
