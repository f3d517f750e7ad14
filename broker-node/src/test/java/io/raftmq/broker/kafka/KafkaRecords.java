package io.raftmq.broker.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Record batches built and read with kafka-clients' own classes, as a Kafka client would. Stateless. */
final class KafkaRecords {
    private KafkaRecords() {}

    /** One batch of these values, stamped with the current time. */
    static MemoryRecords batch(String... values) {
        return MemoryRecords.withRecords(Compression.NONE, simple(System.currentTimeMillis(), values));
    }

    /** One batch of these values compressed with {@code compression}, stamped with the current time. */
    static MemoryRecords compressed(Compression compression, String... values) {
        return MemoryRecords.withRecords(compression, simple(System.currentTimeMillis(), values));
    }

    /** One batch with one record per timestamp; each value is "t" + its timestamp. */
    static MemoryRecords timed(long... timestampsMs) {
        SimpleRecord[] records = new SimpleRecord[timestampsMs.length];
        for (int i = 0; i < timestampsMs.length; i++) {
            records[i] = new SimpleRecord(timestampsMs[i], ("t" + timestampsMs[i]).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    /** An idempotent producer's batch starting at {@code sequence}. */
    static MemoryRecords idempotent(long producerId, short epoch, int sequence, String... values) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, sequence,
                simple(System.currentTimeMillis(), values));
    }

    /** A transactional producer's batch. */
    static MemoryRecords transactional(long producerId, short epoch, int sequence, String... values) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, sequence,
                simple(System.currentTimeMillis(), values));
    }

    /** A copy of {@code records} with one byte of the first batch's CRC flipped. */
    static MemoryRecords corruptCrc(MemoryRecords records) {
        byte[] bytes = new byte[records.sizeInBytes()];
        records.buffer().get(bytes);
        bytes[17] ^= 0x5a; // the CRC of a v2 batch starts at byte 17
        return MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));
    }

    private static SimpleRecord[] simple(long timestampMs, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestampMs, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return records;
    }

    /** The values of every record, in order. */
    static List<String> values(BaseRecords records) {
        List<String> out = new ArrayList<>();
        for (Record r : ((MemoryRecords) records).records()) {
            byte[] v = new byte[r.valueSize()];
            r.value().get(v);
            out.add(new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** The offsets of every record, in order. */
    static List<Long> offsets(BaseRecords records) {
        List<Long> out = new ArrayList<>();
        for (Record r : ((MemoryRecords) records).records()) {
            out.add(r.offset());
        }
        return out;
    }
}
