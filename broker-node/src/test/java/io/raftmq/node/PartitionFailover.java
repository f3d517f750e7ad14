package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import io.raftmq.protocol.broker.PartitionMetadata;
import java.time.Duration;
import java.util.Map;

/**
 * One failover trial on real node processes: continuous acks=all production to a partition of a
 * new RF 3 / min.insync.replicas 2 topic, {@code kill -9} of the partition's leader (chosen to be,
 * or not to be, the active controller), production resuming on a new leader, the killed node
 * restarted until it is back in the partition's ISR, then every acknowledged record checked in
 * the log. Shared by the process-level test and the failover benchmark.
 */
final class PartitionFailover {
    /** What one trial measured. */
    record Result(int victim, boolean victimWasController, double gapMs, double resumedAfterKillMs,
            double rejoinedIsrAfterRestartMs, ContinuousProducer.Verdict verdict) {}

    private PartitionFailover() {}

    /** Waits for a healthy cluster, then runs one trial on a new topic named {@code topic}. */
    static Result killLeader(NodeProcessCluster cluster, TestBrokerClient client, String topic,
            boolean leaderIsController) throws Exception {
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
        NodeProcessCluster.Node node = cluster.node(victim);
        int p = partition;
        try (ContinuousProducer producer = new ContinuousProducer(client, topic, partition, 2_000)) {
            producer.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 100);
            long killNanos = System.nanoTime();
            node.kill9();
            System.out.printf("killed node %d (leader of %s-%d) at %s%n", victim, topic, partition, java.time.LocalTime.now());
            int before = producer.ackCount();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> producer.ackCount() >= before + 100);
            double gap = producer.gapAroundMs(killNanos, 100);
            double firstAck = producer.resumedAfterMs(killNanos, 100);
            long restartNanos = System.nanoTime();
            node.start();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
                client.refreshMetadata();
                PartitionMetadata pm = client.partition(topic, p);
                return pm.getIsrList().contains(victim) && pm.getIsrCount() == 3;
            });
            double rejoined = (System.nanoTime() - restartNanos) / 1e6;
            int rejoinedAt = producer.ackCount();
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= rejoinedAt + 50);
            producer.stop();
            ContinuousProducer.Verdict verdict = producer.verify(client.readAll(topic, partition, 0));
            return new Result(victim, victim == controller, gap, firstAck, rejoined, verdict);
        }
    }
}
