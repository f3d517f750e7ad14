package io.raftmq.replication;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.HostPort;
import io.raftmq.common.Time;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchPartitionResponse;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaFetchResponse;
import io.raftmq.protocol.replica.ReplicaGrpc;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogEnvironment;
import io.raftmq.storage.PartitionLog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link FollowerFetcher} against a scripted leader (a Replica service that answers the first
 * fetch of each partition with 5 records and later ones with none): what the follower reports as
 * the position the leader counts toward the high watermark when its disk stalls or fails.
 */
@Timeout(60)
class FollowerFetcherTest {
    private static final UUID TOPIC_ID = new UUID(3, 3);
    private static final TopicPartition HEALTHY = new TopicPartition("t", 0);
    private static final TopicPartition FAULTY = new TopicPartition("t", 1);

    @TempDir
    Path dir;

    private final List<ReplicaFetchRequest> requests = new CopyOnWriteArrayList<>();
    private final List<PartitionLog> logs = new ArrayList<>();
    private final FaultyFiles faulty = new FaultyFiles();
    /** A stalled disk: fsyncs wait for it where a test says so. */
    private final CountDownLatch disk = new CountDownLatch(1);
    private ScheduledExecutorService scheduler;
    private Server leader;
    private FollowerFetcher fetcher;

    @BeforeEach
    void setUp() throws IOException {
        scheduler = Executors.newScheduledThreadPool(2);
        leader = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new ScriptedLeader()).build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        faulty.beforeForce = FaultyFiles.Hook.NONE;
        disk.countDown();
        if (fetcher != null) {
            fetcher.shutdown();
        }
        leader.shutdownNow();
        for (PartitionLog log : logs) {
            log.close();
        }
        scheduler.shutdownNow();
    }

    /** Answers each partition's first fetch with 5 records at offset 0, later ones (after 20 ms) with none. */
    private final class ScriptedLeader extends ReplicaGrpc.ReplicaImplBase {
        @Override
        public StreamObserver<ReplicaFetchRequest> replicaFetchStream(StreamObserver<ReplicaFetchResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ReplicaFetchRequest request) {
                    requests.add(request);
                    ReplicaFetchResponse.Builder response = ReplicaFetchResponse.newBuilder();
                    boolean any = false;
                    for (ReplicaFetchPartition p : request.getPartitionsList()) {
                        ReplicaFetchPartitionResponse.Builder pr = ReplicaFetchPartitionResponse.newBuilder()
                                .setTopicId(p.getTopicId()).setPartition(p.getPartition()).setHighWatermark(0);
                        if (p.getFetchOffset() == 0) {
                            pr.setRecords(ByteString.copyFrom(fiveRecords()));
                            any = true;
                        }
                        response.addPartitions(pr);
                    }
                    ReplicaFetchResponse answer = response.build();
                    scheduler.schedule(() -> {
                        synchronized (out) {
                            out.onNext(answer);
                        }
                    }, any ? 0 : 20, TimeUnit.MILLISECONDS);
                }

                @Override
                public void onError(Throwable t) { }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }

    private static ByteBuffer fiveRecords() {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE, 64);
        for (int i = 0; i < 5; i++) {
            b.append(1000 + i, null, ("v" + i).getBytes());
        }
        ByteBuffer bytes = b.build();
        RecordBatch batch = RecordBatch.readFrom(bytes.duplicate());
        batch.setBaseOffset(0);
        batch.setPartitionLeaderEpoch(0);
        return bytes;
    }

    private Partition follower(TopicPartition tp, LogEnvironment.FileOpener files) throws IOException {
        PartitionLog log = PartitionLog.open(dir.resolve(tp.toString()), LogConfig.defaults(),
                new LogEnvironment(Time.SYSTEM, scheduler, (d, e) -> { }, files));
        logs.add(log);
        Partition p = new Partition(tp, TOPIC_ID, 2, log);
        p.apply(new PartitionAssignment(tp, TOPIC_ID, List.of(1, 2), List.of(1, 2), 1, 0, 0, null, 1,
                LogConfig.defaults()), 0);
        return p;
    }

    private void startFetcher(Partition... partitions) {
        fetcher = new FollowerFetcher(2, () -> 1L, 1, new HostPort("127.0.0.1", leader.getPort()),
                ReplicationConfig.of(Map.of("replica.fetch.max.wait.ms", "200", "replica.fetch.backoff.ms", "20")),
                Time.SYSTEM);
        for (Partition p : partitions) {
            fetcher.add(p, 0);
        }
        fetcher.start();
    }

    /** What the leader counts as the follower's position: it has these records durably. */
    private static long reportedPosition(ReplicaFetchPartition p) {
        return Math.min(p.getFetchOffset(), p.getDurableOffset());
    }

    /** The positions reported for {@code tp} by every fetch after the first {@code skip}. */
    private List<Long> positionsOf(TopicPartition tp, int skip) {
        List<Long> out = new ArrayList<>();
        for (ReplicaFetchRequest r : requests.subList(Math.min(skip, requests.size()), requests.size())) {
            for (ReplicaFetchPartition p : r.getPartitionsList()) {
                if (p.getPartition() == tp.partition() && Uuids.fromProto(p.getTopicId()).equals(TOPIC_ID)) {
                    out.add(reportedPosition(p));
                }
            }
        }
        return out;
    }

    @Test
    void whileItsFsyncStallsAFollowerKeepsFetchingButReportsOnlyWhatIsDurable() throws Exception {
        Partition p = follower(FAULTY, faulty);
        // The disk stalls from here on (opening the log fsynced its directory).
        faulty.beforeForce = () -> {
            try {
                disk.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        };
        startFetcher(p);
        await().atMost(Duration.ofSeconds(10)).until(() -> p.log().logEndOffset() == 5);

        // It fetches again within its wait for durability, reporting what is on disk: nothing yet.
        await().atMost(Duration.ofSeconds(10)).until(() -> positionsOf(FAULTY, 1).size() >= 2);
        assertTrue(positionsOf(FAULTY, 1).stream().allMatch(pos -> pos == 0),
                "reported records that are not on disk: " + positionsOf(FAULTY, 1));

        disk.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> positionsOf(FAULTY, 1).contains(5L));
    }

    @Test
    void aFollowerWhoseFsyncFailedNeverReportsTheRecordsItCouldNotFlush() throws Exception {
        Partition healthy = follower(HEALTHY, FileOpenerOf.PLAIN);
        Partition failing = follower(FAULTY, faulty);
        // Every fsync fails from here on (opening the log fsynced its directory).
        faulty.beforeForce = () -> {
            throw new IOException("injected fsync failure");
        };
        startFetcher(healthy, failing);
        await().atMost(Duration.ofSeconds(10)).until(() -> failing.log().isOffline());
        int seen = requests.size();
        // The healthy partition keeps the fetcher going; wait for a few more rounds.
        await().atMost(Duration.ofSeconds(10)).until(() -> requests.size() >= seen + 3);
        assertEquals(List.of(), positionsOf(FAULTY, 1).stream().filter(pos -> pos > 0).toList(),
                "the leader was told of records whose fsync failed");
        assertTrue(positionsOf(HEALTHY, seen).contains(5L), "the healthy partition reports its records");
    }

    /** The plain file opener. */
    private static final class FileOpenerOf {
        static final LogEnvironment.FileOpener PLAIN = java.nio.channels.FileChannel::open;
    }
}
