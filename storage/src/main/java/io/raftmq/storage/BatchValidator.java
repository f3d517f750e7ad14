package io.raftmq.storage;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CorruptRecordException;
import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the batches of an append before anything is written, so that a bad append changes
 * nothing: each batch's size (against max.message.bytes for producers), header, magic, CRC, record
 * count, and for uncompressed batches the record framing; control and transactional batches are
 * refused from producers (there are no transactions); a follower's batches must continue the log's offsets exactly.
 *
 * <p>Stateless; the batches are only read.
 */
final class BatchValidator {
    /** The checked batches, or the first problem. */
    record Outcome(List<RecordBatch> batches, ApiError error) {
        static Outcome failed(ErrorCode code, String format, Object... args) {
            return new Outcome(List.of(), ApiError.of(code, format, args));
        }
    }

    private BatchValidator() {}

    /** Batches a producer sends to the leader (their offsets and leader epoch are overwritten). */
    public static Outcome forLeader(ByteBuffer buffer, int maxBatchBytes) {
        Outcome parsed = parse(buffer);
        if (parsed.error().isFailure()) {
            return parsed;
        }
        for (RecordBatch batch : parsed.batches()) {
            if (batch.sizeInBytes() > maxBatchBytes) {
                return Outcome.failed(ErrorCode.RECORD_TOO_LARGE, "a record batch of %d bytes is larger than"
                        + " max.message.bytes (%d)", batch.sizeInBytes(), maxBatchBytes);
            }
            if (batch.isControl()) {
                return Outcome.failed(ErrorCode.INVALID_RECORD, "producers may not append control batches");
            }
            if (batch.isTransactional()) {
                // Without a transaction coordinator nothing would ever commit or abort it.
                return Outcome.failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "a transactional batch"
                        + " (producer id %d): transactions are not supported", batch.producerId());
            }
        }
        return parsed;
    }

    /** Batches a follower copies from its leader: offsets must start at {@code logEndOffset}, gapless. */
    public static Outcome forFollower(ByteBuffer buffer, long logEndOffset) {
        Outcome parsed = parse(buffer);
        if (parsed.error().isFailure()) {
            return parsed;
        }
        long expected = logEndOffset;
        for (RecordBatch batch : parsed.batches()) {
            if (batch.baseOffset() != expected) {
                return Outcome.failed(ErrorCode.OFFSET_OUT_OF_RANGE, "a replicated batch starts at offset %d but the"
                        + " log continues at %d", batch.baseOffset(), expected);
            }
            expected = batch.nextOffset();
        }
        return parsed;
    }

    private static Outcome parse(ByteBuffer buffer) {
        if (!buffer.hasRemaining()) {
            return Outcome.failed(ErrorCode.INVALID_RECORD, "the append holds no record batch");
        }
        List<RecordBatch> batches = new ArrayList<>();
        ByteBuffer view = buffer.duplicate();
        try {
            while (view.hasRemaining()) {
                RecordBatch batch = RecordBatch.readFrom(view);
                batch.ensureValid();
                batch.ensureRecordsWellFormed();
                batches.add(batch);
                view.position(view.position() + batch.sizeInBytes());
            }
        } catch (CorruptRecordException e) {
            return Outcome.failed(ErrorCode.CORRUPT_MESSAGE, "record batch %d of the append is corrupt: %s",
                    batches.size(), e.getMessage());
        }
        return new Outcome(batches, ApiError.NONE);
    }
}
