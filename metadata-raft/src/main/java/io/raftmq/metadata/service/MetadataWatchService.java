package io.raftmq.metadata.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftmq.metadata.image.ImageRecords;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.loader.MetadataLoader;
import io.raftmq.metadata.loader.MetadataSubscriber;
import io.raftmq.protocol.controller.CommittedBatch;
import io.raftmq.protocol.controller.MetadataEvent;
import io.raftmq.protocol.controller.SnapshotChunk;
import io.raftmq.protocol.controller.WatchHeartbeat;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves WatchMetadata streams from this voter's applied metadata: the whole image first (as
 * snapshot chunks) unless the watcher can resume from its offset out of the recently retained
 * batches, then every committed batch in order.
 *
 * <p>Bounded: a watcher that does not read keeps at most {@code maxQueuedBatches} batches queued;
 * past that its stream ends with RESOURCE_EXHAUSTED and it reconnects from its last offset. gRPC
 * flow control decides when to send (the stream's onReady).
 *
 * <p>Liveness: every {@link #HEARTBEAT_INTERVAL_MS} a stream with nothing queued gets a heartbeat,
 * but only while this voter knows the quorum's leader. A voter cut off from the quorum loses its
 * leader within an election timeout and falls silent, and its watchers move to another voter
 * ({@code MetadataWatcher}) instead of following a state that no longer advances.
 *
 * <p>Threads: all watcher state is owned by one sender thread ("metadata-watch-N"); the apply
 * thread (commits) and gRPC threads (new streams, ready, cancel) only enqueue tasks on it.
 */
public final class MetadataWatchService implements MetadataSubscriber, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataWatchService.class);
    /** Records per snapshot chunk are added until the chunk reaches this many bytes. */
    static final int SNAPSHOT_CHUNK_BYTES = 512 * 1024;
    /** How often an idle stream hears that this voter is still in touch with the quorum. */
    public static final long HEARTBEAT_INTERVAL_MS = 200;

    private final int nodeId;
    private final MetadataLoader loader;
    private final int maxQueuedBatches;
    private final ScheduledExecutorService sender;
    // Owned by the sender thread.
    private final Set<Watcher> watchers = new HashSet<>();

    public MetadataWatchService(int nodeId, MetadataLoader loader, int maxQueuedBatches) {
        this.nodeId = nodeId;
        this.loader = loader;
        this.maxQueuedBatches = maxQueuedBatches;
        this.sender = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "metadata-watch-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        sender.scheduleWithFixedDelay(this::heartbeat, HEARTBEAT_INTERVAL_MS, HEARTBEAT_INTERVAL_MS,
                TimeUnit.MILLISECONDS);
    }

    /** Starts a stream (any thread). */
    public void watch(WatchMetadataRequest request, StreamObserver<MetadataEvent> observer) {
        ServerCallStreamObserver<MetadataEvent> stream = (ServerCallStreamObserver<MetadataEvent>) observer;
        Watcher watcher = new Watcher(request.getWatcherId(), stream);
        stream.setOnReadyHandler(() -> run(watcher::drain));
        stream.setOnCancelHandler(() -> run(() -> watchers.remove(watcher)));
        if (!run(() -> start(watcher, request.getFromOffset()))) {
            stream.onError(Status.UNAVAILABLE.withDescription("node " + nodeId + " is shutting down").asException());
        }
    }

    @Override
    public void onSnapshot(MetadataImage image) {
        run(() -> {
            for (Watcher watcher : List.copyOf(watchers)) {
                watcher.sendSnapshot(image);
            }
        });
    }

    @Override
    public void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta, MetadataImage image) {
        MetadataEvent event = MetadataEvent.newBuilder()
                .setBatch(CommittedBatch.newBuilder().setOffset(offset).addAllRecords(records))
                .build();
        run(() -> {
            for (Watcher watcher : List.copyOf(watchers)) {
                watcher.sendBatch(offset, event);
            }
        });
    }

    @Override
    public void close() {
        run(() -> {
            for (Watcher watcher : watchers) {
                watcher.stream.onError(Status.UNAVAILABLE
                        .withDescription("node " + nodeId + " is shutting down").asException());
            }
            watchers.clear();
        });
        sender.shutdown();
        try {
            sender.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean run(Runnable task) {
        try {
            sender.execute(task);
            return true;
        } catch (RejectedExecutionException closed) {
            return false;
        }
    }

    // ---- sender thread ----

    private void heartbeat() {
        int quorumLeader = loader.leader().leaderId();
        if (quorumLeader < 0 || watchers.isEmpty()) {
            return; // out of touch with the quorum: say nothing, so that watchers move on
        }
        MetadataEvent event = MetadataEvent.newBuilder().setHeartbeat(WatchHeartbeat.newBuilder()
                .setAppliedOffset(loader.image().offset()).setQuorumLeaderId(quorumLeader)).build();
        for (Watcher watcher : List.copyOf(watchers)) {
            watcher.sendHeartbeat(event);
        }
    }

    private void start(Watcher watcher, long fromOffset) {
        if (watcher.stream.isCancelled()) {
            return;
        }
        watchers.add(watcher);
        List<MetadataLoader.RetainedBatch> batches = fromOffset < 0 ? null : loader.retainedBatchesAfter(fromOffset);
        if (batches == null) {
            watcher.sendSnapshot(loader.image());
            LOG.info("[node {}] metadata watcher {} started from a snapshot at offset {} (asked for {})", nodeId,
                    watcher.watcherId, watcher.lastQueuedOffset, fromOffset);
        } else {
            watcher.lastQueuedOffset = fromOffset;
            for (MetadataLoader.RetainedBatch batch : batches) {
                watcher.sendBatch(batch.offset(), MetadataEvent.newBuilder()
                        .setBatch(CommittedBatch.newBuilder().setOffset(batch.offset()).addAllRecords(batch.records()))
                        .build());
            }
            LOG.info("[node {}] metadata watcher {} resumed after offset {} ({} batches to catch up)", nodeId,
                    watcher.watcherId, fromOffset, batches.size());
        }
    }

    /** One stream. Owned by the sender thread. */
    private final class Watcher {
        final int watcherId;
        final ServerCallStreamObserver<MetadataEvent> stream;
        final ArrayDeque<MetadataEvent> queue = new ArrayDeque<>();
        int queuedBatches;
        long lastQueuedOffset = Long.MIN_VALUE;
        boolean ended;

        Watcher(int watcherId, ServerCallStreamObserver<MetadataEvent> stream) {
            this.watcherId = watcherId;
            this.stream = stream;
        }

        void sendSnapshot(MetadataImage image) {
            queue.clear();
            queuedBatches = 0;
            List<MetadataRecord> records = ImageRecords.of(image);
            SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setOffset(image.offset());
            int chunkBytes = 0;
            for (MetadataRecord record : records) {
                int size = record.getSerializedSize();
                if (chunkBytes > 0 && chunkBytes + size > SNAPSHOT_CHUNK_BYTES) {
                    queue.add(MetadataEvent.newBuilder().setSnapshotChunk(chunk).build());
                    chunk = SnapshotChunk.newBuilder().setOffset(image.offset());
                    chunkBytes = 0;
                }
                chunk.addRecords(record);
                chunkBytes += size;
            }
            queue.add(MetadataEvent.newBuilder().setSnapshotChunk(chunk.setLast(true)).build());
            lastQueuedOffset = image.offset();
            drain();
        }

        void sendBatch(long offset, MetadataEvent event) {
            if (offset <= lastQueuedOffset || ended) {
                return; // already in the snapshot or sent
            }
            if (queuedBatches >= maxQueuedBatches) {
                end(Status.RESOURCE_EXHAUSTED.withDescription("metadata watcher " + watcherId + " fell "
                        + queuedBatches + " batches behind on node " + nodeId + "; reconnect from your last offset"));
                return;
            }
            queue.add(event);
            queuedBatches++;
            lastQueuedOffset = offset;
            drain();
        }

        void sendHeartbeat(MetadataEvent event) {
            if (!ended && queue.isEmpty()) {
                queue.add(event);
                drain();
            }
        }

        void drain() {
            if (ended) {
                return;
            }
            if (stream.isCancelled()) {
                watchers.remove(this);
                ended = true;
                return;
            }
            try {
                while (stream.isReady() && !queue.isEmpty()) {
                    MetadataEvent event = queue.poll();
                    if (event.hasBatch()) {
                        queuedBatches--;
                    }
                    stream.onNext(event);
                }
            } catch (RuntimeException e) {
                // The call was closed under us (cancelled by the client or the transport).
                watchers.remove(this);
                ended = true;
            }
        }

        void end(Status status) {
            ended = true;
            watchers.remove(this);
            LOG.info("[node {}] ending metadata watch of {}: {}", nodeId, watcherId, status.getDescription());
            try {
                stream.onError(status.asException());
            } catch (RuntimeException alreadyClosed) {
                // Nothing to tell.
            }
        }
    }
}
