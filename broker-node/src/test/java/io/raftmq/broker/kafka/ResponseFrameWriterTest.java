package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.FileRegion;
import io.raftmq.storage.LogSlice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordsSend;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answers encoded by {@link ResponseFrameWriter} are byte for byte what Kafka's own serialization
 * writes, with a file region where the records lie in a segment file and the bytes themselves over
 * TLS.
 */
class ResponseFrameWriterTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    @TempDir
    Path dir;

    /** Kafka's frame for the answer: size field, header, body. */
    private static byte[] kafkaFrame(int correlationId, ApiKeys key, short version, ApiMessage body) {
        ByteBuffer payload = RequestUtils.serialize(new ResponseHeaderData().setCorrelationId(correlationId),
                key.responseHeaderVersion(version), body, version);
        byte[] bytes = new byte[4 + payload.remaining()];
        ByteBuffer.wrap(bytes).putInt(payload.remaining()).put(payload);
        return bytes;
    }

    /** The pieces' bytes in order (file regions read through their own transferTo). */
    private static byte[] bytes(ResponseFrameWriter.Frame frame) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WritableByteChannel channel = Channels.newChannel(out);
        for (Object piece : frame.pieces()) {
            if (piece instanceof ByteBuf buf) {
                byte[] b = new byte[buf.readableBytes()];
                buf.getBytes(buf.readerIndex(), b);
                out.write(b);
            } else {
                FileRegion region = (FileRegion) piece;
                while (region.transferred() < region.count()) {
                    region.transferTo(channel, region.transferred());
                }
            }
        }
        return out.toByteArray();
    }

    private static void assertEncodesLikeKafka(ApiKeys key, short version, ApiMessage body) throws IOException {
        ResponseFrameWriter.Frame frame = ResponseFrameWriter.encode(ALLOC, false, 1234, key, version, body);
        try {
            byte[] expected = kafkaFrame(1234, key, version, body);
            assertArrayEquals(expected, bytes(frame), key + " v" + version);
            assertEquals(expected.length, frame.sizeInBytes());
        } finally {
            frame.release();
        }
    }

    @Test
    void fieldsAndMemoryRecordsEncodeAsKafkasOwnSerialization() throws IOException {
        Random random = new Random(5);
        for (short version = 0; version <= ApiKeys.API_VERSIONS.latestVersion(); version++) {
            ApiVersionsResponseData answer = new ListenerApis(List.of(StubKafkaHandler.api(ApiKeys.METADATA, 0, 13)))
                    .answer(new ApiVersionsRequestData()
                            .setClientSoftwareName("a").setClientSoftwareVersion("1"), version);
            assertEncodesLikeKafka(ApiKeys.API_VERSIONS, version, answer);
        }
        MetadataResponseData metadata = new MetadataResponseData().setClusterId("cluster-é").setControllerId(3);
        for (int i = 0; i < 300; i++) {
            metadata.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(i)
                    .setHost("host-" + random.nextInt()).setPort(random.nextInt(65536))
                    .setRack(i % 2 == 0 ? null : "r"));
            metadata.topics().add(new MetadataResponseData.MetadataResponseTopic().setName("topic-" + i)
                    .setTopicId(Uuid.randomUuid()).setErrorCode((short) (i % 3)));
        }
        for (short version = 1; version <= 13; version++) {
            assertEncodesLikeKafka(ApiKeys.METADATA, version, metadata);
        }
        byte[] records = new byte[70_000];
        random.nextBytes(records);
        FetchResponseData fetch = fetch(MemoryRecords.readableRecords(ByteBuffer.wrap(records)),
                MemoryRecords.EMPTY, null);
        for (short version : new short[] {4, 11, 12, 16, 18}) {
            assertEncodesLikeKafka(ApiKeys.FETCH, version, fetch);
        }
    }

    @Test
    void varintsMatchKafkasAtTheirEdges() throws IOException {
        // Compact strings whose length prefixes (unsigned varints) take one, two and three bytes,
        // then the writer's varints against Kafka's ByteBufferAccessor on random and edge values.
        for (int length : new int[] {0, 1, 126, 127, 128, 16_383, 16_384, 32_767}) {
            MetadataResponseData metadata = new MetadataResponseData().setClusterId("c".repeat(length));
            assertEncodesLikeKafka(ApiKeys.METADATA, (short) 12, metadata);
        }
        Random random = new Random(9);
        for (int i = 0; i < 2000; i++) {
            int value = switch (i % 4) {
                case 0 -> random.nextInt();
                case 1 -> random.nextInt(1 << (1 + random.nextInt(30)));
                case 2 -> Integer.MIN_VALUE + random.nextInt(3);
                default -> Integer.MAX_VALUE - random.nextInt(3);
            };
            long longValue = i % 5 == 0 ? Long.MIN_VALUE + i : random.nextLong() >> random.nextInt(64);
            ResponseFrameWriter writer = new ResponseFrameWriter(ALLOC, false, 16);
            ByteBufferAccessor kafka = new ByteBufferAccessor(ByteBuffer.allocate(64));
            for (Writable out : List.of(writer, kafka)) {
                out.writeUnsignedVarint(value);
                out.writeVarint(value);
                out.writeVarlong(longValue);
                out.writeDouble(value / 7.0);
            }
            kafka.flip();
            byte[] expected = new byte[kafka.remaining()];
            kafka.buffer().get(expected);
            ResponseFrameWriter.Frame frame = writer.finish();
            assertArrayEquals(expected, bytes(frame), value + ", " + longValue);
            frame.release();
        }
    }

    @Test
    void logSliceRecordsBecomeAFileRegionThatLeavesTheFileOpen() throws IOException {
        Random random = new Random(3);
        byte[] file = new byte[10_000];
        random.nextBytes(file);
        Path path = dir.resolve("segment.log");
        Files.write(path, file);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            LogSlice slice = new LogSlice(channel, 1000, 5000, 0, 7);
            byte[] sliceBytes = Arrays.copyOfRange(file, 1000, 6000);
            FetchResponseData withSlice = fetch(new LogSliceRecords(slice), new LogSliceRecords(LogSlice.empty(3)),
                    MemoryRecords.readableRecords(ByteBuffer.wrap(new byte[] {1, 2, 3})));
            FetchResponseData inMemory = fetch(MemoryRecords.readableRecords(ByteBuffer.wrap(sliceBytes)),
                    MemoryRecords.EMPTY, MemoryRecords.readableRecords(ByteBuffer.wrap(new byte[] {1, 2, 3})));
            for (short version : new short[] {4, 12, 18}) {
                byte[] expected = kafkaFrame(9, ApiKeys.FETCH, version, inMemory);

                ResponseFrameWriter.Frame frame = ResponseFrameWriter.encode(ALLOC, false, 9, ApiKeys.FETCH, version,
                        withSlice);
                assertEquals(3, frame.pieces().size(), "buffer, region, buffer");
                LogSliceRegion region = assertInstanceOf(LogSliceRegion.class, frame.pieces().get(1));
                assertEquals(1000, region.position());
                assertEquals(5000, region.count());
                assertArrayEquals(expected, bytes(frame));
                assertEquals(expected.length, frame.sizeInBytes());
                frame.release();
                assertTrue(channel.isOpen(), "releasing the region closed the segment file");

                ResponseFrameWriter.Frame copied = ResponseFrameWriter.encode(ALLOC, true, 9, ApiKeys.FETCH, version,
                        withSlice);
                assertTrue(copied.pieces().stream().allMatch(p -> p instanceof ByteBuf), "TLS: bytes only");
                assertArrayEquals(expected, bytes(copied));
                copied.release();
            }
            assertTrue(channel.isOpen());
        }
    }

    @Test
    void otherRecordsTypesAndMismatchedBodiesAreProgrammingErrors() {
        BaseRecords foreign = new BaseRecords() {
            @Override
            public int sizeInBytes() {
                return 3;
            }

            @Override
            public RecordsSend<? extends BaseRecords> toSend() {
                throw new UnsupportedOperationException();
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ResponseFrameWriter.encode(ALLOC,
                false, 1, ApiKeys.FETCH, (short) 12, fetch(foreign, MemoryRecords.EMPTY, MemoryRecords.EMPTY)));
        assertTrue(e.getMessage().contains("cannot send records of type"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> ResponseFrameWriter.encode(ALLOC, false, 1, ApiKeys.FETCH,
                (short) 12, new MetadataResponseData()));
    }

    private static FetchResponseData fetch(BaseRecords first, BaseRecords second, BaseRecords third) {
        return new FetchResponseData().setResponses(List.of(new FetchResponseData.FetchableTopicResponse()
                .setTopic("t").setTopicId(Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ")).setPartitions(List.of(
                        new FetchResponseData.PartitionData().setPartitionIndex(0).setHighWatermark(7)
                                .setRecords(first),
                        new FetchResponseData.PartitionData().setPartitionIndex(1).setRecords(second),
                        new FetchResponseData.PartitionData().setPartitionIndex(2).setRecords(third)))));
    }
}
