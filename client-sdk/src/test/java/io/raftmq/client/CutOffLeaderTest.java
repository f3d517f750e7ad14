package io.raftmq.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerApi;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.replication.FetchSpec;
import io.raftmq.replication.Partition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition leader cut off from the controller quorum while clients still reach it (three
 * in-process nodes; the leader's broker-to-controller link is cut, nothing else): its lease ends
 * before the controller fences it, so by the time another broker leads the next epoch the old
 * leader answers NOT_LEADER_OR_FOLLOWER, serves no reads and names no leader; an acks=all
 * producer goes on within 2 s with nothing acknowledged lost; the SDK's metadata never goes back
 * to the old epoch, although the cut-off broker is asked too; after the link heals the old leader
 * follows the new one.
 */
@Timeout(240)
class CutOffLeaderTest {
    private static final String TOPIC = "cut-off";
    private static final io.raftmq.protocol.TopicPartition BROKER_TP = new io.raftmq.protocol.TopicPartition(TOPIC, 0);
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final long SESSION_TIMEOUT_MS = 600;

    @TempDir
    Path dir;

    private record Ack(long seq, long offset, long atNs) {}

    @Test
    void aLeaderCutOffFromTheControllerStopsBeforeItIsReplacedAndTheProducerMovesOnWithinTwoSeconds()
            throws Exception {
        try (InProcessCluster cluster = new InProcessCluster(3, dir, Map.of("replica.lag.time.max.ms", "2000",
                "broker.session.timeout.ms", Long.toString(SESSION_TIMEOUT_MS)))) {
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            String bootstrap = cluster.bootstrapServers();
            try (Admin admin = new Admin(AdminConfig.builder().bootstrapServers(bootstrap).defaultApiTimeoutMs(30_000)
                    .build())) {
                admin.createTopic(new NewTopic(TOPIC, 1, 3, Map.of("min.insync.replicas", "2")));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                    Admin.PartitionDescription p = admin.describeTopics(List.of(TOPIC)).get(TOPIC).partitions().get(0);
                    return p.leader() >= 0 && p.isr().size() == 3;
                });
            }
            int oldLeader = partitionIn(cluster, 1).leader();
            int oldEpoch = partitionIn(cluster, 1).leaderEpoch();

            ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
            AtomicReference<Exception> sendFailure = new AtomicReference<>();
            List<Integer> epochsSeen = new ArrayList<>();
            Producer<String, String> producer = new Producer<>(ProducerConfig.builder().bootstrapServers(bootstrap)
                    .acks("all").enableIdempotence(true).lingerMs(0).requestTimeoutMs(5_000).retryBackoffMs(20)
                    .deliveryTimeoutMs(120_000).build(), Serdes.stringSerializer(), Serdes.stringSerializer());
            BrokerChannels channels = new BrokerChannels("epoch-sampler");
            ClusterMetadata sampler = new ClusterMetadata("epoch-sampler", channels, cluster.addresses().stream()
                    .map(a -> new BrokerAddress(a.host(), a.port())).toList(), 2_000, 20, 300_000,
                    System::currentTimeMillis);
            sampler.addTopics(List.of(TOPIC));
            Workload workload = new Workload(producer, acks, sendFailure, sampler, epochsSeen);
            workload.start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> acks.size() >= 200);

                cluster.controllerLink(oldLeader).cut();

                // The controller fences the old leader after its session and elects another one ...
                int newLeader = awaitNewLeader(cluster, oldLeader, oldEpoch);
                long electedNs = System.nanoTime();
                // ... by which time the old leader has stopped: it refuses produce, reads and offset
                // lookups, and its metadata names no leader and lists it fenced.
                BrokerApi oldApi = cluster.node(oldLeader).broker().api();
                assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, oldApi.listOffset(BROKER_TP, -1, -1).error().code());
                assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, oldApi.produce(null, -1, 1_000,
                        List.of(new BrokerApi.PartitionRecords(BROKER_TP, ByteBuffer.allocate(0)))).get()
                        .results().get(BROKER_TP).error().code());
                assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, oldApi.fetch(0, 0, 1 << 20,
                        List.of(new BrokerApi.FetchPartition(BROKER_TP, new FetchSpec(0, 1 << 20, -1, -1)))).get()
                        .results().get(BROKER_TP).error().code());
                MetadataImage told = oldApi.image();
                assertEquals(PartitionRegistration.NO_LEADER, told.topic(TOPIC).partition(0).leader());
                assertTrue(told.broker(oldLeader).isFenced(), "the cut-off broker lists itself as fenced");
                Partition replica = cluster.node(oldLeader).broker().replicaManager().partition(BROKER_TP);
                await().atMost(Duration.ofSeconds(5)).until(() -> !replica.isLeader());

                // The producer goes on with the new leader.
                await().atMost(Duration.ofSeconds(30)).until(() -> acks.stream().filter(a -> a.atNs() > electedNs)
                        .count() >= 300);

                cluster.controllerLink(oldLeader).heal();
                // Healed, it follows whoever leads now, and is back in the ISR.
                await().atMost(Duration.ofSeconds(30)).until(() -> replica.role() == Partition.Role.FOLLOWER
                        && replica.leader() == partitionIn(cluster, newLeader).leader()
                        && partitionIn(cluster, newLeader).isr().contains(oldLeader));
            } finally {
                workload.stop();
            }
            producer.flush();
            producer.close();
            channels.close();
            if (sendFailure.get() != null) {
                throw new AssertionError("a send failed", sendFailure.get());
            }

            List<Ack> all = new ArrayList<>(acks);
            all.sort((a, b) -> Long.compare(a.atNs(), b.atNs()));
            long longestGapMs = 0;
            for (int i = 1; i < all.size(); i++) {
                longestGapMs = Math.max(longestGapMs, TimeUnit.NANOSECONDS.toMillis(all.get(i).atNs()
                        - all.get(i - 1).atNs()));
            }
            System.out.println("cut-off leader: longest time without an ack " + longestGapMs + " ms, " + all.size()
                    + " records acknowledged");
            assertTrue(longestGapMs <= 2_000, "the producer went " + longestGapMs + " ms without an ack");

            assertEveryAckReadBack(bootstrap, all);

            for (int i = 1; i < epochsSeen.size(); i++) {
                assertTrue(epochsSeen.get(i) >= epochsSeen.get(i - 1), "the SDK's metadata went back from leader"
                        + " epoch " + epochsSeen.get(i - 1) + " to " + epochsSeen.get(i) + " (refresh " + i + ")");
            }
            assertTrue(epochsSeen.get(epochsSeen.size() - 1) > oldEpoch, "the SDK learned the new epoch");
            cluster.assertNoFaults();
        }
    }

    /** Produces one record every 2 ms and refreshes the sampler's metadata (rotating brokers) meanwhile. */
    private static final class Workload {
        private final Thread producing;
        private final Thread sampling;
        private volatile boolean running = true;

        Workload(Producer<String, String> producer, ConcurrentLinkedQueue<Ack> acks,
                AtomicReference<Exception> failure, ClusterMetadata sampler, List<Integer> epochsSeen) {
            producing = new Thread(() -> {
                for (long seq = 0; running; seq++) {
                    long s = seq;
                    producer.send(new ProducerRecord<>(TOPIC, 0, null, "r-" + s), (md, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        } else {
                            acks.add(new Ack(s, md.offset(), System.nanoTime()));
                        }
                    });
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // the workload's rate
                }
            }, "cut-off-producer");
            sampling = new Thread(() -> {
                while (running) {
                    sampler.requestUpdate();
                    sampler.rotate(); // every broker in turn, the cut-off one included
                    try {
                        MetadataSnapshot.PartitionState p = sampler.refresh(System.currentTimeMillis() + 2_000)
                                .partition(TP);
                        if (p != null) {
                            synchronized (epochsSeen) {
                                epochsSeen.add(p.leaderEpoch());
                            }
                        }
                    } catch (RaftmqException e) {
                        // no broker answered in time: ask again
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
            }, "epoch-sampler");
        }

        void start() {
            producing.start();
            sampling.start();
        }

        void stop() throws InterruptedException {
            running = false;
            producing.join();
            sampling.join();
        }
    }

    private static PartitionRegistration partitionIn(InProcessCluster cluster, int node) {
        TopicImage topic = cluster.node(node).broker().image().topic(TOPIC);
        return topic == null ? null : topic.partition(0);
    }

    /** Waits until another node's metadata has a leader other than {@code oldLeader} at a newer epoch; returns it. */
    private static int awaitNewLeader(InProcessCluster cluster, int oldLeader, int oldEpoch) {
        int[] found = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> {
            for (int node = 1; node <= 3; node++) {
                if (node == oldLeader) {
                    continue;
                }
                PartitionRegistration p = partitionIn(cluster, node);
                if (p != null && p.leaderEpoch() > oldEpoch && p.leader() >= 0 && p.leader() != oldLeader) {
                    found[0] = node;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Reads the partition from the start and checks every acknowledged record is at its offset. */
    private static void assertEveryAckReadBack(String bootstrap, List<Ack> acks) {
        Map<Long, String> atOffset = new HashMap<>();
        try (Consumer<String, String> reader = new Consumer<>(ConsumerConfig.builder().bootstrapServers(bootstrap)
                .autoOffsetReset("earliest").fetchMaxWaitMs(100).build(), Serdes.stringDeserializer(),
                Serdes.stringDeserializer())) {
            reader.assign(List.of(TP));
            reader.seekToBeginning(List.of(TP));
            long end = reader.endOffsets(List.of(TP)).get(TP);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
                    atOffset.put(r.offset(), r.value());
                }
                return reader.position(TP) >= end;
            });
        }
        List<Long> lost = new ArrayList<>();
        for (Ack a : acks) {
            if (!("r-" + a.seq()).equals(atOffset.get(a.offset()))) {
                lost.add(a.seq());
            }
        }
        assertTrue(lost.isEmpty(), lost.size() + " acknowledged record(s) not at their offset, e.g. " + lost.subList(0,
                Math.min(10, lost.size())));
    }
}
