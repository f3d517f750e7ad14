package io.raftmq.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer's Produce requests to each broker over one long-lived ProduceStream call. The broker
 * appends a stream's requests in the order sent and answers them in that order, so each answer
 * belongs to the oldest unanswered request, and a producer may pipeline batches of a partition
 * without sequence numbers. A stream that fails fails every request it carries (the sender retries
 * them as it retries any transport failure); the next request opens a new stream. A request without
 * an answer by its deadline ends its stream. A broker that does not serve the stream (UNIMPLEMENTED)
 * gets unary Produce calls from then on, whose order gRPC does not promise ({@link #ordered}).
 *
 * <p>Threads: the sender thread calls {@link #send}, {@link #expire} and {@link #close} and owns
 * {@link #streams}; gRPC's transport thread delivers answers. Each stream's queue of unanswered
 * requests is guarded by the stream's monitor.
 */
final class ProduceStreams {
    private static final Logger log = LoggerFactory.getLogger(ProduceStreams.class);

    private final String clientId;
    private final BrokerChannels channels;
    private final LongSupplier clockMs;
    /** How long a request may go unanswered (a unary call's deadline; on a stream, see {@link #expire}). */
    private final long timeoutMs;
    /** Sender thread only. */
    private final Map<BrokerAddress, Stream> streams = new HashMap<>();
    /** Brokers that answered UNIMPLEMENTED to ProduceStream; written by the transport thread. */
    private final Set<BrokerAddress> unaryOnly = ConcurrentHashMap.newKeySet();

    ProduceStreams(String clientId, BrokerChannels channels, LongSupplier clockMs, long timeoutMs) {
        this.clientId = clientId;
        this.channels = channels;
        this.clockMs = clockMs;
        this.timeoutMs = timeoutMs;
    }

    /** Whether requests to {@code broker} are appended in the order sent (false once it only takes unary calls). */
    boolean ordered(BrokerAddress broker) {
        return !unaryOnly.contains(broker);
    }

    /**
     * Sends {@code request} to {@code broker}; the answer, or the failure of the call, completes the
     * future on a gRPC thread. Unanswered {@code timeoutMs} after it is sent, it fails.
     */
    CompletableFuture<ProduceResponse> send(BrokerAddress broker, ProduceRequest request) {
        if (unaryOnly.contains(broker)) {
            return unary(broker, request);
        }
        Stream stream = streams.get(broker);
        if (stream == null || stream.isEnded()) {
            stream = new Stream(broker);
            streams.put(broker, stream);
            BrokerGrpc.newStub(channels.channel(broker)).produceStream(stream);
        }
        return stream.send(request, clockMs.getAsLong() + timeoutMs);
    }

    private CompletableFuture<ProduceResponse> unary(BrokerAddress broker, ProduceRequest request) {
        return BrokerChannels.toCompletable(channels.broker(broker, timeoutMs).produce(request));
    }

    /** Ends every stream whose oldest unanswered request is past its deadline (on the clock given). */
    void expire(long nowMs) {
        for (Stream s : streams.values()) {
            s.expireIfOverdue(nowMs);
        }
    }

    /** Ends every stream; requests still unanswered fail with CANCELLED. */
    void close() {
        for (Stream s : streams.values()) {
            s.cancel("the producer is closing");
        }
        streams.clear();
    }

    /** One request waiting for its answer. */
    private record Pending(ProduceRequest request, long deadlineMs, CompletableFuture<ProduceResponse> answer) {}

    private final class Stream implements ClientResponseObserver<ProduceRequest, ProduceResponse> {
        private final BrokerAddress broker;
        private volatile ClientCallStreamObserver<ProduceRequest> requests;
        // Guarded by this.
        private final ArrayDeque<Pending> pending = new ArrayDeque<>();
        private boolean ended;
        private boolean answered;

        Stream(BrokerAddress broker) {
            this.broker = broker;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ProduceRequest> requestStream) {
            requests = requestStream;
        }

        synchronized boolean isEnded() {
            return ended;
        }

        CompletableFuture<ProduceResponse> send(ProduceRequest request, long deadlineMs) {
            Pending p = new Pending(request, deadlineMs, new CompletableFuture<>());
            synchronized (this) {
                if (!ended) {
                    pending.add(p);
                    try {
                        requests.onNext(request);
                    } catch (IllegalStateException | StatusRuntimeException endedMeanwhile) {
                        // The call was cancelled just now; its end fails the pending requests.
                    }
                    return p.answer;
                }
            }
            p.answer.completeExceptionally(Status.UNAVAILABLE.withDescription("produce stream to " + broker
                    + " ended").asRuntimeException());
            return p.answer;
        }

        void expireIfOverdue(long nowMs) {
            Pending oldest;
            synchronized (this) {
                oldest = pending.peekFirst();
            }
            if (oldest != null && nowMs > oldest.deadlineMs()) {
                fail(Status.DEADLINE_EXCEEDED.withDescription("no answer from " + broker + " to a produce request"
                        + " within its deadline").asRuntimeException());
                cancel("request timed out");
            }
        }

        void cancel(String why) {
            ClientCallStreamObserver<ProduceRequest> r = requests;
            if (r != null) {
                r.cancel(why, null);
            }
        }

        @Override
        public void onNext(ProduceResponse response) {
            Pending p;
            synchronized (this) {
                answered = true;
                p = pending.pollFirst();
            }
            if (p != null) {
                p.answer.complete(response);
            }
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            boolean fallBack;
            synchronized (this) {
                fallBack = status.getCode() == Status.Code.UNIMPLEMENTED && !answered;
            }
            if (fallBack) {
                unaryOnly.add(broker);
                log.info("[{}] broker {} does not serve ProduceStream; using unary Produce calls", clientId, broker);
                for (Pending p : drain()) {
                    unary(broker, p.request()).whenComplete((r, e) -> {
                        if (e != null) {
                            p.answer.completeExceptionally(e);
                        } else {
                            p.answer.complete(r);
                        }
                    });
                }
                return;
            }
            fail(t instanceof StatusRuntimeException ? (StatusRuntimeException) t : status.asRuntimeException());
        }

        @Override
        public void onCompleted() {
            fail(Status.UNAVAILABLE.withDescription("broker " + broker + " ended the produce stream")
                    .asRuntimeException());
        }

        /** Ends the stream for new requests and fails every unanswered one, oldest first. */
        private void fail(StatusRuntimeException error) {
            for (Pending p : drain()) {
                p.answer.completeExceptionally(error);
            }
        }

        private List<Pending> drain() {
            synchronized (this) {
                ended = true;
                List<Pending> out = new ArrayList<>(pending);
                pending.clear();
                return out;
            }
        }
    }
}
