package io.raftmq.storage;

/** What a read found. */
public sealed interface ReadResult {

    /** Whole batches, possibly none (the offset is at the end, or at the upper bound). */
    record Slice(LogSlice records) implements ReadResult {}

    /** The offset is below the log start or past the log end; nothing was read. */
    record OffsetOutOfRange(long requestedOffset, long logStartOffset, long logEndOffset) implements ReadResult {
        public String message() {
            return "offset " + requestedOffset + " is out of range: the log holds offsets " + logStartOffset + " to "
                    + (logEndOffset - 1);
        }
    }

    /** The log is offline after an I/O error. */
    record Offline(String reason) implements ReadResult {}
}
