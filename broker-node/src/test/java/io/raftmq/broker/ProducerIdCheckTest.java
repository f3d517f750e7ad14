package io.raftmq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Producer ids beyond the allocated blocks are refused; everything else is left to the batch validation. */
class ProducerIdCheckTest {
    private static ByteBuffer batch(long producerId) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                producerId, (short) (producerId < 0 ? -1 : 0), producerId < 0 ? -1 : 0,
                RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP, 64);
        builder.append(1, null, new byte[] {1});
        return builder.build();
    }

    private static ByteBuffer concat(ByteBuffer... batches) {
        int size = 0;
        for (ByteBuffer b : batches) {
            size += b.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (ByteBuffer b : batches) {
            out.put(b.duplicate());
        }
        return out.flip();
    }

    @Test
    void idsBelowTheAllocatedEndAndBatchesWithoutAnIdPass() {
        assertEquals(ApiError.NONE, ProducerIdCheck.check(concat(batch(-1), batch(0), batch(1999)), 2000));
    }

    @Test
    void anIdAtOrPastTheAllocatedEndIsRefusedWhereverItsBatchIs() {
        ByteBuffer records = concat(batch(5), batch(2000));
        int position = records.position();
        ApiError error = ProducerIdCheck.check(records, 2000);
        assertEquals(ErrorCode.UNKNOWN_PRODUCER_ID, error.code());
        assertTrue(error.message().contains("2000"), error.message());
        assertEquals(position, records.position(), "the buffer is not consumed");
        assertEquals(ErrorCode.UNKNOWN_PRODUCER_ID, ProducerIdCheck.check(batch(0), 0).code());
    }

    @Test
    void theHighestProducerIdOfAnAppendIsFoundWhateverItsBatchOrder() {
        assertEquals(7_000, ProducerIdCheck.highestProducerId(concat(batch(12), batch(7_000), batch(-1))));
        assertEquals(-1, ProducerIdCheck.highestProducerId(batch(-1)), "no producer id at all");
        assertEquals(-1, ProducerIdCheck.highestProducerId(ByteBuffer.allocate(10)), "too short to frame");
    }

    @Test
    void aTruncatedOrMalformedBufferIsLeftToTheBatchValidation() {
        ByteBuffer first = batch(5);
        ByteBuffer truncated = concat(first, ByteBuffer.wrap(new byte[20]));
        assertEquals(ApiError.NONE, ProducerIdCheck.check(truncated, 2000));
        ByteBuffer badLength = batch(5);
        badLength.putInt(RecordBatch.LENGTH_OFFSET, Integer.MAX_VALUE);
        assertEquals(ApiError.NONE, ProducerIdCheck.check(badLength, 2000));
        assertEquals(ApiError.NONE, ProducerIdCheck.check(ByteBuffer.allocate(0), 2000));
    }
}
