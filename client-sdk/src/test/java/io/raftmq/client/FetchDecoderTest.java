package io.raftmq.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.protocol.broker.FetchResponse;
import io.raftmq.protocol.broker.FetchableTopicResponse;
import io.raftmq.protocol.broker.FetchablePartitionResponse;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.CorruptRecordException;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The decode step of a fetch answer (the gRPC thread): with the SDK's own deserializers it builds
 * the same records the consumer's thread builds from raw records for any other deserializers; a
 * record a built-in deserializer fails on is left raw with every record after it; the records bytes
 * are read in place where protobuf holds them in one array.
 */
class FetchDecoderTest {
    private static final TopicPartition T0 = new TopicPartition("t", 0);
    private static final TopicPartition T1 = new TopicPartition("t", 1);
    private static final TopicPartition T2 = new TopicPartition("t", 2);
    private static final Deserializer<String> USER_STRINGS = (topic, b) -> b == null ? null : new String(b, UTF_8);

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(UTF_8);
    }

    private static ByteBuffer buffer(String s) {
        return s == null ? null : ByteBuffer.wrap(utf8(s));
    }

    private static ByteBuffer batch(long baseOffset, int leaderEpoch, TimestampType type, CompressionType compression,
            String... keysAndValues) {
        RecordBatchBuilder b = new RecordBatchBuilder(compression, type, baseOffset, RecordBatch.NO_PRODUCER_ID,
                RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, leaderEpoch, 5_000, 256);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            b.append(1_000 + baseOffset + i, buffer(keysAndValues[i]), buffer(keysAndValues[i + 1]),
                    i == 0 ? List.of(new io.raftmq.protocol.record.Header("h1", utf8("x")),
                            new io.raftmq.protocol.record.Header("h2", null)) : List.of());
        }
        return b.build();
    }

    /** A batch turned into a control batch (transaction marker), CRC recomputed. */
    private static ByteBuffer control(long baseOffset) {
        ByteBuffer b = batch(baseOffset, 3, TimestampType.CREATE_TIME, CompressionType.NONE, "marker", "marker");
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (b.getShort(RecordBatch.ATTRIBUTES_OFFSET) | 0x20));
        b.putInt(RecordBatch.CRC_OFFSET, (int) RecordBatch.readFrom(b.duplicate()).computeChecksum());
        return b;
    }

    private static ByteString concat(ByteBuffer... batches) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuffer b : batches) {
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            out.writeBytes(bytes);
        }
        return ByteString.copyFrom(out.toByteArray());
    }

    private static FetchablePartitionResponse.Builder partition(int partition, ByteString records) {
        return FetchablePartitionResponse.newBuilder().setPartition(partition).setRecords(records);
    }

    /**
     * t-0 fetched at 1: a batch of three (the first below the fetch offset, null key, null value),
     * a control batch, a log-append-time batch without a leader epoch, and a partial batch cut off by
     * the size limit; t-1 a gzip batch; t-2 an error; t-3 not asked for.
     */
    private static FetchResponse answer() {
        ByteBuffer partial = batch(6, 3, TimestampType.CREATE_TIME, CompressionType.NONE, "k6", "v6");
        partial.limit(partial.limit() - 3);
        ByteString t0 = concat(batch(0, 3, TimestampType.CREATE_TIME, CompressionType.NONE, "k0", "v0", null, "v1",
                "k2", null), control(3), batch(4, -1, TimestampType.LOG_APPEND_TIME, CompressionType.NONE, "k4", "v4",
                "k5", "v5"), partial);
        return FetchResponse.newBuilder().addTopics(FetchableTopicResponse.newBuilder().setName("t")
                .addPartitions(partition(0, t0))
                .addPartitions(partition(1, concat(batch(0, 7, TimestampType.CREATE_TIME, CompressionType.GZIP,
                        "a", "b", "c", "d"))))
                .addPartitions(partition(2, ByteString.EMPTY).setError(Error.newBuilder()
                        .setCode(ErrorCode.NOT_LEADER_OR_FOLLOWER)))
                .addPartitions(partition(3, concat(batch(0, 7, TimestampType.CREATE_TIME, CompressionType.NONE,
                        "e", "f"))))).build();
    }

    private static final Map<TopicPartition, Long> OFFSETS = Map.of(T0, 1L, T1, 0L, T2, 0L);

    @Test
    void builtInDeserializersBuildTheRecordsTheConsumerThreadBuildsFromRawOnes() {
        FetchDecoder<String, String> builtIn = new FetchDecoder<>(Serdes.stringDeserializer(),
                Serdes.stringDeserializer());
        FetchDecoder<String, String> user = new FetchDecoder<>(USER_STRINGS, USER_STRINGS);
        assertTrue(builtIn.deserializes());
        assertFalse(user.deserializes());
        Map<TopicPartition, FetchDecoder.Decoded<String, String>> fast = builtIn.decodeAll(answer(), OFFSETS);
        Map<TopicPartition, FetchDecoder.Decoded<String, String>> raw = user.decodeAll(answer(), OFFSETS);
        assertEquals(fast.keySet(), raw.keySet());
        assertEquals(2, fast.size(), "no entry for the partition in error or the one not asked for");
        for (TopicPartition tp : List.of(T0, T1)) {
            assertNull(fast.get(tp).error());
            assertNull(raw.get(tp).error());
            assertEquals(List.of(), fast.get(tp).raw());
            assertEquals(List.of(), raw.get(tp).ready());
            List<ConsumerRecord<String, String>> deserializedLater = new ArrayList<>();
            for (FetchDecoder.RawRecord r : raw.get(tp).raw()) {
                deserializedLater.add(r.deserialize(tp, USER_STRINGS, USER_STRINGS));
            }
            assertEquals(deserializedLater, fast.get(tp).ready());
        }
        List<Header> headers = List.of(new Header("h1", utf8("x")), new Header("h2", null));
        assertEquals(List.of(
                new ConsumerRecord<>("t", 0, 1, 1_002, null, "v1", List.of(), Optional.of(3), -1, 2),
                new ConsumerRecord<>("t", 0, 2, 1_004, "k2", null, List.of(), Optional.of(3), 2, -1),
                new ConsumerRecord<>("t", 0, 4, 5_000, "k4", "v4", headers, Optional.empty(), 2, 2),
                new ConsumerRecord<>("t", 0, 5, 5_000, "k5", "v5", List.of(), Optional.empty(), 2, 2)),
                fast.get(T0).ready());
        assertEquals(List.of(
                new ConsumerRecord<>("t", 1, 0, 1_000, "a", "b", headers, Optional.of(7), 1, 1),
                new ConsumerRecord<>("t", 1, 1, 1_002, "c", "d", List.of(), Optional.of(7), 1, 1)),
                fast.get(T1).ready());
    }

    @Test
    void aRecordABuiltInFailsOnIsLeftRawWithEveryRecordAfterItForThePollThreadToThrowAt() {
        RecordBatchBuilder first = new RecordBatchBuilder(CompressionType.NONE, 64);
        first.append(1, null, new byte[] {0, 0, 0, 1}).append(2, null, new byte[] {0, 0, 0, 2})
                .append(3, null, new byte[] {0, 0, 0, 0, 3});
        RecordBatchBuilder second = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 3,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, 0, -1, 64);
        second.append(4, null, new byte[] {0, 0, 0, 4});
        FetchResponse answer = FetchResponse.newBuilder().addTopics(FetchableTopicResponse.newBuilder().setName("t")
                .addPartitions(partition(0, concat(first.build(), second.build())))).build();
        FetchDecoder<byte[], Integer> decoder = new FetchDecoder<>(Serdes.byteArrayDeserializer(),
                Serdes.integerDeserializer());
        FetchDecoder.Decoded<byte[], Integer> d = decoder.decodeAll(answer, Map.of(T0, 0L)).get(T0);
        assertNull(d.error());
        assertEquals(List.of(1, 2), d.ready().stream().map(ConsumerRecord::value).toList());
        assertEquals(List.of(2L, 3L), d.raw().stream().map(FetchDecoder.RawRecord::offset).toList());
        RaftmqException e = assertThrows(RaftmqException.class, () -> d.raw().get(0).deserialize(T0,
                Serdes.byteArrayDeserializer(), Serdes.integerDeserializer()));
        assertEquals("an int needs 4 bytes; the record of topic 't' has 5", e.getMessage());
        assertEquals(4, d.raw().get(1).deserialize(T0, Serdes.byteArrayDeserializer(), Serdes.integerDeserializer())
                .value());
    }

    @Test
    void oneUserDeserializerKeepsEveryRecordRaw() {
        assertFalse(new FetchDecoder<>(Serdes.stringDeserializer(), USER_STRINGS).deserializes());
        assertFalse(new FetchDecoder<>(USER_STRINGS, Serdes.stringDeserializer()).deserializes());
        FetchDecoder.Decoded<String, String> d = new FetchDecoder<>(Serdes.stringDeserializer(), USER_STRINGS)
                .decodeAll(answer(), OFFSETS).get(T0);
        assertEquals(List.of(), d.ready());
        assertEquals(List.of(1L, 2L, 4L, 5L), d.raw().stream().map(FetchDecoder.RawRecord::offset).toList());
    }

    @Test
    void aCorruptBatchIsAnErrorWithoutRecordsOnBothPaths() {
        ByteBuffer good = batch(0, 0, TimestampType.CREATE_TIME, CompressionType.NONE, "k", "v");
        ByteBuffer bad = batch(1, 0, TimestampType.CREATE_TIME, CompressionType.NONE, "k", "v");
        bad.put(bad.limit() - 1, (byte) (bad.get(bad.limit() - 1) ^ 1));
        FetchResponse answer = FetchResponse.newBuilder().addTopics(FetchableTopicResponse.newBuilder().setName("t")
                .addPartitions(partition(0, concat(good, bad)))).build();
        for (FetchDecoder<String, String> decoder : List.of(
                new FetchDecoder<>(Serdes.stringDeserializer(), Serdes.stringDeserializer()),
                new FetchDecoder<>(USER_STRINGS, USER_STRINGS))) {
            FetchDecoder.Decoded<String, String> d = decoder.decodeAll(answer, Map.of(T0, 0L)).get(T0);
            assertInstanceOf(CorruptRecordException.class, d.error());
            assertEquals(List.of(), d.ready());
            assertEquals(List.of(), d.raw());
        }
    }

    private static final byte[] BYTES = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    @Test
    void aParsedByteStringIsViewedThroughItsOwnArray() {
        ByteString parsed = ByteString.copyFrom(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}).substring(1, 10);
        ByteBuffer view = FetchDecoder.readableView(parsed);
        assertTrue(view.hasArray() && !view.isReadOnly());
        assertEquals(0, view.position());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void aByteStringInSeveralPiecesOrAReadOnlyHeapBufferFallsBackToTheReadOnlyView() {
        ByteString rope = ByteString.copyFrom(BYTES, 0, 4).concat(ByteString.copyFrom(BYTES, 4, 5));
        assertEquals(ByteBuffer.wrap(BYTES), FetchDecoder.readableView(rope));
        ByteString readOnly = UnsafeByteOperations.unsafeWrap(ByteBuffer.wrap(BYTES).asReadOnlyBuffer());
        ByteBuffer view = FetchDecoder.readableView(readOnly);
        assertTrue(view.isReadOnly());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void aDirectBufferIsKept() {
        ByteBuffer direct = ByteBuffer.allocateDirect(BYTES.length).put(BYTES).flip();
        ByteBuffer view = FetchDecoder.readableView(UnsafeByteOperations.unsafeWrap(direct.asReadOnlyBuffer()));
        assertTrue(view.isDirect());
        assertFalse(view.hasArray());
        assertEquals(ByteBuffer.wrap(BYTES), view);
    }

    @Test
    void anEmptyByteStringIsAnEmptyView() {
        assertEquals(0, FetchDecoder.readableView(ByteString.EMPTY).remaining());
    }
}
