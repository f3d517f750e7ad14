package io.raftmq.broker;

import io.raftmq.common.FaultHandler;
import io.raftmq.common.HostPort;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.replication.PartitionAssignment;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.storage.LogConfig;
import io.raftmq.storage.LogManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries committed metadata to this broker's replicas: for every image the watcher publishes, the
 * partitions this broker holds a replica of whose registration, topic configs or leader address
 * changed go to {@link ReplicaManager#applyMetadata}, and partitions it no longer holds are
 * removed. With the first image applied, logs on disk that image does not assign to this broker
 * (topics deleted, or replicas moved, while it was down) are deleted as stray.
 *
 * <p>Nothing is applied until the image holds this process's own registration: the controller
 * commits a re-registration together with moving every leadership the previous process held, so
 * a restarted broker never acts on the leaderships of its previous life.
 *
 * <p>While this broker's lease has expired ({@link #leaseExpired}: the controller has not answered
 * for longer than the session allows) its own leaderships are withheld: every partition the
 * metadata says it leads is applied as having no leader, so the replica stops leading at once
 * (waiting acks=all produces are answered NOT_LEADER_OR_FOLLOWER, nothing is served as leader).
 * After {@link #leaseRenewed} they are applied as the metadata says once it has reached the offset
 * the controller answered with, which holds every fencing and election made while this broker was
 * cut off, so it never leads again on a stale view.
 *
 * <pre>
 *   LEADING -(lease expired)-> WITHHOLDING -(lease renewed at offset X, image offset >= X)-> LEADING
 * </pre>
 *
 * <p>Threads: the watcher calls {@link #onImage} with its lock held, so it only stores the newest
 * image and wakes the publisher thread ("broker-metadata-N"), which owns {@code applied} and does
 * the work; lease changes arrive the same way from the lifecycle thread. Images that arrive while
 * one is applied are coalesced: the newest wins, and diffing against what was applied makes
 * skipping the ones between safe.
 */
final class BrokerMetadataPublisher implements MetadataWatcher.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerMetadataPublisher.class);

    /** What an assignment was built from; equal inputs need no new apply. */
    private record Inputs(UUID topicId, PartitionRegistration registration, SortedMap<String, String> topicConfigs,
            HostPort leaderEndpoint) {}

    private final int brokerId;
    private final UUID incarnationId;
    private final BrokerConfig config;
    private final ReplicaManager replicas;
    private final LogManager logs;
    private final FaultHandler faultHandler;
    private final Consumer<MetadataImage> afterApply;
    private final Thread thread;

    // Guarded by this.
    private MetadataImage newest;
    private boolean closed;
    private boolean leaseHeld = true;
    /** After a renewal: lead again once the applied image reaches this offset. */
    private long leadFromOffset = -1;
    private boolean leaseChanged;

    // Publisher thread only.
    private Map<TopicPartition, Inputs> applied = new HashMap<>();
    private boolean ownRegistrationSeen;
    private boolean strayLogsChecked;
    /** The image last published; null before the first. */
    private MetadataImage current;
    /** Whether this broker's leaderships are withheld from the replicas. */
    private boolean withholding;

    /** @param afterApply told of every image once its partition state is applied (the group coordinator) */
    BrokerMetadataPublisher(int brokerId, UUID incarnationId, BrokerConfig config, ReplicaManager replicas,
            LogManager logs, FaultHandler faultHandler, Consumer<MetadataImage> afterApply) {
        this.brokerId = brokerId;
        this.incarnationId = incarnationId;
        this.config = config;
        this.replicas = replicas;
        this.logs = logs;
        this.faultHandler = faultHandler;
        this.afterApply = afterApply;
        this.thread = new Thread(this::run, "broker-metadata-" + brokerId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    @Override
    public synchronized void onImage(MetadataImage image, MetadataDelta delta) {
        newest = image;
        notifyAll();
    }

    /** This broker's lease expired: stop leading (any thread; enqueues). */
    synchronized void leaseExpired() {
        leaseHeld = false;
        leaseChanged = true;
        notifyAll();
    }

    /** The lease was renewed: lead as metadata says once it reaches {@code metadataOffset} (any thread). */
    synchronized void leaseRenewed(long metadataOffset) {
        leaseHeld = true;
        leadFromOffset = metadataOffset;
        leaseChanged = true;
        notifyAll();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            MetadataImage image;
            boolean held;
            long fromOffset;
            synchronized (this) {
                while (newest == null && !leaseChanged && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                image = newest != null ? newest : current;
                newest = null;
                leaseChanged = false;
                held = leaseHeld;
                fromOffset = leadFromOffset;
            }
            if (image == null) {
                continue; // no metadata yet: the lease state applies to the first image
            }
            try {
                boolean withhold = !held || image.offset() < fromOffset;
                if (withhold != withholding) {
                    withholding = withhold;
                    applied = new HashMap<>(); // every partition again, with or without this broker leading
                    LOG.info("[broker {}] {} at metadata offset {}", brokerId, withhold
                            ? "withholding this broker's leaderships: its lease expired"
                            : "leading again as metadata says", image.offset());
                }
                current = image;
                publish(image);
            } catch (RuntimeException e) {
                throw faultHandler.handleFault("broker " + brokerId + " could not apply metadata at offset "
                        + image.offset() + ": " + e, e);
            }
        }
    }

    private void publish(MetadataImage image) {
        BrokerRegistration self = image.broker(brokerId);
        if (!ownRegistrationSeen) {
            if (self == null || !self.incarnationId().equals(incarnationId)) {
                return; // still the previous process's view of this broker
            }
            ownRegistrationSeen = true;
            LOG.info("[broker {}] metadata holds this broker's registration (epoch {}) at offset {}; applying"
                    + " partition state", brokerId, self.epoch(), image.offset());
        }
        Map<TopicPartition, Inputs> now = new HashMap<>();
        List<PartitionAssignment> changed = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration reg = topic.partition(i);
                if (!reg.isReplica(brokerId)) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), i);
                HostPort leaderEndpoint = reg.hasLeader() ? endpointOf(image, reg.leader()) : null;
                Inputs inputs = new Inputs(topic.id(), reg, topic.configs(), leaderEndpoint);
                now.put(tp, inputs);
                if (!inputs.equals(applied.get(tp))) {
                    // Withheld: applied as leaderless at the same epoch (not followed, not led).
                    boolean withheld = withholding && reg.leader() == brokerId;
                    changed.add(new PartitionAssignment(tp, topic.id(), reg.replicas(), reg.isr(),
                            withheld ? PartitionAssignment.NO_LEADER : reg.leader(), reg.leaderEpoch(),
                            reg.partitionEpoch(), withheld ? null : leaderEndpoint,
                            config.minInsyncReplicas(topic.configs()), logConfig(topic)));
                }
            }
        }
        List<TopicPartition> removed = new ArrayList<>();
        for (TopicPartition tp : applied.keySet()) {
            if (!now.containsKey(tp)) {
                removed.add(tp);
            }
        }
        replicas.applyMetadata(image.offset(), changed, removed);
        if (!strayLogsChecked) {
            // The first image with this process's registration is at least as new as every change
            // made while it was down: a log it does not assign here is stray.
            strayLogsChecked = true;
            Map<TopicPartition, UUID> assigned = new HashMap<>();
            now.forEach((tp, inputs) -> assigned.put(tp, inputs.topicId()));
            logs.deleteStrayLogs(assigned);
        }
        applied = now;
        afterApply.accept(image);
    }

    private LogConfig logConfig(TopicImage topic) {
        try {
            return config.logConfig(topic.configs());
        } catch (RuntimeException e) {
            // The controller checked the values; a broker-side range this broker does not accept
            // must not keep the partition offline.
            LOG.warn("[broker {}] configs of topic {} do not apply here ({}); using this broker's log defaults",
                    brokerId, topic.name(), e.getMessage());
            return config.logConfig(Map.of());
        }
    }

    private static HostPort endpointOf(MetadataImage image, int brokerId) {
        BrokerRegistration broker = image.broker(brokerId);
        if (broker == null) {
            return null;
        }
        Endpoint e = broker.endpoint(BrokerRegistration.GRPC_LISTENER).orElse(null);
        return e == null ? null : new HostPort(e.getHost(), e.getPort());
    }
}
