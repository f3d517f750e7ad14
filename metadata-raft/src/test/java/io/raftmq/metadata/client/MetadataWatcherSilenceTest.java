package io.raftmq.metadata.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.HostPort;
import io.raftmq.common.MockFaultHandler;
import io.raftmq.metadata.loader.MetadataLoader;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.service.MetadataWatchService;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.MetadataEvent;
import io.raftmq.protocol.controller.SnapshotChunk;
import io.raftmq.protocol.controller.WatchHeartbeat;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A watcher whose voter falls silent (what a voter cut off from the quorum does: it stops its
 * heartbeats, and under a network cut nothing else arrives either) moves to another voter within
 * its silence timeout, while a voter that keeps sending heartbeats keeps its watcher.
 */
@Timeout(60)
class MetadataWatcherSilenceTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() throws Exception {
        beats.shutdownNow();
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    /** A voter's WatchMetadata: a snapshot at {@code offset}, then heartbeats every 100 ms or nothing. */
    private final class FakeVoter extends ControllerGrpc.ControllerImplBase {
        final AtomicInteger streams = new AtomicInteger();
        final long offset;
        final boolean heartbeats;

        FakeVoter(long offset, boolean heartbeats) {
            this.offset = offset;
            this.heartbeats = heartbeats;
        }

        @Override
        public void watchMetadata(WatchMetadataRequest request, StreamObserver<MetadataEvent> observer) {
            streams.incrementAndGet();
            observer.onNext(MetadataEvent.newBuilder().setSnapshotChunk(SnapshotChunk.newBuilder().setOffset(offset)
                    .setLast(true)).build());
            if (heartbeats) {
                beats.scheduleWithFixedDelay(() -> {
                    try {
                        observer.onNext(MetadataEvent.newBuilder().setHeartbeat(WatchHeartbeat.newBuilder()
                                .setAppliedOffset(offset).setQuorumLeaderId(1)).build());
                    } catch (RuntimeException cancelled) {
                        // The watcher left.
                    }
                }, 100, 100, TimeUnit.MILLISECONDS);
            }
        }

        HostPort serve() throws Exception {
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this)
                    .build().start();
            closeables.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
            return new HostPort("127.0.0.1", server.getPort());
        }
    }

    private MetadataWatcher watcher(List<HostPort> voters) {
        MetadataWatcher watcher = new MetadataWatcher(new MetadataWatcher.Options(-1, voters, 20, 500),
                (image, delta) -> { }, new MockFaultHandler("watcher"));
        closeables.add(watcher);
        return watcher;
    }

    @Test
    void aSilentVoterIsGivenUpForOneThatIsInTouch() throws Exception {
        FakeVoter silent = new FakeVoter(5, false);
        FakeVoter live = new FakeVoter(9, true);
        HostPort silentAddress = silent.serve();
        HostPort liveAddress = live.serve();
        MetadataWatcher watcher = watcher(List.of(silentAddress, liveAddress));

        long started = System.nanoTime();
        watcher.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.image().offset() == 9);
        long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(liveAddress, watcher.target());
        assertTrue(silent.streams.get() >= 1, "it tried the silent voter first");
        assertTrue(movedMs < 5_000, "moved after " + movedMs + " ms");
    }

    @Test
    void aVoterThatKeepsSendingHeartbeatsKeepsItsWatcher() throws Exception {
        FakeVoter live = new FakeVoter(9, true);
        FakeVoter other = new FakeVoter(9, true);
        HostPort liveAddress = live.serve();
        MetadataWatcher watcher = watcher(List.of(liveAddress, other.serve()));
        watcher.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.image().offset() == 9);

        // Four silence timeouts without a commit: heartbeats alone keep the stream.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                .until(() -> liveAddress.equals(watcher.target()));
        assertEquals(1, live.streams.get());
        assertEquals(0, other.streams.get());
    }

    @Test
    void aVoterSendsHeartbeatsOnlyWhileItKnowsTheQuorumLeader() throws Exception {
        MetadataLoader loader = new MetadataLoader(1, new MockFaultHandler("loader"));
        MetadataWatchService service = new MetadataWatchService(1, loader, 100);
        closeables.add(service);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new ControllerGrpc.ControllerImplBase() {
                    @Override
                    public void watchMetadata(WatchMetadataRequest request, StreamObserver<MetadataEvent> observer) {
                        service.watch(request, observer);
                    }
                }).build().start();
        closeables.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        closeables.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        ConcurrentLinkedQueue<Long> heartbeatsAt = new ConcurrentLinkedQueue<>();
        ControllerGrpc.newStub(channel).watchMetadata(WatchMetadataRequest.newBuilder().setFromOffset(-1).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(MetadataEvent event) {
                        if (event.hasHeartbeat()) {
                            heartbeatsAt.add(System.nanoTime());
                        }
                    }

                    @Override
                    public void onError(Throwable t) { }

                    @Override
                    public void onCompleted() { }
                });

        loader.handleLeaderChange(new LeaderAndEpoch(2, 1));
        await().atMost(Duration.ofSeconds(5)).until(() -> heartbeatsAt.size() >= 3);

        loader.handleLeaderChange(new LeaderAndEpoch(LeaderAndEpoch.NO_LEADER, 1));
        long lostNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MetadataWatchService.HEARTBEAT_INTERVAL_MS);
        // Past one interval (a heartbeat already on its way may still arrive), nothing more.
        await().pollDelay(Duration.ofMillis(MetadataWatchService.HEARTBEAT_INTERVAL_MS * 5))
                .atMost(Duration.ofSeconds(5)).until(() -> heartbeatsAt.stream().noneMatch(t -> t > lostNs));

        loader.handleLeaderChange(new LeaderAndEpoch(3, 2));
        int before = heartbeatsAt.size();
        await().atMost(Duration.ofSeconds(5)).until(() -> heartbeatsAt.size() >= before + 3);
    }
}
