package io.raftmq.metadata.client;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.raftmq.common.FaultHandler;
import io.raftmq.common.HostPort;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.MetadataEvent;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link MetadataImage} of the cluster up to date from a voter's WatchMetadata stream: the
 * way a broker (or any process that is not a voter) follows the metadata log. When the stream
 * breaks it reconnects, to the announced active controller if known or else the next voter, and
 * resumes from the last offset it applied. When a new controller announces itself it moves there,
 * since the leader's applied state is the newest. A stream that says nothing for {@code
 * silenceTimeoutMs} (voters send a heartbeat every {@code MetadataWatchService.HEARTBEAT_INTERVAL_MS}
 * while they are in touch with the quorum) is given up for another voter: a voter cut off from the
 * quorum, or cut off from this watcher, would otherwise keep it on a state that no longer advances
 * until TCP noticed, which under a network cut takes far longer than a failover.
 *
 * <p>Threads: stream callbacks arrive on gRPC threads and reconnects on the watcher's own thread;
 * all state is guarded by {@code this}, except the image, which readers take without a lock (a
 * volatile reference to an immutable image: every produce and fetch reads it). The listener is
 * called with the lock held, in offset order, and must return quickly. {@link #whenApplied}
 * futures complete on the watcher's own thread, never under the lock, so whatever a caller chains
 * to them does not hold up the stream.
 */
public final class MetadataWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataWatcher.class);

    /** Told about every new image, in order. {@code delta} is null after a snapshot. */
    public interface Listener {
        void onImage(MetadataImage image, MetadataDelta delta);
    }

    /**
     * @param watcherId who is watching (a broker id, or -1), for the voters' logs
     * @param voters gRPC addresses of the controller voters
     * @param reconnectBackoffMs wait before reconnecting after a broken stream
     * @param silenceTimeoutMs a stream with no event for this long is given up for another voter
     */
    public record Options(int watcherId, List<HostPort> voters, long reconnectBackoffMs, long silenceTimeoutMs) {
        /** Five missed voter heartbeats. */
        public static final long DEFAULT_SILENCE_TIMEOUT_MS = 1_000;

        public Options {
            voters = List.copyOf(voters);
            if (silenceTimeoutMs <= 0) {
                throw new IllegalArgumentException("silenceTimeoutMs must be positive, got " + silenceTimeoutMs);
            }
        }

        public Options(int watcherId, List<HostPort> voters, long reconnectBackoffMs) {
            this(watcherId, voters, reconnectBackoffMs, DEFAULT_SILENCE_TIMEOUT_MS);
        }
    }

    private final Options options;
    private final List<ClientInterceptor> interceptors;
    private final Listener listener;
    private final FaultHandler faultHandler;
    private final NodeChannelCredentials credentials;
    private final Map<HostPort, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;

    // Written under this; read without it.
    private volatile MetadataImage image = MetadataImage.EMPTY;
    // Guarded by this.
    private long generation;
    private HostPort target;
    /** The voter last given up on (broken or silent stream): not asked first next time. */
    private HostPort givenUp;
    /** When (System.nanoTime) the current stream started or last said anything. */
    private long lastHeardNanos;
    private int nextVoter;
    private ClientCallStreamObserver<WatchMetadataRequest> call;
    private final List<MetadataRecord> snapshotRecords = new ArrayList<>();
    private boolean closed;
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();

    private record Waiter(long offset, CompletableFuture<MetadataImage> future) implements Comparable<Waiter> {
        @Override
        public int compareTo(Waiter o) {
            return Long.compare(offset, o.offset);
        }
    }

    /**
     * @param faultHandler told when a batch from the stream cannot be replayed onto this image: the
     *     image cannot be trusted from then on
     */
    public MetadataWatcher(Options options, Listener listener, FaultHandler faultHandler) {
        this(options, listener, faultHandler, List.of());
    }

    /** @param interceptors every call passes through these (a test's cut link) */
    public MetadataWatcher(Options options, Listener listener, FaultHandler faultHandler,
            List<ClientInterceptor> interceptors) {
        this(options, listener, faultHandler, interceptors, NodeChannelCredentials.plaintext());
    }

    /**
     * @param interceptors every call passes through these (a test's cut link)
     * @param credentials how the channels to the voters are secured (a node's own TLS identity)
     */
    public MetadataWatcher(Options options, Listener listener, FaultHandler faultHandler,
            List<ClientInterceptor> interceptors, NodeChannelCredentials credentials) {
        this.options = options;
        this.interceptors = List.copyOf(interceptors);
        this.credentials = credentials;
        this.listener = listener;
        this.faultHandler = faultHandler;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "metadata-watcher-" + options.watcherId());
            t.setDaemon(true);
            return t;
        });
    }

    public synchronized void start() {
        connect(null);
        long checkMs = Math.max(1, options.silenceTimeoutMs() / 4);
        scheduler.scheduleWithFixedDelay(this::checkSilence, checkMs, checkMs, TimeUnit.MILLISECONDS);
    }

    private synchronized void checkSilence() {
        if (closed || target == null) {
            return;
        }
        long silentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastHeardNanos);
        if (silentMs < options.silenceTimeoutMs()) {
            return;
        }
        LOG.info("[watcher {}] nothing from {} for {} ms (it is out of touch with the metadata quorum, or cut off"
                + " from here); moving to another voter after offset {}", options.watcherId(), target, silentMs,
                image.offset());
        givenUp = target;
        connect(null);
    }

    /** The newest image this watcher has. */
    public MetadataImage image() {
        return image;
    }

    /** The voter this watcher streams from (or tries to). */
    public synchronized HostPort target() {
        return target;
    }

    /** Completes once the image has reached {@code offset}; the caller bounds the wait. */
    public synchronized CompletableFuture<MetadataImage> whenApplied(long offset) {
        if (image.offset() >= offset) {
            return CompletableFuture.completedFuture(image);
        }
        CompletableFuture<MetadataImage> future = new CompletableFuture<>();
        Waiter waiter = new Waiter(offset, future);
        waiters.add(waiter);
        future.whenComplete((img, error) -> {
            if (error != null) {
                synchronized (this) {
                    waiters.remove(waiter);
                }
            }
        });
        return future;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            generation++;
            if (call != null) {
                call.cancel("watcher closed", null);
            }
            waiters.forEach(w -> w.future().completeExceptionally(new IllegalStateException("watcher closed")));
            waiters.clear();
        }
        scheduler.shutdownNow();
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    // ---- all below with the lock held ----

    private void connect(HostPort preferred) {
        if (closed) {
            return;
        }
        long gen = ++generation;
        if (call != null) {
            call.cancel("moving to another voter", null);
            call = null;
        }
        target = preferred != null ? preferred : pickVoter();
        lastHeardNanos = System.nanoTime();
        snapshotRecords.clear();
        ManagedChannel channel = channel(target);
        channel.resetConnectBackoff();
        WatchMetadataRequest request = WatchMetadataRequest.newBuilder()
                .setFromOffset(image.offset())
                .setWatcherId(options.watcherId())
                .build();
        HostPort connectedTo = target;
        ControllerGrpc.newStub(channel).watchMetadata(request, new ClientResponseObserver<WatchMetadataRequest,
                MetadataEvent>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchMetadataRequest> requestStream) {
                synchronized (MetadataWatcher.this) {
                    if (gen == generation) {
                        call = requestStream;
                    } else {
                        requestStream.cancel("superseded", null);
                    }
                }
            }

            @Override
            public void onNext(MetadataEvent event) {
                synchronized (MetadataWatcher.this) {
                    if (gen == generation) {
                        lastHeardNanos = System.nanoTime();
                        handle(event);
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                streamEnded(gen, connectedTo, status.getCode() + (status.getDescription() == null ? ""
                        : ": " + status.getDescription()));
            }

            @Override
            public void onCompleted() {
                streamEnded(gen, connectedTo, "the voter ended the stream");
            }
        });
    }

    /** The announced controller first, then the voters in turn; never the one just given up on if another exists. */
    private HostPort pickVoter() {
        ControllerRegistration announced = image.controller();
        if (announced != null && nextVoter == 0) {
            nextVoter++;
            HostPort controller = new HostPort(announced.endpoint().getHost(), announced.endpoint().getPort());
            if (!controller.equals(givenUp)) {
                return controller;
            }
        }
        List<HostPort> voters = options.voters();
        HostPort next = voters.get(Math.floorMod(nextVoter++, voters.size()));
        if (next.equals(givenUp) && voters.size() > 1) {
            next = voters.get(Math.floorMod(nextVoter++, voters.size()));
        }
        return next;
    }

    /** Moves to the announced controller when streaming from another voter (the leader's state is the newest). */
    private void followAnnouncedController() {
        ControllerRegistration announced = image.controller();
        if (announced == null) {
            return;
        }
        HostPort controller = new HostPort(announced.endpoint().getHost(), announced.endpoint().getPort());
        if (!controller.equals(target) && !controller.equals(givenUp)) {
            LOG.info("[watcher {}] node {} is the active controller; following metadata from {}",
                    options.watcherId(), announced.controllerId(), controller);
            connect(controller);
        }
    }

    private void handle(MetadataEvent event) {
        switch (event.getEventCase()) {
            case SNAPSHOT_CHUNK -> {
                snapshotRecords.addAll(event.getSnapshotChunk().getRecordsList());
                if (event.getSnapshotChunk().getLast()) {
                    MetadataImage loaded;
                    try {
                        loaded = MetadataDelta.loadSnapshot(event.getSnapshotChunk().getOffset(), snapshotRecords);
                    } catch (RuntimeException e) {
                        closed = true;
                        throw faultHandler.handleFault("watcher " + options.watcherId() + " cannot load the metadata"
                                + " snapshot at offset " + event.getSnapshotChunk().getOffset() + " from " + target
                                + ": " + e.getMessage(), e);
                    }
                    snapshotRecords.clear();
                    publish(loaded, null);
                    followAnnouncedController();
                }
            }
            case BATCH -> {
                long offset = event.getBatch().getOffset();
                if (offset <= image.offset()) {
                    return;
                }
                MetadataDelta delta = new MetadataDelta(image);
                try {
                    for (MetadataRecord record : event.getBatch().getRecordsList()) {
                        delta.replay(offset, record);
                    }
                } catch (RuntimeException e) {
                    closed = true;
                    throw faultHandler.handleFault("watcher " + options.watcherId() + " cannot replay the metadata"
                            + " batch at offset " + offset + " from " + target + ": " + e.getMessage(), e);
                }
                ControllerRegistration before = image.controller();
                publish(delta.apply(offset), delta);
                ControllerRegistration after = image.controller();
                if (after != null && !after.equals(before)) {
                    givenUp = null; // a new controller: worth asking whatever was given up on before
                    followAnnouncedController();
                }
            }
            case HEARTBEAT, EVENT_NOT_SET -> { }
        }
    }

    private void publish(MetadataImage next, MetadataDelta delta) {
        image = next;
        nextVoter = 0;
        listener.onImage(next, delta);
        List<Waiter> due = new ArrayList<>();
        while (!waiters.isEmpty() && waiters.peek().offset() <= next.offset()) {
            due.add(waiters.poll());
        }
        if (!due.isEmpty()) {
            try {
                scheduler.execute(() -> due.forEach(w -> w.future().complete(next)));
            } catch (RejectedExecutionException closing) {
                due.forEach(w -> w.future().complete(next));
            }
        }
    }

    private void streamEnded(long gen, HostPort from, String why) {
        synchronized (this) {
            if (gen != generation || closed) {
                return;
            }
            LOG.info("[watcher {}] metadata stream from {} ended ({}); reconnecting after offset {}",
                    options.watcherId(), from, why, image.offset());
            generation++; // ignore anything else this stream says
            call = null;
            target = null; // no silence check until the next stream starts
            givenUp = from;
        }
        try {
            scheduler.schedule(() -> {
                synchronized (this) {
                    connect(null);
                }
            }, options.reconnectBackoffMs(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closedNow) {
            // Closing.
        }
    }

    private ManagedChannel channel(HostPort address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forAddress(a.host(), a.port(),
                        credentials.toAnyNode())
                // Notice a voter that stopped answering (paused, cut off) within a few seconds.
                .keepAliveTime(1, TimeUnit.SECONDS)
                .keepAliveTimeout(2, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(false)
                .intercept(credentials.authentication("metadata source " + a))
                .intercept(interceptors)
                .build());
    }
}
