package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.StubKafkaHandler.api;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.util.ResourceLeakDetector;
import io.raftmq.common.FreePorts;
import io.raftmq.common.Time;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Random frames and mutated valid requests (bit flips, truncations, size fields changed, random
 * api keys and versions, garbage) against a live listener. An oracle built from Kafka's own
 * classes cuts each connection's bytes into frames as the listener must, and says which requests
 * the listener must accept; each connection must then get exactly the answers to the accepted
 * prefix, in order and well-formed, and be closed within a bound if anything was refused or left
 * incomplete (or stay open, its last request answered, if not). The handler must only see served
 * keys and versions; no exception may reach Netty's unhandled-exception path; and a fresh
 * connection is served afterwards.
 *
 * <p>Seeded: the seed is printed on failure; rerun one with {@code -Draftmq.test.seed=N}.
 */
@Timeout(60)
class KafkaListenerFuzzTest {
    // A fixed number of cases per seed (not a time budget), so that a printed seed reproduces.
    private static final int CASES = 200;
    private static final int CLIENT_THREADS = 6;
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final long IDLE_MS = 250;
    private static final Duration READ_BOUND = Duration.ofSeconds(5);
    private static final int PROBE_CORRELATION_ID = 1_000_000;
    private static final List<ApiVersion> APIS = List.of(api(ApiKeys.PRODUCE, 3, 13), api(ApiKeys.FETCH, 4, 18),
            api(ApiKeys.LIST_OFFSETS, 1, 11), api(ApiKeys.METADATA, 0, 13), api(ApiKeys.FIND_COORDINATOR, 0, 6),
            api(ApiKeys.HEARTBEAT, 0, 4));
    private static final List<ApiKeys> KEYS = List.of(ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.LIST_OFFSETS,
            ApiKeys.METADATA, ApiKeys.FIND_COORDINATOR, ApiKeys.HEARTBEAT, ApiKeys.API_VERSIONS,
            ApiKeys.CREATE_TOPICS, ApiKeys.JOIN_GROUP);

    /** A frame the listener must parse the header of: the answer it owes, if it accepts it. */
    private record Expected(int correlationId, ApiKeys key, short answerVersion, boolean accepted,
            boolean answered) {}

    /** What the listener must do with one connection's bytes. */
    private record Oracle(List<Expected> frames, boolean mustClose) {}

    private final AtomicInteger casesRun = new AtomicInteger();
    private final AtomicInteger casesClosed = new AtomicInteger();
    private final AtomicInteger answersChecked = new AtomicInteger();

    @Test
    void randomAndMutatedInputGetsWellFormedAnswersOrAClose() throws Exception {
        Long fixed = Long.getLong("raftmq.test.seed");
        long seed = fixed != null ? fixed : new Random().nextLong();
        ListenerApis served = new ListenerApis(APIS);
        StubKafkaHandler stub = new StubKafkaHandler(APIS, KafkaListenerFuzzTest::answer);
        Logger connectionLog = (Logger) LoggerFactory.getLogger(KafkaConnection.class);
        Logger nettyPipelineLog = (Logger) LoggerFactory.getLogger("io.netty.channel.DefaultChannelPipeline");
        Logger leakLog = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
        ListAppender<ILoggingEvent> connectionEvents = new ListAppender<>();
        ListAppender<ILoggingEvent> nettyEvents = new ListAppender<>();
        connectionEvents.start();
        nettyEvents.start();
        // The refused connections' WARN lines go to the list, not the console.
        connectionLog.setAdditive(false);
        connectionLog.addAppender(connectionEvents);
        nettyPipelineLog.addAppender(nettyEvents);
        leakLog.addAppender(nettyEvents);
        // Every buffer tracked: a leak found at the next allocations after a GC is logged.
        ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        KafkaListener.Options options = new KafkaListener.Options(1, "127.0.0.1", FreePorts.next(), MAX_REQUEST_BYTES,
                IDLE_MS, 5, 2);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENT_THREADS);
        try (KafkaListener listener = new KafkaListener(options, stub, Time.SYSTEM, true)) {
            listener.start();
            List<Future<?>> runs = new ArrayList<>();
            for (int c = 0; c < CASES; c++) {
                int caseIndex = c;
                runs.add(clients.submit(() -> {
                    runCase(listener, served, seed, caseIndex);
                    return null;
                }));
            }
            for (int c = 0; c < runs.size(); c++) {
                try {
                    runs.get(c).get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("fuzz case " + c + " failed with seed " + seed + " (rerun with"
                            + " -Draftmq.test.seed=" + seed + ")", e.getCause());
                }
            }
            System.gc();
            try {
                assertEquals(List.of(), stub.breaches(), "handler contract");
                assertEquals(0, listener.stats().requestsFailed(), "answers that failed to encode");
                assertEquals(List.of(), messages(nettyEvents, Level.WARN), "exceptions that reached Netty");
                assertEquals(List.of(), messages(connectionEvents, Level.WARN).stream()
                        .filter(m -> m.contains("unexpected error")).toList());
                try (KafkaWireClient fresh = KafkaWireClient.connect(listener.boundAddress())) {
                    for (int i = 0; i < 20; i++) {
                        ApiVersionsResponseData answer = fresh.send(new ApiVersionsRequestData()
                                .setClientSoftwareName("fresh").setClientSoftwareVersion("1"), (short) 3);
                        assertEquals(Errors.NONE.code(), answer.errorCode());
                    }
                }
                assertEquals(List.of(), messages(nettyEvents, Level.WARN), "buffers leaked");
                System.out.println("fuzz seed " + seed + ": " + casesRun + " connections, " + casesClosed
                        + " to be closed, " + answersChecked + " answers checked; " + listener.stats());
                assertEquals(CASES, casesRun.get(), "cases run");
                assertTrue(listener.stats().connectionsClosedForBadInput() > 0, listener.stats().toString());
                assertTrue(stub.seenCount() > 0, listener.stats().toString());
            } catch (AssertionError e) {
                throw new AssertionError("fuzzing failed with seed " + seed + " (rerun with -Draftmq.test.seed="
                        + seed + "); " + listener.stats(), e);
            }
        } finally {
            clients.shutdownNow();
            connectionLog.detachAppender(connectionEvents);
            connectionLog.setAdditive(true);
            nettyPipelineLog.detachAppender(nettyEvents);
            leakLog.detachAppender(nettyEvents);
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    private static List<String> messages(ListAppender<ILoggingEvent> events, Level atLeast) {
        synchronized (events.list) {
            return events.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(atLeast))
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** The stub: defaults of the response class, at once or a little later; nothing for acks=0. */
    private static CompletableFuture<KafkaResponse> answer(KafkaRequest request) {
        if (request.body() instanceof ProduceRequestData produce && produce.acks() == 0) {
            return CompletableFuture.completedFuture(KafkaResponse.NO_RESPONSE);
        }
        KafkaResponse response = KafkaResponse.send(request.apiKey().messageType.newResponse());
        if (request.header().correlationId() % 3 == 0) {
            return CompletableFuture.supplyAsync(() -> response,
                    CompletableFuture.delayedExecutor(request.header().correlationId() % 5, TimeUnit.MILLISECONDS));
        }
        return CompletableFuture.completedFuture(response);
    }

    private void runCase(KafkaListener listener, ListenerApis served, long seed, int caseIndex)
            throws IOException {
        Random random = new Random(seed ^ (caseIndex * 0x9E3779B97F4A7C15L));
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        int frames = 1 + random.nextInt(6);
        for (int f = 0; f < frames; f++) {
            stream.writeBytes(randomFrame(random, 100 * caseIndex + f));
        }
        stream.writeBytes(KafkaWireClient.frame(new ApiVersionsRequestData().setClientSoftwareName("probe")
                .setClientSoftwareVersion("1"), (short) 3, PROBE_CORRELATION_ID));
        byte[] bytes = stream.toByteArray();
        Oracle oracle = oracle(bytes, served);
        casesRun.incrementAndGet();
        try (KafkaWireClient client = KafkaWireClient.connect(listener.boundAddress(), READ_BOUND, 0)) {
            // In one to three writes, so that frames also arrive in pieces.
            int at = 0;
            int writes = 1 + random.nextInt(3);
            for (int w = 1; w <= writes; w++) {
                int end = w == writes ? bytes.length : at + random.nextInt(bytes.length - at + 1);
                try {
                    client.sendRaw(Arrays.copyOfRange(bytes, at, end));
                } catch (SocketException e) {
                    break; // refused and closed already
                }
                at = end;
            }
            List<Expected> owed = new ArrayList<>();
            for (Expected expected : oracle.frames()) {
                if (!expected.accepted()) {
                    break;
                }
                if (expected.answered()) {
                    owed.add(expected);
                }
            }
            for (Expected expected : owed) {
                ByteBuffer frame;
                try {
                    frame = client.readFrame();
                } catch (EOFException | SocketException e) {
                    throw new AssertionError("closed before answering correlation id " + expected.correlationId()
                            + " (" + expected.key() + "); expected " + oracle, e);
                }
                checkAnswer(frame, expected, served);
                answersChecked.incrementAndGet();
            }
            if (oracle.mustClose()) {
                casesClosed.incrementAndGet();
                assertTrue(client.isClosedWithin(READ_BOUND), "still open; expected " + oracle);
            }
        }
    }

    private static void checkAnswer(ByteBuffer frame, Expected expected, ListenerApis served) {
        short headerVersion = expected.key().responseHeaderVersion(expected.answerVersion());
        ResponseHeader header = ResponseHeader.parse(frame, headerVersion);
        assertEquals(expected.correlationId(), header.correlationId(), "answer order");
        ApiMessage body = expected.key().messageType.newResponse();
        body.read(new ByteBufferAccessor(frame), expected.answerVersion());
        assertEquals(0, frame.remaining(), "bytes past the answer's end");
        if (body instanceof ApiVersionsResponseData versions) {
            Set<String> got = new TreeSet<>();
            versions.apiKeys().forEach(a -> got.add(a.apiKey() + ":" + a.minVersion() + ".." + a.maxVersion()));
            Set<String> all = new TreeSet<>();
            served.advertised().forEach(a -> all.add(a.apiKey() + ":" + a.minVersion() + ".." + a.maxVersion()));
            Errors error = Errors.forCode(versions.errorCode());
            switch (error) {
                case NONE -> assertEquals(all, got);
                case UNSUPPORTED_VERSION -> assertEquals(Set.of("18:0.." + ApiKeys.API_VERSIONS.latestVersion()), got);
                case INVALID_REQUEST -> assertEquals(Set.of(), got);
                default -> throw new AssertionError("ApiVersions answered " + error);
            }
        }
    }

    /**
     * Cuts {@code bytes} into frames as the listener must, and says for each whether the listener
     * must accept it, using the same Kafka classes: the header parses; ApiVersions at an unknown
     * version is always accepted, at a known one if its body parses; any other request if its key
     * and version are served and its body parses.
     */
    private static Oracle oracle(byte[] bytes, ListenerApis served) {
        ByteBuffer stream = ByteBuffer.wrap(bytes);
        List<Expected> frames = new ArrayList<>();
        while (stream.remaining() >= 4) {
            int size = stream.getInt();
            if (size < 0 || size > MAX_REQUEST_BYTES || stream.remaining() < size) {
                return new Oracle(frames, true); // refused, or incomplete (closed when idle)
            }
            byte[] frame = new byte[size];
            stream.get(frame);
            ByteBuffer buffer = ByteBuffer.wrap(frame);
            RequestHeader header;
            try {
                header = RequestHeader.parse(buffer);
            } catch (RuntimeException e) {
                return new Oracle(frames, true);
            }
            ApiKeys key = header.apiKey();
            short version = header.apiVersion();
            int correlationId = header.correlationId();
            if (key == ApiKeys.API_VERSIONS && !key.isVersionSupported(version)) {
                frames.add(new Expected(correlationId, key, (short) 0, true, true));
                continue;
            }
            if (key != ApiKeys.API_VERSIONS && !served.isHandled(key, version)) {
                frames.add(new Expected(correlationId, key, version, false, false));
                return new Oracle(frames, true);
            }
            ApiMessage body = key.messageType.newRequest();
            try {
                body.read(new ByteBufferAccessor(buffer), version);
            } catch (RuntimeException e) {
                frames.add(new Expected(correlationId, key, version, false, false));
                return new Oracle(frames, true);
            }
            boolean answered = !(body instanceof ProduceRequestData produce && produce.acks() == 0);
            frames.add(new Expected(correlationId, key, version, true, answered));
        }
        return new Oracle(frames, stream.hasRemaining());
    }

    private static byte[] randomFrame(Random random, int correlationId) {
        return switch (random.nextInt(20)) {
            case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 -> validRequest(random, correlationId);
            case 12, 13, 14, 15, 16 -> mutate(random, validRequest(random, correlationId));
            case 17, 18 -> randomHeader(random, correlationId);
            default -> randomBytes(random, 1 + random.nextInt(40));
        };
    }

    private static byte[] validRequest(Random random, int correlationId) {
        ApiKeys key = KEYS.get(random.nextInt(KEYS.size()));
        short version = (short) (key.oldestVersion() + random.nextInt(key.latestVersion() - key.oldestVersion() + 1));
        ApiMessage request = key.messageType.newRequest();
        if (request instanceof ApiVersionsRequestData versions && random.nextBoolean()) {
            versions.setClientSoftwareName("fuzz").setClientSoftwareVersion("1.0");
        }
        if (request instanceof ProduceRequestData produce) {
            produce.setAcks((short) (random.nextInt(3) - 1)).setTimeoutMs(1000);
        }
        try {
            return KafkaWireClient.frame(request, version, correlationId);
        } catch (RuntimeException e) {
            // A default this version cannot write: garbage instead.
            return randomHeader(random, correlationId);
        }
    }

    private static byte[] mutate(Random random, byte[] frame) {
        byte[] bytes = frame.clone();
        switch (random.nextInt(5)) {
            case 0 -> {
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    int at = 4 + random.nextInt(bytes.length - 4);
                    bytes[at] ^= (byte) (1 << random.nextInt(8));
                }
                return bytes;
            }
            case 1 -> {
                // Truncated, the size field following (a body that ends early).
                byte[] cut = Arrays.copyOf(bytes, 4 + random.nextInt(bytes.length - 4));
                ByteBuffer.wrap(cut).putInt(cut.length - 4);
                return cut;
            }
            case 2 -> {
                // Truncated, the size field not following: an incomplete frame.
                return Arrays.copyOf(bytes, random.nextInt(bytes.length));
            }
            case 3 -> {
                int size = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt();
                    case 1 -> MAX_REQUEST_BYTES + 1 + random.nextInt(1000);
                    case 2 -> -1 - random.nextInt(1000);
                    default -> Math.max(0, bytes.length - 4 + random.nextInt(9) - 4);
                };
                ByteBuffer.wrap(bytes).putInt(size);
                return bytes;
            }
            default -> {
                // Random bytes after the body, within the frame (Kafka ignores them).
                byte[] longer = Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(20));
                System.arraycopy(randomBytes(random, longer.length - bytes.length), 0, longer, bytes.length,
                        longer.length - bytes.length);
                ByteBuffer.wrap(longer).putInt(longer.length - 4);
                return longer;
            }
        }
    }

    private static byte[] randomHeader(Random random, int correlationId) {
        int apiKey = random.nextInt(4) == 0 ? random.nextInt(Short.MAX_VALUE) : random.nextInt(100);
        short version = (short) (random.nextInt(8) == 0 ? random.nextInt(Short.MAX_VALUE) : random.nextInt(22) - 2);
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey((short) apiKey)
                .setRequestApiVersion(version).setCorrelationId(correlationId).setClientId("fuzz");
        return KafkaWireClient.frame(header, (short) (1 + random.nextInt(2)), randomBytes(random, random.nextInt(50)));
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
