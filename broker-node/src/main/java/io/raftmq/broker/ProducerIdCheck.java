package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;

/**
 * Refuses produced batches whose producer id the cluster never handed out: every id below the end
 * of the allocated blocks (the image's next producer id, or a block this broker was just given) was
 * handed out, none above. A client that invents an id, or names one from beyond the allocated
 * ranges, gets UNKNOWN_PRODUCER_ID and nothing of its partition is written. Reads only the batch
 * headers; a buffer too short or malformed to read, and a transactional batch, are left to the
 * log's batch validation.
 *
 * <p>Stateless; any thread.
 */
final class ProducerIdCheck {
    /** The attributes bit of a transactional batch (Kafka's v2 format). */
    private static final int TRANSACTIONAL_MASK = 0x10;

    private ProducerIdCheck() {}

    /**
     * The highest producer id of {@code records}' non-transactional batches, -1 when none has one
     * (read from the headers; stops at a batch it cannot frame, which the log's validation refuses).
     */
    static long highestProducerId(ByteBuffer records) {
        long highest = -1;
        int position = records.position();
        while (records.limit() - position >= RecordBatch.RECORDS_OFFSET) {
            boolean transactional = (records.getShort(position + RecordBatch.ATTRIBUTES_OFFSET)
                    & TRANSACTIONAL_MASK) != 0;
            if (!transactional) {
                highest = Math.max(highest, records.getLong(position + RecordBatch.PRODUCER_ID_OFFSET));
            }
            int length = records.getInt(position + RecordBatch.LENGTH_OFFSET);
            if (length <= 0 || length > records.limit() - position - RecordBatch.LOG_OVERHEAD) {
                break;
            }
            position += RecordBatch.LOG_OVERHEAD + length;
        }
        return highest;
    }

    /**
     * @param records one partition's batches, not consumed
     * @param allocatedEnd the first producer id no block has covered yet
     */
    static ApiError check(ByteBuffer records, long allocatedEnd) {
        long producerId = highestProducerId(records);
        if (producerId >= allocatedEnd) {
            return ApiError.of(ErrorCode.UNKNOWN_PRODUCER_ID, "producer id %d was never handed out by this cluster"
                    + " (ids below %d were); ask InitProducerId for one", producerId, allocatedEnd);
        }
        return ApiError.NONE;
    }
}
