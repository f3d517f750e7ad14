package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.common.Error;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** ProduceStreams against a real gRPC server whose answers the test controls. */
class ProduceStreamsTest {
    private static final long TIMEOUT_MS = 1_000;

    private final AtomicLong clockMs = new AtomicLong();
    private Server server;
    private BrokerChannels channels;
    private BrokerAddress address;
    private ProduceStreams streams;

    /** Answers each stream's requests when told to; unary Produce echoes the request's timeout. */
    private static final class ControlledBroker extends BrokerGrpc.BrokerImplBase {
        final boolean streams;
        final AtomicInteger streamsOpened = new AtomicInteger();
        final List<StreamObserver<ProduceResponse>> open = new CopyOnWriteArrayList<>();
        final List<ProduceRequest> received = new CopyOnWriteArrayList<>();

        ControlledBroker(boolean streams) {
            this.streams = streams;
        }

        @Override
        public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> observer) {
            if (!streams) {
                return super.produceStream(observer); // UNIMPLEMENTED
            }
            streamsOpened.incrementAndGet();
            open.add(observer);
            return new StreamObserver<>() {
                @Override
                public void onNext(ProduceRequest request) {
                    received.add(request);
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }

        @Override
        public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
            observer.onNext(answerTo(request));
            observer.onCompleted();
        }
    }

    /** An answer that names its request (by the request's timeout_ms). */
    private static ProduceResponse answerTo(ProduceRequest request) {
        return ProduceResponse.newBuilder().setError(Error.newBuilder().setMessage("to " + request.getTimeoutMs()))
                .build();
    }

    private static ProduceRequest request(int id) {
        return ProduceRequest.newBuilder().setAcks(-1).setTimeoutMs(id).build();
    }

    /** Starts the broker on a free port and a ProduceStreams (request timeout 1 s on the test's clock) to it. */
    private void start(ControlledBroker broker) throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(broker).build()
                .start();
        channels = new BrokerChannels("test");
        address = new BrokerAddress("127.0.0.1", server.getPort());
        streams = new ProduceStreams("test", channels, clockMs::get, TIMEOUT_MS);
    }

    @AfterEach
    void stop() throws Exception {
        if (streams != null) {
            streams.close();
        }
        if (channels != null) {
            channels.close();
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachAnswerGoesToTheOldestUnansweredRequest() throws Exception {
        ControlledBroker broker = new ControlledBroker(true);
        start(broker);
        CompletableFuture<ProduceResponse> first = streams.send(address, request(1));
        CompletableFuture<ProduceResponse> second = streams.send(address, request(2));
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.received.size() == 2);
        assertEquals(List.of(1, 2), broker.received.stream().map(ProduceRequest::getTimeoutMs).toList(),
                "requests arrive in the order sent");
        StreamObserver<ProduceResponse> out = broker.open.get(0);
        out.onNext(answerTo(broker.received.get(0)));
        assertEquals("to 1", first.get(10, TimeUnit.SECONDS).getError().getMessage());
        assertFalse(second.isDone());
        out.onNext(answerTo(broker.received.get(1)));
        assertEquals("to 2", second.get(10, TimeUnit.SECONDS).getError().getMessage());
        assertEquals(1, broker.streamsOpened.get(), "both on one stream");
        assertTrue(streams.ordered(address));
    }

    @Test
    void aRequestPastItsDeadlineEndsItsStreamAndTheNextRequestOpensANewOne() throws Exception {
        ControlledBroker broker = new ControlledBroker(true);
        start(broker);
        CompletableFuture<ProduceResponse> stuck = streams.send(address, request(1)); // due at 1000
        clockMs.set(500);
        CompletableFuture<ProduceResponse> behind = streams.send(address, request(2)); // due at 1500
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.received.size() == 2);
        streams.expire(TIMEOUT_MS);
        assertFalse(stuck.isDone(), "not yet past its deadline");
        streams.expire(TIMEOUT_MS + 1);
        ExecutionException e = assertThrows(ExecutionException.class, () -> stuck.get(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, Status.fromThrowable(e.getCause()).getCode());
        assertThrows(ExecutionException.class, () -> behind.get(10, TimeUnit.SECONDS),
                "a later request on the ended stream fails with it");
        CompletableFuture<ProduceResponse> next = streams.send(address, request(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.streamsOpened.get() == 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.received.size() == 3);
        broker.open.get(1).onNext(answerTo(request(3)));
        assertEquals("to 3", next.get(10, TimeUnit.SECONDS).getError().getMessage());
    }

    @Test
    void aBrokerWithoutTheStreamGetsUnaryCalls() throws Exception {
        ControlledBroker broker = new ControlledBroker(false);
        start(broker);
        CompletableFuture<ProduceResponse> first = streams.send(address, request(1));
        assertEquals("to 1", first.get(10, TimeUnit.SECONDS).getError().getMessage(),
                "re-sent as a unary call after UNIMPLEMENTED");
        assertFalse(streams.ordered(address), "unary calls keep no order");
        assertEquals("to 2", streams.send(address, request(2)).get(10, TimeUnit.SECONDS)
                .getError().getMessage());
    }
}
