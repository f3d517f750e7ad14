package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.record.DeliveryCheck;
import java.time.Duration;
import java.util.Map;

/**
 * One failover trial on real node processes: continuous acks=all production to a partition of a
 * new RF 3 / min.insync.replicas 2 topic, {@code kill -9} of the partition's leader (chosen to be,
 * or not to be, the active controller), production resuming on a new leader, the killed node
 * restarted until it is back in the partition's ISR, then every acknowledged record checked in
 * the log. Shared by the process-level test, the failover benchmark and the docker-compose check
 * ({@link ComposeCheck}), which differ only in how a node is killed and started ({@link Nodes}).
 */
final class PartitionFailover {
    /** What one trial measured. */
    record Result(int victim, boolean victimWasController, double gapMs, double resumedAfterKillMs,
            double rejoinedIsrAfterRestartMs, DeliveryCheck.Verdict verdict) {}

    /**
     * How the trial kills a node (no clean shutdown) and starts it again on its data. Each returns
     * the {@link System#nanoTime()} at which the node died or its process started, as closely as
     * known (a container engine's command may take seconds to return).
     */
    interface Nodes {
        long kill(int nodeId) throws Exception;

        long start(int nodeId) throws Exception;
    }

    private PartitionFailover() {}

    /** Waits for a healthy cluster, then runs one trial on a new topic named {@code topic}. */
    static Result killLeader(NodeProcessCluster cluster, TestBrokerClient client, String topic,
            boolean leaderIsController) throws Exception {
        return killLeader(new Nodes() {
            @Override
            public long kill(int nodeId) throws Exception {
                long nanos = System.nanoTime();
                cluster.node(nodeId).kill9();
                return nanos;
            }

            @Override
            public long start(int nodeId) throws Exception {
                long nanos = System.nanoTime();
                cluster.node(nodeId).start();
                return nanos;
            }
        }, client, topic, leaderIsController);
    }

    /** One trial on a new topic named {@code topic}, killing and restarting nodes through {@code nodes}. */
    static Result killLeader(Nodes nodes, TestBrokerClient client, String topic, boolean leaderIsController)
            throws Exception {
        client.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2"));
        int controller = client.refreshMetadata().getControllerId();
        int partition = -1;
        for (int p = 0; p < 3; p++) {
            int leader = client.partition(topic, p).getLeader();
            if ((leader == controller) == leaderIsController) {
                partition = p;
                break;
            }
        }
        if (partition < 0) {
            throw new IllegalStateException("no partition of " + topic + " has a leader that "
                    + (leaderIsController ? "is" : "is not") + " the active controller " + controller + ": "
                    + client.metadata());
        }
        int victim = client.partition(topic, partition).getLeader();
        int p = partition;
        try (ContinuousProducer producer = new ContinuousProducer(client, topic, partition, 2_000)) {
            producer.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 100);
            long killNanos = nodes.kill(victim);
            System.out.printf("killed node %d (leader of %s-%d) at %s%n", victim, topic, partition, java.time.LocalTime.now());
            int before = producer.ackCount();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> producer.ackCount() >= before + 100);
            double gap = producer.gapAroundMs(killNanos, 100);
            double firstAck = producer.resumedAfterMs(killNanos, 100);
            long restartNanos = nodes.start(victim);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
                client.refreshMetadata();
                PartitionMetadata pm = client.partition(topic, p);
                return pm.getIsrList().contains(victim) && pm.getIsrCount() == 3;
            });
            double rejoined = (System.nanoTime() - restartNanos) / 1e6;
            int rejoinedAt = producer.ackCount();
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= rejoinedAt + 50);
            producer.stop();
            DeliveryCheck.Verdict verdict = producer.verify(client.readAll(topic, partition, 0));
            return new Result(victim, victim == controller, gap, firstAck, rejoined, verdict);
        }
    }
}
