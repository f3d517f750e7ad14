package io.raftmq.broker;

import io.raftmq.protocol.record.RecordBatch;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals of the client traffic this broker serves, counted in {@link BrokerApi} where the
 * gRPC and the Kafka front ends both pass: produce and fetch requests, the bytes and records of
 * produce requests that passed validation and went to the log, and the bytes and records returned to consumers (records by
 * offset span, so a compacted gap counts as records). Replica fetches of followers are not client
 * traffic and are not counted. Read by /metrics and the web view's rates.
 *
 * <p>Threads: any thread adds (the front ends' threads, the completion threads of appends and
 * fetches); any thread reads. Totals only grow.
 */
public final class ClientTraffic {
    /** The totals at one moment. */
    public record Totals(long produceRequests, long produceBytes, long produceRecords, long fetchRequests,
            long fetchBytes, long fetchRecords) {}

    private final LongAdder produceRequests = new LongAdder();
    private final LongAdder produceBytes = new LongAdder();
    private final LongAdder produceRecords = new LongAdder();
    private final LongAdder fetchRequests = new LongAdder();
    private final LongAdder fetchBytes = new LongAdder();
    private final LongAdder fetchRecords = new LongAdder();

    void produceRequest() {
        produceRequests.increment();
    }

    /** One partition's validated batches: their bytes and the records their headers count. */
    void appended(ByteBuffer batches) {
        produceBytes.add(batches.remaining());
        long records = 0;
        int at = batches.position();
        while (batches.limit() - at >= RecordBatch.RECORD_BATCH_OVERHEAD) {
            records += Math.max(0, batches.getInt(at + RecordBatch.RECORD_COUNT_OFFSET));
            int size = RecordBatch.sizeOfBatchAt(batches, at);
            if (size < RecordBatch.RECORD_BATCH_OVERHEAD) {
                break; // the log's validation refuses it; nothing more to count
            }
            at += size;
        }
        produceRecords.add(records);
    }

    void fetchRequest() {
        fetchRequests.increment();
    }

    void fetched(int bytes, long records) {
        fetchBytes.add(bytes);
        fetchRecords.add(records);
    }

    public Totals totals() {
        return new Totals(produceRequests.sum(), produceBytes.sum(), produceRecords.sum(), fetchRequests.sum(),
                fetchBytes.sum(), fetchRecords.sum());
    }
}
