package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.StubKafkaHandler.api;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.FreePorts;
import io.raftmq.common.Time;
import io.raftmq.storage.LogSlice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kafka listener's network core against a live listener on 127.0.0.1 with a stub handler,
 * spoken to over plain sockets: ApiVersions, answer order, NoResponse and Close, backpressure,
 * refused input, idle connections, and fetched records sent from a file region.
 */
@Timeout(60)
class KafkaListenerTest {
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final short METADATA_V = 12;
    private static final short FETCH_V = 12;
    private static final short PRODUCE_V = 9;
    private static final List<ApiVersion> APIS = List.of(api(ApiKeys.PRODUCE, 3, 13), api(ApiKeys.FETCH, 4, 18),
            api(ApiKeys.METADATA, 1, 12));

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private KafkaListener listener;

    @AfterEach
    void closeAll() throws Exception {
        Exception failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private KafkaListener start(KafkaRequestHandler handler) throws IOException {
        return start(handler, 1024 * 1024, 60_000, 5, true);
    }

    private KafkaListener start(KafkaRequestHandler handler, int maxRequestBytes, long idleMs, int maxInflight,
            boolean allowEpoll) throws IOException {
        KafkaListener.Options options = new KafkaListener.Options(1, "127.0.0.1", FreePorts.next(), maxRequestBytes,
                idleMs, maxInflight, 2);
        listener = new KafkaListener(options, handler, Time.SYSTEM, allowEpoll);
        resources.add(listener);
        listener.start();
        return listener;
    }

    private KafkaWireClient client() throws IOException {
        KafkaWireClient client = KafkaWireClient.connect(listener.boundAddress());
        resources.add(client);
        return client;
    }

    private static MetadataRequestData metadata() {
        return new MetadataRequestData().setTopics(List.of());
    }

    private static CompletableFuture<KafkaResponse> metadataAnswer(KafkaRequest request) {
        return CompletableFuture.completedFuture(KafkaResponse.send(
                new MetadataResponseData().setClusterId("answer-" + request.header().correlationId())));
    }

    /** A handler that parks every future; the test completes them. */
    private static final class Parked implements Function<KafkaRequest, CompletableFuture<KafkaResponse>> {
        final LinkedBlockingQueue<CompletableFuture<KafkaResponse>> futures = new LinkedBlockingQueue<>();

        @Override
        public CompletableFuture<KafkaResponse> apply(KafkaRequest request) {
            CompletableFuture<KafkaResponse> future = new CompletableFuture<>();
            futures.add(future);
            return future;
        }

        CompletableFuture<KafkaResponse> next() throws InterruptedException {
            CompletableFuture<KafkaResponse> future = futures.poll(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(future != null, "no request reached the handler");
            return future;
        }
    }

    private static Set<String> ranges(Iterable<ApiVersion> apis) {
        Set<String> ranges = new TreeSet<>();
        for (ApiVersion api : apis) {
            ranges.add(api.apiKey() + ":" + api.minVersion() + ".." + api.maxVersion());
        }
        return ranges;
    }

    // ApiVersions

    @Test
    void apiVersionsAtEveryKnownVersionAdvertisesTheHandlersApis() throws Exception {
        StubKafkaHandler stub = StubKafkaHandler.answeringDefaults(APIS);
        start(stub);
        KafkaWireClient client = client();
        List<ApiVersion> expected = new ArrayList<>(APIS);
        expected.add(api(ApiKeys.API_VERSIONS, 0, ApiKeys.API_VERSIONS.latestVersion()));
        // Answered by the listener too, on every listener (ILLEGAL_SASL_STATE where there is no SASL).
        expected.add(api(ApiKeys.SASL_HANDSHAKE, 0, ApiKeys.SASL_HANDSHAKE.latestVersion()));
        expected.add(api(ApiKeys.SASL_AUTHENTICATE, 0, ApiKeys.SASL_AUTHENTICATE.latestVersion()));
        for (short version = 0; version <= ApiKeys.API_VERSIONS.latestVersion(); version++) {
            ApiVersionsRequestData request = new ApiVersionsRequestData();
            if (version >= 3) {
                request.setClientSoftwareName("raftmq-test").setClientSoftwareVersion("1.0.0");
            }
            ApiVersionsResponseData answer = client.send(request, version);
            assertEquals(Errors.NONE.code(), answer.errorCode(), "v" + version);
            assertEquals(ranges(expected), ranges(answer.apiKeys()), "v" + version);
            assertEquals(0, answer.throttleTimeMs(), "v" + version);
            if (version >= 3) {
                assertEquals(-1, answer.finalizedFeaturesEpoch());
                assertTrue(answer.supportedFeatures().isEmpty());
                assertTrue(answer.finalizedFeatures().isEmpty());
            }
        }
        assertEquals(0, stub.seenCount(), "ApiVersions is answered by the listener");
        assertEquals(ApiKeys.API_VERSIONS.latestVersion() + 1, listener.stats().requestsHandled());
    }

    @Test
    void apiVersionsAtAnUnknownVersionGetsKafkasV0AnswerAndTheClientCanDowngrade() throws Exception {
        start(StubKafkaHandler.answeringDefaults(APIS));
        KafkaWireClient client = client();
        short unknown = (short) (ApiKeys.API_VERSIONS.latestVersion() + 1);
        // A newer client's body, which this release cannot parse: it is not parsed.
        client.sendRaw(KafkaWireClient.frame(ApiKeys.API_VERSIONS, unknown, 41, new byte[] {9, 9, 9}));
        KafkaWireClient.Response response = client.receive(ApiKeys.API_VERSIONS, (short) 0);
        assertEquals(41, response.correlationId());
        ApiVersionsResponseData answer = (ApiVersionsResponseData) response.body();
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), answer.errorCode());
        assertEquals(Set.of("18:0.." + ApiKeys.API_VERSIONS.latestVersion()), ranges(answer.apiKeys()));

        client.sendRaw(KafkaWireClient.frame(ApiKeys.API_VERSIONS, Short.MAX_VALUE, 42, new byte[0]));
        assertEquals(Errors.UNSUPPORTED_VERSION.code(),
                ((ApiVersionsResponseData) client.receive(ApiKeys.API_VERSIONS, (short) 0).body()).errorCode());

        ApiVersionsResponseData downgraded = client.send(new ApiVersionsRequestData()
                .setClientSoftwareName("raftmq-test").setClientSoftwareVersion("1.0.0"), (short) 3);
        assertEquals(Errors.NONE.code(), downgraded.errorCode());
        assertEquals(APIS.size() + 3, downgraded.apiKeys().size());
    }

    @Test
    void apiVersionsWithAnInvalidClientSoftwareNameGetsInvalidRequest() throws Exception {
        start(StubKafkaHandler.answeringDefaults(APIS));
        KafkaWireClient client = client();
        ApiVersionsResponseData answer = client.send(new ApiVersionsRequestData()
                .setClientSoftwareName("-not valid-").setClientSoftwareVersion("1.0"), (short) 3);
        assertEquals(Errors.INVALID_REQUEST.code(), answer.errorCode());
        assertTrue(answer.apiKeys().isEmpty());
        // The connection stays usable, as on Kafka.
        MetadataResponseData metadata = client.send(metadata(), METADATA_V);
        assertEquals(Errors.NONE.code(), metadata.errorCode());
    }

    // Order, NoResponse, Close, failures

    @Test
    void answersFollowRequestOrderWhenFuturesCompleteInReverse() throws Exception {
        Parked parked = new Parked();
        StubKafkaHandler stub = new StubKafkaHandler(APIS, parked);
        start(stub);
        KafkaWireClient client = client();
        List<Integer> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add(client.write(metadata(), METADATA_V));
        }
        List<CompletableFuture<KafkaResponse>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(parked.next());
        }
        for (int i = 4; i >= 0; i--) {
            futures.get(i).complete(KafkaResponse.send(new MetadataResponseData().setClusterId("answer-" + i)));
        }
        for (int i = 0; i < 5; i++) {
            KafkaWireClient.Response response = client.receive(ApiKeys.METADATA, METADATA_V);
            assertEquals(sent.get(i), response.correlationId());
            assertEquals("answer-" + i, ((MetadataResponseData) response.body()).clusterId());
        }
        List<Integer> seen = stub.seen().stream().map(r -> r.header().correlationId()).toList();
        assertEquals(sent, seen, "handed in arrival order");
        assertEquals(List.of(), stub.breaches());
    }

    @Test
    void noResponseWritesNothingAndLetsTheNextAnswerThrough() throws Exception {
        StubKafkaHandler stub = new StubKafkaHandler(APIS, request -> request.apiKey() == ApiKeys.PRODUCE
                ? CompletableFuture.completedFuture(KafkaResponse.NO_RESPONSE) : metadataAnswer(request));
        start(stub);
        KafkaWireClient client = client();
        client.write(new ProduceRequestData().setAcks((short) 0).setTimeoutMs(1000), PRODUCE_V);
        int metadata = client.write(metadata(), METADATA_V);
        KafkaWireClient.Response response = client.receive(ApiKeys.METADATA, METADATA_V);
        assertEquals(metadata, response.correlationId());
        assertEquals(2, stub.seenCount());
    }

    @Test
    void closeAnswerClosesAfterEarlierAnswersAndLaterRequestsAreNotHandled() throws Exception {
        StubKafkaHandler stub = new StubKafkaHandler(APIS, request -> request.apiKey() == ApiKeys.PRODUCE
                ? CompletableFuture.completedFuture(new KafkaResponse.Close("test: refused acks=0 produce"))
                : metadataAnswer(request));
        start(stub);
        KafkaWireClient client = client();
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        frames.write(KafkaWireClient.frame(metadata(), METADATA_V, 1));
        frames.write(KafkaWireClient.frame(new ProduceRequestData().setAcks((short) 0), PRODUCE_V, 2));
        frames.write(KafkaWireClient.frame(metadata(), METADATA_V, 3));
        client.sendRaw(frames.toByteArray());
        assertEquals(1, client.receive(ApiKeys.METADATA, METADATA_V).correlationId());
        assertTrue(client.isClosedWithin(BOUND));
        assertEquals(List.of(1, 2), stub.seen().stream().map(r -> r.header().correlationId()).toList());
    }

    @Test
    void closeAnswerWaitsForEarlierAnswersStillInFlight() throws Exception {
        Parked parked = new Parked();
        start(new StubKafkaHandler(APIS, parked));
        KafkaWireClient client = client();
        int first = client.write(metadata(), METADATA_V);
        client.write(new ProduceRequestData().setAcks((short) 0), PRODUCE_V);
        CompletableFuture<KafkaResponse> firstAnswer = parked.next();
        parked.next().complete(new KafkaResponse.Close("test"));
        assertFalse(client.isClosedWithin(Duration.ofMillis(300)), "closed before the earlier answer");
        firstAnswer.complete(KafkaResponse.send(new MetadataResponseData()));
        assertEquals(first, client.receive(ApiKeys.METADATA, METADATA_V).correlationId());
        assertTrue(client.isClosedWithin(BOUND));
    }

    @Test
    void failedFutureOrUnencodableAnswerClosesTheConnection() throws Exception {
        StubKafkaHandler stub = new StubKafkaHandler(APIS, request -> switch (request.apiKey()) {
            case PRODUCE -> CompletableFuture.failedFuture(new IllegalStateException("test failure"));
            case FETCH -> CompletableFuture.completedFuture(KafkaResponse.send(new MetadataResponseData()));
            default -> metadataAnswer(request);
        });
        start(stub);
        KafkaWireClient failed = client();
        int metadata = failed.write(metadata(), METADATA_V);
        failed.write(new ProduceRequestData().setAcks((short) 1), PRODUCE_V);
        // The answer before the failure still goes out.
        assertEquals(metadata, failed.receive(ApiKeys.METADATA, METADATA_V).correlationId());
        assertTrue(failed.isClosedWithin(BOUND));

        KafkaWireClient mismatched = client();
        mismatched.write(new FetchRequestData(), FETCH_V);
        assertTrue(mismatched.isClosedWithin(BOUND));
        assertEquals(2, listener.stats().requestsFailed());
        assertEquals(0, listener.stats().connectionsClosedForBadInput());
    }

    // Backpressure

    @Test
    void aConnectionHasAtMostMaxInflightRequestsAtTheHandler() throws Exception {
        Parked parked = new Parked();
        StubKafkaHandler stub = new StubKafkaHandler(APIS, parked);
        start(stub, 1024 * 1024, 60_000, 3, true);
        KafkaWireClient client = client();
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = 1; i <= 8; i++) {
            frames.write(KafkaWireClient.frame(metadata(), METADATA_V, i));
        }
        client.sendRaw(frames.toByteArray());
        await().atMost(BOUND).until(() -> stub.seenCount() == 3);
        await().during(Duration.ofMillis(300)).atMost(BOUND).until(() -> stub.seenCount() == 3);
        parked.next().complete(KafkaResponse.send(new MetadataResponseData()));
        await().atMost(BOUND).until(() -> stub.seenCount() == 4);
        await().during(Duration.ofMillis(200)).atMost(BOUND).until(() -> stub.seenCount() == 4);
        for (int i = 0; i < 7; i++) {
            parked.next().complete(KafkaResponse.send(new MetadataResponseData()));
        }
        for (int i = 1; i <= 8; i++) {
            assertEquals(i, client.receive(ApiKeys.METADATA, METADATA_V).correlationId());
        }
        assertEquals(8, stub.seenCount());
    }

    @Test
    void aClientThatDoesNotReadItsAnswersIsNotReadEither() throws Exception {
        byte[] big = new byte[1024 * 1024];
        new Random(7).nextBytes(big);
        StubKafkaHandler stub = new StubKafkaHandler(APIS, request -> CompletableFuture.completedFuture(
                KafkaResponse.send(fetchAnswer(MemoryRecords.readableRecords(ByteBuffer.wrap(big))))));
        start(stub, 1024 * 1024, 60_000, 1000, true);
        KafkaWireClient client = KafkaWireClient.connect(listener.boundAddress(), BOUND, 16 * 1024);
        resources.add(client);
        int requests = 40;
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = 1; i <= requests; i++) {
            frames.write(KafkaWireClient.frame(new FetchRequestData(), FETCH_V, i));
        }
        client.sendRaw(frames.toByteArray());
        await().atMost(BOUND).until(() -> stub.seenCount() > 0);
        await().during(Duration.ofMillis(500)).atMost(BOUND).until(() -> stub.seenCount() < requests);
        for (int i = 1; i <= requests; i++) {
            KafkaWireClient.Response response = client.receive(ApiKeys.FETCH, FETCH_V);
            assertEquals(i, response.correlationId());
            BaseRecords records = ((FetchResponseData) response.body()).responses().get(0).partitions().get(0)
                    .records();
            assertEquals(big.length, records.sizeInBytes());
        }
        assertEquals(requests, stub.seenCount());
    }

    // Refused input

    @Test
    void framesOutOfBoundsCloseTheirConnectionOnly() throws Exception {
        StubKafkaHandler stub = new StubKafkaHandler(APIS, KafkaListenerTest::metadataAnswer);
        start(stub, 1024, 60_000, 5, true);
        KafkaWireClient healthy = client();
        assertEquals(Errors.NONE.code(), ((MetadataResponseData) healthy.send(metadata(), METADATA_V)).errorCode());

        KafkaWireClient tooBig = client();
        tooBig.sendRaw(new byte[] {0, 0, 4, 1, 0, 3, 0, 12});
        assertTrue(tooBig.isClosedWithin(BOUND));
        KafkaWireClient negative = client();
        negative.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertTrue(negative.isClosedWithin(BOUND));
        KafkaWireClient huge = client();
        huge.sendRaw(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertTrue(huge.isClosedWithin(BOUND));

        // A request of exactly maxRequestBytes is served (trailing bytes after a body are ignored, as
        // Kafka does).
        byte[] request = KafkaWireClient.frame(metadata(), METADATA_V, 77);
        byte[] padded = Arrays.copyOf(request, 4 + 1024);
        ByteBuffer.wrap(padded).putInt(1024);
        KafkaWireClient atLimit = client();
        atLimit.sendRaw(padded);
        assertEquals(77, atLimit.receive(ApiKeys.METADATA, METADATA_V).correlationId());

        assertEquals(Errors.NONE.code(), ((MetadataResponseData) healthy.send(metadata(), METADATA_V)).errorCode());
        assertEquals(3, listener.stats().connectionsClosedForBadInput());
        assertEquals(3, stub.seenCount());
    }

    @Test
    void requestsKafkaWouldRefuseCloseTheConnectionAndNeverReachTheHandler() throws Exception {
        StubKafkaHandler stub = StubKafkaHandler.answeringDefaults(APIS);
        start(stub);
        List<byte[]> refused = List.of(
                // An api key no Kafka defines, and one this release no longer defines (LeaderAndIsr).
                KafkaWireClient.frame(header(999, 0), (short) 1, new byte[8]),
                KafkaWireClient.frame(header(ApiKeys.LEADER_AND_ISR.id, 7), (short) 2, new byte[8]),
                // A key the handler does not serve.
                KafkaWireClient.frame(new CreateTopicsRequestData(), (short) 7, 5),
                // Versions outside the served range (Metadata 1..12), one inside Kafka's.
                KafkaWireClient.frame(metadata(), (short) 13, 6),
                KafkaWireClient.frame(ApiKeys.METADATA, (short) 0, 7, new byte[4]),
                KafkaWireClient.frame(ApiKeys.METADATA, (short) -1, 7, new byte[4]),
                // Bodies that do not parse: none at all, a length past the end, a negative length.
                KafkaWireClient.frame(ApiKeys.METADATA, METADATA_V, 8, new byte[0]),
                KafkaWireClient.frame(ApiKeys.METADATA, METADATA_V, 9, new byte[] {(byte) 0xff, (byte) 0xff, 0x7f}),
                KafkaWireClient.frame(ApiKeys.METADATA, (short) 4, 10, new byte[] {0, 0, 0, 5, 0, (byte) 0xfe}),
                KafkaWireClient.frame(ApiKeys.API_VERSIONS, (short) 3, 11, new byte[] {5, 'a'}),
                // A header that does not parse.
                new byte[] {0, 0, 0, 3, 0, 3, 0},
                new byte[] {0, 0, 0, 0});
        for (byte[] frame : refused) {
            KafkaWireClient client = client();
            client.sendRaw(frame);
            assertTrue(client.isClosedWithin(BOUND), "still open after " + Arrays.toString(frame));
        }
        assertEquals(List.of(), stub.seen().stream().map(r -> r.apiKey() + " v" + r.apiVersion()).toList());
        assertEquals(refused.size(), listener.stats().connectionsClosedForBadInput());
        KafkaWireClient fresh = client();
        assertEquals(Errors.NONE.code(),
                ((ApiVersionsResponseData) fresh.send(new ApiVersionsRequestData(), (short) 0)).errorCode());
    }

    private static RequestHeaderData header(int apiKey, int version) {
        return new RequestHeaderData().setRequestApiKey((short) apiKey).setRequestApiVersion((short) version)
                .setCorrelationId(1).setClientId("wire-test");
    }

    // Idle connections

    @Test
    void idleConnectionsCloseButNotWhileARequestIsInFlight() throws Exception {
        Parked parked = new Parked();
        start(new StubKafkaHandler(APIS, parked), 1024 * 1024, 300, 5, true);
        KafkaWireClient idle = client();
        assertTrue(idle.isClosedWithin(BOUND));

        KafkaWireClient waiting = client();
        int correlationId = waiting.write(metadata(), METADATA_V);
        CompletableFuture<KafkaResponse> answer = parked.next();
        assertFalse(waiting.isClosedWithin(Duration.ofMillis(1000)), "closed with a request in flight");
        answer.complete(KafkaResponse.send(new MetadataResponseData()));
        assertEquals(correlationId, waiting.receive(ApiKeys.METADATA, METADATA_V).correlationId());
        assertTrue(waiting.isClosedWithin(BOUND));
        await().atMost(BOUND).until(() -> listener.stats().connectionsOpen() == 0);
        assertEquals(2, listener.stats().connectionsAccepted());
    }

    // Records from a file region

    @ParameterizedTest(name = "epoll allowed: {0}")
    @ValueSource(booleans = {true, false})
    void fetchedRecordsGoFromTheFileByteExactAndTheFileStaysOpen(boolean allowEpoll) throws Exception {
        Random random = new Random(11);
        byte[] before = new byte[1000];
        byte[] slice = new byte[300_000];
        byte[] after = new byte[500];
        random.nextBytes(before);
        random.nextBytes(slice);
        random.nextBytes(after);
        Path file = dir.resolve("00000000000000000000.log");
        Files.write(file, concat(before, slice, after));
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        resources.add(channel);
        byte[] memory = "in memory".getBytes(StandardCharsets.UTF_8);
        FetchResponseData answer = new FetchResponseData().setResponses(List.of(
                new FetchResponseData.FetchableTopicResponse().setTopic("t").setPartitions(List.of(
                        partition(0, new LogSliceRecords(new LogSlice(channel, before.length, slice.length, 0, 10))),
                        partition(1, MemoryRecords.readableRecords(ByteBuffer.wrap(memory))),
                        partition(2, new LogSliceRecords(LogSlice.empty(5))),
                        partition(3, new LogSliceRecords(new LogSlice(channel, 0, 10, 0, 1)))))));
        start(new StubKafkaHandler(APIS, request -> CompletableFuture.completedFuture(KafkaResponse.send(answer))),
                1024 * 1024, 60_000, 5, allowEpoll);
        KafkaWireClient client = client();
        for (int round = 0; round < 2; round++) {
            FetchResponseData fetched = client.send(new FetchRequestData(), FETCH_V);
            List<FetchResponseData.PartitionData> partitions = fetched.responses().get(0).partitions();
            assertArrayEquals(slice, bytes(partitions.get(0).records()), "round " + round);
            assertArrayEquals(memory, bytes(partitions.get(1).records()));
            assertEquals(0, partitions.get(2).records().sizeInBytes());
            assertArrayEquals(Arrays.copyOf(before, 10), bytes(partitions.get(3).records()));
            assertTrue(channel.isOpen(), "the segment file was closed by the answer");
        }
        assertTrue(listener.stats().bytesOut() > 2L * slice.length);
    }

    @Test
    void answersInPiecesStayWholeWhenWritingCrossesTheHighWaterMark() throws Exception {
        // An answer of a buffer above Netty's high water mark (64 KiB), a file region, and a
        // buffer: writing its first piece makes the channel unwritable mid-answer; the next
        // answer, ready too, must still follow the whole of this one.
        Random random = new Random(13);
        byte[] file = new byte[20_000];
        random.nextBytes(file);
        Path path = dir.resolve("segment.log");
        Files.write(path, file);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        resources.add(channel);
        byte[] big = new byte[100_000];
        random.nextBytes(big);
        Parked parked = new Parked();
        start(new StubKafkaHandler(APIS, parked));
        KafkaWireClient client = client();
        int requests = 6;
        for (int i = 0; i < requests; i++) {
            client.write(new FetchRequestData(), FETCH_V);
        }
        List<CompletableFuture<KafkaResponse>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(parked.next());
        }
        FetchResponseData answer = new FetchResponseData().setResponses(List.of(
                new FetchResponseData.FetchableTopicResponse().setTopic("t").setPartitions(List.of(
                        partition(0, MemoryRecords.readableRecords(ByteBuffer.wrap(big))),
                        partition(1, new LogSliceRecords(new LogSlice(channel, 100, 10_000, 0, 10))),
                        partition(2, MemoryRecords.readableRecords(ByteBuffer.wrap(new byte[] {1, 2})))))));
        // All but the first are ready when the first completes and its answer is written.
        for (int i = futures.size() - 1; i >= 0; i--) {
            futures.get(i).complete(KafkaResponse.send(answer));
        }
        parked.next().complete(KafkaResponse.send(answer));
        for (int i = 1; i <= requests; i++) {
            KafkaWireClient.Response response = client.receive(ApiKeys.FETCH, FETCH_V);
            assertEquals(i, response.correlationId());
            List<FetchResponseData.PartitionData> partitions = ((FetchResponseData) response.body()).responses()
                    .get(0).partitions();
            assertArrayEquals(big, bytes(partitions.get(0).records()));
            assertArrayEquals(Arrays.copyOfRange(file, 100, 10_100), bytes(partitions.get(1).records()));
            assertArrayEquals(new byte[] {1, 2}, bytes(partitions.get(2).records()));
        }
    }

    private static FetchResponseData fetchAnswer(BaseRecords records) {
        return new FetchResponseData().setResponses(List.of(new FetchResponseData.FetchableTopicResponse()
                .setTopic("t").setPartitions(List.of(partition(0, records)))));
    }

    private static FetchResponseData.PartitionData partition(int index, BaseRecords records) {
        return new FetchResponseData.PartitionData().setPartitionIndex(index).setHighWatermark(10).setRecords(records);
    }

    private static byte[] bytes(BaseRecords records) {
        ByteBuffer buffer = ((MemoryRecords) records).buffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    // Lifecycle

    @Test
    void bindFailureNamesTheAddressAndCloseIsIdempotent() throws Exception {
        start(StubKafkaHandler.answeringDefaults(APIS));
        InetSocketAddress taken = listener.boundAddress();
        KafkaListener second = new KafkaListener(new KafkaListener.Options(2, "127.0.0.1", taken.getPort(), 1024,
                60_000, 5, 1), StubKafkaHandler.answeringDefaults(APIS));
        resources.add(second);
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getPort()), e.getMessage());
        second.close();

        KafkaWireClient client = client();
        listener.close();
        assertTrue(client.isClosedWithin(BOUND));
        listener.close();
        assertThrows(IllegalStateException.class, listener::boundAddress);
    }

    @Test
    void closeClosesConnectionsAcceptedButNotRegisteredYet() throws Exception {
        // A client connected just before close() may still be on its way to a network thread.
        for (int i = 0; i < 30; i++) {
            KafkaListener.Options options = new KafkaListener.Options(1, "127.0.0.1", FreePorts.next(), 1024, 60_000,
                    5, 1);
            KafkaListener racing = new KafkaListener(options, StubKafkaHandler.answeringDefaults(APIS));
            resources.add(racing);
            racing.start();
            KafkaWireClient client = KafkaWireClient.connect(racing.boundAddress());
            resources.add(client);
            racing.close();
            assertTrue(client.isClosedWithin(BOUND), "connection left open by close(), round " + i);
        }
    }

    @Test
    void handlerApisOutsideWhatKafkaDefinesAreRefusedAtConstruction() {
        KafkaListener.Options options = new KafkaListener.Options(1, "127.0.0.1", 0, 1024, 60_000, 5, 1);
        IllegalArgumentException tooNew = assertThrows(IllegalArgumentException.class, () -> new KafkaListener(options,
                StubKafkaHandler.answeringDefaults(List.of(api(ApiKeys.METADATA, 0, 99)))));
        assertTrue(tooNew.getMessage().contains("METADATA versions 0..99"), tooNew.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KafkaListener(options,
                StubKafkaHandler.answeringDefaults(List.of(api(ApiKeys.METADATA, 0, 1), api(ApiKeys.METADATA, 2, 3)))));
        assertThrows(IllegalArgumentException.class, () -> new KafkaListener(options,
                StubKafkaHandler.answeringDefaults(List.of(new ApiVersion().setApiKey((short) 4)))));
        assertThrows(IllegalArgumentException.class, () -> new KafkaListener.Options(1, "127.0.0.1", 0, 0, 1, 1, 1));
    }
}
