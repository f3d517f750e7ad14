package io.raftmq.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftmq.protocol.broker.FetchResponse;
import io.raftmq.protocol.broker.FetchableTopicResponse;
import io.raftmq.protocol.broker.FetchablePartitionResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the records of a Fetch answer on the gRPC thread that received it: batches checked (CRC),
 * control batches and records below the offset each partition was fetched from skipped, keys and
 * values copied out of the batch, headers converted. When both deserializers are the SDK's own
 * ({@link StatelessDeserializer}) it deserializes too, so each record becomes its
 * {@link ConsumerRecord} at once. Otherwise records stay raw for the consumer's thread to
 * deserialize, so that user code runs only there; and so does every record from the first one a
 * built-in deserializer fails on, so that the failure is thrown by poll at that record, after the
 * records before it, as for a user's deserializer.
 *
 * <p>Immutable: gRPC threads call it for different answers at the same time.
 */
final class FetchDecoder<K, V> {
    /** A record read out of its batch, key and value copied, not yet deserialized. */
    record RawRecord(long offset, long timestamp, byte[] key, byte[] value, List<Header> headers,
            Optional<Integer> leaderEpoch) {
        <K, V> ConsumerRecord<K, V> deserialize(TopicPartition tp, Deserializer<K> keys, Deserializer<V> values) {
            return record(tp, offset, timestamp, key, value, headers, leaderEpoch, keys, values);
        }

        /** Key and value bytes, as buffered-bytes accounting counts a record. */
        long bytes() {
            return sizeOf(key, value);
        }
    }

    /**
     * One partition's records from an answer, in offset order: {@code ready} deserialized (their
     * keys and values take {@code readyBytes}), then {@code raw} to deserialize; or why they could
     * not be read (a corrupt batch), with no records.
     */
    record Decoded<K, V>(List<ConsumerRecord<K, V>> ready, long readyBytes, List<RawRecord> raw,
            RuntimeException error) {
        private static final Decoded<?, ?> NONE = new Decoded<>(List.of(), 0, List.of(), null);

        @SuppressWarnings("unchecked") // holds no record of either type
        static <K, V> Decoded<K, V> none() {
            return (Decoded<K, V>) NONE;
        }
    }

    /** Both null unless both deserializers are stateless, so safe on this thread. */
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;

    FetchDecoder(Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        boolean stateless = keyDeserializer instanceof StatelessDeserializer
                && valueDeserializer instanceof StatelessDeserializer;
        this.keyDeserializer = stateless ? keyDeserializer : null;
        this.valueDeserializer = stateless ? valueDeserializer : null;
    }

    /** Whether records are deserialized here (both deserializers are the SDK's own). */
    boolean deserializes() {
        return keyDeserializer != null;
    }

    /** The records of every partition of {@code response} fetched at an offset in {@code offsets}. */
    Map<TopicPartition, Decoded<K, V>> decodeAll(FetchResponse response, Map<TopicPartition, Long> offsets) {
        Map<TopicPartition, Decoded<K, V>> out = new HashMap<>();
        for (FetchableTopicResponse t : response.getTopicsList()) {
            for (FetchablePartitionResponse p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                Long fetchedAt = offsets.get(tp);
                if (fetchedAt == null || p.getError().getCode() != ErrorCode.NONE) {
                    continue;
                }
                try {
                    out.put(tp, decode(tp, fetchedAt, readableView(p.getRecords())));
                } catch (RuntimeException e) {
                    out.put(tp, new Decoded<>(List.of(), 0, List.of(), e));
                }
            }
        }
        return out;
    }

    /**
     * For each partition of {@code response} fetched at an offset in {@code offsets} that brought
     * complete batches ending at or past it: the offset after the last of them (batch headers only,
     * nothing decoded or checked; the records are read afterwards, and an answer that turns out
     * unreadable leaves the next one stale, to be dropped and fetched again).
     */
    static Map<TopicPartition, Long> nextOffsets(FetchResponse response, Map<TopicPartition, Long> offsets) {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (FetchableTopicResponse t : response.getTopicsList()) {
            for (FetchablePartitionResponse p : t.getPartitionsList()) {
                TopicPartition tp = new TopicPartition(t.getName(), p.getPartition());
                Long fetchedAt = offsets.get(tp);
                if (fetchedAt == null || p.getError().getCode() != ErrorCode.NONE || p.getRecords().isEmpty()) {
                    continue;
                }
                List<RecordBatch> batches;
                try {
                    batches = RecordBatch.readWhole(readableView(p.getRecords()));
                } catch (RuntimeException malformed) {
                    continue; // decoding reports it; no early fetch for this partition
                }
                long next = batches.isEmpty() ? -1 : batches.get(batches.size() - 1).lastOffset() + 1;
                if (next > fetchedAt) {
                    out.put(tp, next);
                }
            }
        }
        return out;
    }

    private Decoded<K, V> decode(TopicPartition tp, long position, ByteBuffer bytes) {
        PartitionRecords out = new PartitionRecords(tp);
        for (RecordBatch batch : RecordBatch.readWhole(bytes)) {
            if (batch.lastOffset() < position) {
                continue;
            }
            batch.ensureValid();
            if (batch.isControl()) {
                continue;
            }
            int epoch = batch.partitionLeaderEpoch();
            Optional<Integer> leaderEpoch = epoch < 0 ? Optional.empty() : Optional.of(epoch);
            // Bounded by the batch's size too: a CRC only proves the count is what the producer wrote.
            out.reserve(Math.min(batch.recordCount(), batch.sizeInBytes()));
            batch.forEachRecordCopy((offset, timestamp, key, value, headers) -> {
                if (offset >= position) {
                    out.add(offset, timestamp, key, value, headers(headers), leaderEpoch);
                }
            });
        }
        return new Decoded<>(out.ready, out.readyBytes, out.raw, null);
    }

    /** One partition's records as they are read. Confined to the decoding thread. */
    private final class PartitionRecords {
        private final TopicPartition tp;
        /** Deserialized here: every record before the first raw one. */
        private final ArrayList<ConsumerRecord<K, V>> ready = new ArrayList<>();
        /** Records left to the consumer's thread: all of them, or from the first that failed here. */
        private final ArrayList<RawRecord> raw = new ArrayList<>();
        /** Key and value bytes of the records in {@code ready}. */
        private long readyBytes;

        PartitionRecords(TopicPartition tp) {
            this.tp = tp;
        }

        private boolean deserializeHere() {
            return keyDeserializer != null && raw.isEmpty();
        }

        void reserve(int records) {
            ArrayList<?> list = deserializeHere() ? ready : raw;
            list.ensureCapacity(list.size() + records);
        }

        void add(long offset, long timestamp, byte[] key, byte[] value, List<Header> headers,
                Optional<Integer> leaderEpoch) {
            if (deserializeHere()) {
                try {
                    ready.add(record(tp, offset, timestamp, key, value, headers, leaderEpoch, keyDeserializer,
                            valueDeserializer));
                    readyBytes += sizeOf(key, value);
                    return;
                } catch (RuntimeException e) {
                    // Not thrown here: the consumer's thread deserializes this record again (the
                    // deserializer is a pure function, so it throws the same) when it buffers it.
                }
            }
            raw.add(new RawRecord(offset, timestamp, key, value, headers, leaderEpoch));
        }
    }

    /** The record as poll returns it: the one place both paths build it, key deserialized first. */
    private static <K, V> ConsumerRecord<K, V> record(TopicPartition tp, long offset, long timestamp, byte[] key,
            byte[] value, List<Header> headers, Optional<Integer> leaderEpoch, Deserializer<K> keys,
            Deserializer<V> values) {
        return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, timestamp, keys.deserialize(tp.topic(), key),
                values.deserialize(tp.topic(), value), headers, leaderEpoch, key == null ? -1 : key.length,
                value == null ? -1 : value.length);
    }

    /** Key and value bytes of a record (null: none). */
    private static long sizeOf(byte[] key, byte[] value) {
        return (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
    }

    private static List<Header> headers(List<io.raftmq.protocol.record.Header> read) {
        if (read.isEmpty()) {
            return List.of();
        }
        List<Header> converted = new ArrayList<>(read.size());
        for (io.raftmq.protocol.record.Header h : read) {
            converted.add(new Header(h.key(), h.value()));
        }
        return List.copyOf(converted);
    }

    /**
     * The bytes as a heap buffer over protobuf's own array when it keeps them in one (as it does for a
     * parsed message), else its read-only view. Why: CRC32C reads a read-only heap buffer through a
     * temporary array, one per batch. Nothing writes to the view; decoding only reads.
     */
    static ByteBuffer readableView(ByteString bytes) {
        SinglePiece piece = new SinglePiece();
        try {
            UnsafeByteOperations.unsafeWriteTo(bytes, piece);
        } catch (IOException e) {
            throw new UncheckedIOException("SinglePiece never throws", e);
        }
        ByteBuffer view = piece.view();
        return view != null ? view : bytes.asReadOnlyByteBuffer();
    }

    /**
     * Keeps the one piece a ByteString hands over when it is held in one array or buffer; a piece
     * handed over for the length of the call only (non-lazy) or a read-only heap buffer is not kept.
     * Confined to the caller's thread.
     */
    private static final class SinglePiece extends ByteOutput {
        private int pieces;
        private ByteBuffer piece;

        /** The whole ByteString as one buffer CRC32C reads in place, or null. */
        ByteBuffer view() {
            return pieces == 1 ? piece : null;
        }

        private void add(ByteBuffer kept) {
            pieces++;
            piece = kept;
        }

        @Override
        public void write(byte value) {
            add(null);
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            add(null);
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            add(ByteBuffer.wrap(value, offset, length).slice());
        }

        @Override
        public void write(ByteBuffer value) {
            add(null);
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            add(value.isReadOnly() && !value.isDirect() ? null : value.slice());
        }
    }
}
