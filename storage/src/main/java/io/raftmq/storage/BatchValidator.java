package io.raftmq.storage;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CorruptRecordException;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordsTooLargeException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the batches of an append before anything is written, so that a bad append changes
 * nothing: each batch's header, magic, CRC and record count. A producer's batches (leader) are
 * also read to the end of every record, decompressed into at most max.uncompressed.batch.bytes
 * ({@link RecordBatch#validateRecords}): a batch that does not decompress or whose records do not
 * match its header (count, offset deltas, max timestamp) is INVALID_RECORD; their size is checked
 * against max.message.bytes and, with CreateTime, their timestamps against
 * message.timestamp.before/after.max.ms (INVALID_TIMESTAMP); control and transactional batches are
 * refused (there are no transactions). A follower's batches, checked by their leader, get the
 * header checks and the framing of uncompressed records, and must continue the log's offsets
 * exactly.
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

    /**
     * Batches a producer sends to the leader (their offsets and leader epoch are overwritten), read
     * with the leader's clock at {@code nowMs}.
     */
    public static Outcome forLeader(ByteBuffer buffer, LogConfig config, long nowMs) {
        Outcome parsed = parse(buffer, false);
        if (parsed.error().isFailure()) {
            return parsed;
        }
        List<RecordBatch> batches = parsed.batches();
        for (int i = 0; i < batches.size(); i++) {
            RecordBatch batch = batches.get(i);
            if (batch.sizeInBytes() > config.maxMessageBytes()) {
                return Outcome.failed(ErrorCode.RECORD_TOO_LARGE, "a record batch of %d bytes is larger than"
                        + " max.message.bytes (%d)", batch.sizeInBytes(), config.maxMessageBytes());
            }
            if (batch.isControl()) {
                return Outcome.failed(ErrorCode.INVALID_RECORD, "producers may not append control batches");
            }
            if (batch.isTransactional()) {
                // Without a transaction coordinator nothing would ever commit or abort it.
                return Outcome.failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "a transactional batch"
                        + " (producer id %d): transactions are not supported", batch.producerId());
            }
            RecordBatch.RecordsSummary summary;
            try {
                summary = batch.validateRecords(config.maxUncompressedBatchBytes());
            } catch (RecordsTooLargeException e) {
                return Outcome.failed(ErrorCode.RECORD_TOO_LARGE, "record batch %d of the append: %s"
                        + " (log.max.uncompressed.batch.bytes)", i, e.getMessage());
            } catch (CorruptRecordException e) {
                return Outcome.failed(ErrorCode.INVALID_RECORD, "record batch %d of the append is invalid: %s", i,
                        e.getMessage());
            }
            if (!config.logAppendTime()) {
                ApiError timestamps = checkTimestamps(i, summary, config, nowMs);
                if (timestamps.isFailure()) {
                    return new Outcome(List.of(), timestamps);
                }
            }
        }
        return parsed;
    }

    /**
     * INVALID_TIMESTAMP when a record's timestamp lies further behind or ahead of {@code nowMs}
     * than the topic allows (Kafka's rule; records without a timestamp pass). A bound of
     * Long.MAX_VALUE is no bound, as in Kafka.
     */
    private static ApiError checkTimestamps(int index, RecordBatch.RecordsSummary summary, LogConfig config,
            long nowMs) {
        // Unsigned differences: the distance between two longs always fits, whatever their signs.
        if (summary.minTimestamp() < nowMs && config.timestampBeforeMaxMs() != Long.MAX_VALUE
                && Long.compareUnsigned(nowMs - summary.minTimestamp(), config.timestampBeforeMaxMs()) > 0) {
            return ApiError.of(ErrorCode.INVALID_TIMESTAMP, "record batch %d of the append holds timestamp %d,"
                    + " %s ms behind the leader's clock (%d); message.timestamp.before.max.ms is %d", index,
                    summary.minTimestamp(), Long.toUnsignedString(nowMs - summary.minTimestamp()), nowMs,
                    config.timestampBeforeMaxMs());
        }
        if (summary.maxTimestamp() > nowMs && config.timestampAfterMaxMs() != Long.MAX_VALUE
                && Long.compareUnsigned(summary.maxTimestamp() - nowMs, config.timestampAfterMaxMs()) > 0) {
            return ApiError.of(ErrorCode.INVALID_TIMESTAMP, "record batch %d of the append holds timestamp %d,"
                    + " %s ms ahead of the leader's clock (%d); message.timestamp.after.max.ms is %d", index,
                    summary.maxTimestamp(), Long.toUnsignedString(summary.maxTimestamp() - nowMs), nowMs,
                    config.timestampAfterMaxMs());
        }
        return ApiError.NONE;
    }

    /** Batches a follower copies from its leader: offsets must start at {@code logEndOffset}, gapless. */
    public static Outcome forFollower(ByteBuffer buffer, long logEndOffset) {
        Outcome parsed = parse(buffer, true);
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

    /** Every batch of {@code buffer} with its header checked, and the framing of uncompressed records if asked. */
    private static Outcome parse(ByteBuffer buffer, boolean checkFraming) {
        if (!buffer.hasRemaining()) {
            return Outcome.failed(ErrorCode.INVALID_RECORD, "the append holds no record batch");
        }
        List<RecordBatch> batches = new ArrayList<>();
        ByteBuffer view = buffer.duplicate();
        try {
            while (view.hasRemaining()) {
                RecordBatch batch = RecordBatch.readFrom(view);
                batch.ensureValid();
                if (checkFraming) {
                    batch.ensureRecordsWellFormed();
                }
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
