package io.raftmq.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Controller failover after kill -9, measured over many trials on three real node processes.
 * Prints figures; asserts nothing about them. Run with
 * {@code mvn -B -pl broker-node -am verify -Pbenchmark [-Dfailover.trials=20]}.
 */
@Tag("benchmark")
class ControllerFailoverBenchmark {

    @Test
    void controllerFailoverAfterKillNine() throws Exception {
        int trials = Integer.getInteger("failover.trials", 20);
        Path dir = Files.createTempDirectory("raftmq-failover-bench");
        List<Long> elected = new ArrayList<>();
        List<Long> written = new ArrayList<>();
        try (NodeProcessCluster cluster = new NodeProcessCluster(3, dir)) {
            cluster.startAll();
            long lastOffset = 0;
            for (int trial = 1; trial <= trials; trial++) {
                ControllerFailover.Result r = ControllerFailover.killActiveControllerAndMeasure(cluster, "t" + trial);
                elected.add(r.electedMs());
                written.add(r.firstWriteMs());
                lastOffset = Math.max(lastOffset, r.writeOffset());
                System.out.printf("trial %2d: killed node %d at %tT.%<tL; node %d elected after %4d ms; first write"
                        + " after %4d ms%n", trial, r.killedNode(), System.currentTimeMillis() - r.firstWriteMs(),
                        r.newController(), r.electedMs(), r.firstWriteMs());
                ControllerFailover.restartAndAwaitRejoin(cluster, r.killedNode(), lastOffset);
                // Let the restarted JVM finish warming up: the next kill should not race its JIT
                // for the machine's cores.
                long settleMs = Long.getLong("failover.settleMs", 3000);
                org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofMillis(settleMs))
                        .atMost(java.time.Duration.ofMillis(settleMs + 1000)).until(() -> true);
            }
        }
        System.out.printf("%ncontroller failover after kill -9, %d trials, 3 nodes on one machine:%n", trials);
        System.out.println("  new controller elected: " + ControllerFailover.summary(elected));
        System.out.println("  first write committed:  " + ControllerFailover.summary(written));
        System.out.println("  node logs: " + dir);
    }
}
