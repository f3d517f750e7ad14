package io.raftmq.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The failover gap of a partition: the longest time without a successful acks=all acknowledgement
 * around a {@code kill -9} of the partition's leader, over several kills where the leader is not
 * the active controller and several where it is, with lost and duplicate counts. Three real node
 * processes on this machine. Prints figures; asserts nothing about them. Run with
 * {@code mvn -B -pl broker-node -am verify -Pbenchmark -Dit.test=LeaderFailoverBenchmark
 * [-Dfailover.trials=5]}.
 */
@Tag("benchmark")
class LeaderFailoverBenchmark {

    @Test
    void partitionLeaderFailoverAfterKillNine() throws Exception {
        int trials = Integer.getInteger("failover.trials", 5);
        long settleMs = Long.getLong("failover.settleMs", 3000);
        Path dir = Files.createTempDirectory("raftmq-leader-failover-bench");
        List<PartitionFailover.Result> leaderOnly = new ArrayList<>();
        List<PartitionFailover.Result> withController = new ArrayList<>();
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir);
                TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 5_000)) {
            cluster.startAll();
            for (int trial = 1; trial <= 2 * trials; trial++) {
                try (var controllers = cluster.client()) {
                    cluster.awaitHealthy(controllers, Duration.ofSeconds(60));
                }
                // Let restarted JVMs warm up: the next kill should not race their JIT for the cores.
                Awaitility.await().pollDelay(Duration.ofMillis(settleMs)).atMost(Duration.ofMillis(settleMs + 1000))
                        .until(() -> true);
                boolean controller = trial % 2 == 0;
                PartitionFailover.Result r = PartitionFailover.killLeader(cluster, client, "bench-" + trial, controller);
                (controller ? withController : leaderOnly).add(r);
                System.out.printf("trial %2d: killed node %d (%s): gap %5.0f ms, acks resumed after %5.0f ms, back in ISR"
                                + " %5.0f ms after restart; %d acked, %d lost, %d duplicates%n", trial, r.victim(),
                        r.victimWasController() ? "leader + active controller" : "leader", r.gapMs(),
                        r.resumedAfterKillMs(), r.rejoinedIsrAfterRestartMs(), r.verdict().acked(),
                        r.verdict().lost(), r.verdict().duplicates());
            }
        }
        System.out.printf("%npartition leader failover after kill -9 (acks=all, RF 3, min.insync.replicas 2), 3 nodes"
                + " on one machine:%n", trials);
        print("leader only", leaderOnly);
        print("leader + active controller", withController);
        System.out.println("  node logs: " + dir);
    }

    private static void print(String what, List<PartitionFailover.Result> results) {
        List<Long> gaps = results.stream().map(r -> Math.round(r.gapMs())).toList();
        int lost = results.stream().mapToInt(r -> r.verdict().lost()).sum();
        int dups = results.stream().mapToInt(r -> r.verdict().duplicates()).sum();
        int acked = results.stream().mapToInt(r -> r.verdict().acked()).sum();
        System.out.printf("  %-27s %d kills: gap %s; %d acknowledged, %d lost, %d duplicates%n", what, results.size(),
                ControllerFailover.summary(gaps), acked, lost, dups);
    }
}
