package io.raftmq.broker.kafka;

import io.raftmq.storage.LogSlice;
import java.io.IOException;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * Record batches of a Fetch answer as they lie in a segment file: Kafka's message classes carry
 * it as the records field, and the listener's response writer sends the file region itself
 * (sendfile where the transport allows), never a copy through the heap.
 */
final class LogSliceRecords implements BaseRecords {
    private final LogSlice slice;

    LogSliceRecords(LogSlice slice) {
        this.slice = slice;
    }

    LogSlice slice() {
        return slice;
    }

    @Override
    public int sizeInBytes() {
        return slice.sizeInBytes();
    }

    /** Kafka's own way of sending records (its SendBuilder); the listener does not use it. */
    @Override
    public RecordsSend<LogSliceRecords> toSend() {
        return new RecordsSend<>(this, slice.sizeInBytes()) {
            @Override
            protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining)
                    throws IOException {
                return (int) channel.transferFrom(slice.channel(), slice.position() + previouslyWritten, remaining);
            }
        };
    }

    @Override
    public String toString() {
        return "LogSliceRecords(" + slice.sizeInBytes() + " bytes, offsets " + slice.firstOffset() + " to "
                + (slice.nextOffset() - 1) + ")";
    }
}
