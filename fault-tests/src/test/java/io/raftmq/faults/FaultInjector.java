package io.raftmq.faults;

import static org.awaitility.Awaitility.await;

import io.raftmq.client.Admin;
import io.raftmq.node.NodeProcessCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Injects one fault of a run, holds it for a time the seed picks, and heals it: picks the victim
 * by role (a partition leader, the active controller, the group coordinator, a node number), and
 * records when the fault began and, for the checker, the times in which no acknowledgement may
 * arrive.
 *
 * <p>Threads: the test thread only.
 */
final class FaultInjector {
    private final FaultType fault;
    private final Random rng;
    private final NodeProcessCluster cluster;
    private final Admin admin;
    private final Netns net;
    private final Path dir;
    private final int partitions;
    private final History history;
    private final Consumer<String> log;
    private final List<Checker.NoAckWindow> noAckWindows = new ArrayList<>();
    private long faultNanos = -1;
    /** When every node was dead in a power loss of all of them (-1 otherwise). */
    private long crashedNanos = -1;
    private String action = "";

    /** @param net the nodes' namespaces (null on 127.0.0.1); @param dir the run's directory (faultfs backing dirs) */
    FaultInjector(FaultType fault, Random rng, NodeProcessCluster cluster, Admin admin, Netns net, Path dir,
            int partitions, History history, Consumer<String> log) {
        this.fault = fault;
        this.rng = rng;
        this.cluster = cluster;
        this.admin = admin;
        this.net = net;
        this.dir = dir;
        this.partitions = partitions;
        this.history = history;
        this.log = log;
    }

    String action() {
        return action;
    }

    long faultNanos() {
        return faultNanos;
    }

    long crashedNanos() {
        return crashedNanos;
    }

    List<Checker.NoAckWindow> noAckWindows() {
        return noAckWindows;
    }

    private int leaderOf(int partition) {
        int[] leader = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            leader[0] = admin.describeTopics(List.of(FaultRun.TOPIC)).get(FaultRun.TOPIC).partitions().get(partition).leader();
            return leader[0] > 0;
        });
        return leader[0];
    }

    /** The partitions the node leads now. */
    private List<Integer> ledBy(int node) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            if (leaderOf(p) == node) {
                out.add(p);
            }
        }
        return out;
    }

    private int controller() {
        int[] id = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            id[0] = admin.describeCluster().controllerId();
            return id[0] > 0;
        });
        return id[0];
    }

    private int coordinator() {
        int[] id = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            id[0] = admin.describeGroups(List.of(Workload.GROUP)).get(Workload.GROUP).coordinatorId();
            return id[0] > 0;
        });
        return id[0];
    }

    /** A partition leader that is not the active controller when one exists (the seed picks among them). */
    private int leaderVictim() {
        int controller = controller();
        List<Integer> leaders = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            leaders.add(leaderOf(p));
        }
        List<Integer> notController = leaders.stream().filter(l -> l != controller).toList();
        List<Integer> from = notController.isEmpty() ? leaders : notController;
        return from.get(rng.nextInt(from.size()));
    }

    private int otherThan(int node) {
        int other = 1 + rng.nextInt(2);
        return other >= node ? other + 1 : other;
    }

    private long holdMs(long min, long max) {
        return min + (long) (rng.nextDouble() * (max - min));
    }

    /** Injects the fault, holds it, and heals it (restarting killed nodes is the caller's part). */
    void inject() throws Exception {
        NodeProcessCluster.Node victim;
        long hold;
        switch (fault) {
            case KILL_LEADER, KILL_CONTROLLER, KILL_ANY -> {
                int id = fault == FaultType.KILL_LEADER ? leaderVictim()
                        : fault == FaultType.KILL_CONTROLLER ? controller() : 1 + rng.nextInt(3);
                victim = cluster.node(id);
                hold = holdMs(2_000, 6_000);
                action = "kill -9 node " + id + ", restart after " + hold + " ms";
                markFault();
                victim.kill9();
                Thread.sleep(hold);
            }
            case PAUSE_LEADER -> {
                int id = leaderVictim();
                hold = holdMs(3_000, 8_000);
                action = "SIGSTOP node " + id + " for " + hold + " ms";
                markFault();
                cluster.node(id).pause();
                try {
                    Thread.sleep(hold);
                } finally {
                    cluster.node(id).resume();
                }
            }
            case CUT_LEADER, CUT_COORDINATOR -> {
                int id = fault == FaultType.CUT_LEADER ? leaderVictim() : coordinator();
                hold = holdMs(4_000, 10_000);
                action = "cut node " + id + " from the others both ways for " + hold + " ms";
                markFault();
                for (int o = 1; o <= 3; o++) {
                    if (o != id) {
                        net.cut(id, o);
                        net.cut(o, id);
                    }
                }
                holdCut(hold);
            }
            case CUT_REPLICATION -> {
                int id = leaderVictim();
                // Longer than replica.lag.time.max.ms (10 s) and its check: the ISR shrinks to the leader.
                hold = holdMs(20_000, 26_000);
                action = "drop the other nodes' packets to node " + id + "'s gRPC port for " + hold + " ms";
                List<Integer> led = ledBy(id);
                markFault();
                for (int o = 1; o <= 3; o++) {
                    if (o != id) {
                        net.cutPort(o, id, cluster.node(id).grpcPort);
                    }
                }
                // Every cut is in force from here (applying them on a loaded machine can take a while).
                long from = System.nanoTime();
                holdCut(hold);
                long to = System.nanoTime();
                // Records sent from here on cannot be backed by a follower's copy while the node keeps
                // leading; records sent earlier may have been copied before the cuts.
                List<Integer> stillLed = ledBy(id);
                for (int p : led) {
                    if (stillLed.contains(p)) {
                        noAckWindows.add(new Checker.NoAckWindow(p, from, to,
                                "no follower could fetch from its leader, node " + id));
                    }
                }
            }
            case CUT_PAIR -> {
                int a = 1 + rng.nextInt(3);
                int b = otherThan(a);
                hold = holdMs(4_000, 10_000);
                action = "cut nodes " + a + " and " + b + " from each other for " + hold + " ms";
                markFault();
                net.cut(a, b);
                net.cut(b, a);
                holdCut(hold);
            }
            case CUT_ONE_WAY -> {
                int a = rng.nextBoolean() ? leaderVictim() : 1 + rng.nextInt(3);
                int b = otherThan(a);
                hold = holdMs(4_000, 10_000);
                action = "drop node " + a + "'s packets to node " + b + " for " + hold + " ms";
                markFault();
                net.cut(a, b);
                holdCut(hold);
            }
            case POWER_LOSS_ONE -> {
                int id = rng.nextBoolean() ? leaderVictim() : 1 + rng.nextInt(3);
                hold = holdMs(1_000, 4_000);
                action = "power loss of node " + id + ", back after " + hold + " ms";
                markFault();
                powerLoss(cluster.node(id));
                Thread.sleep(hold);
            }
            case POWER_LOSS_ALL, POWER_LOSS_ALL_OS -> {
                hold = holdMs(1_000, 3_000);
                action = "power loss of every node, back after " + hold + " ms";
                markFault();
                for (NodeProcessCluster.Node n : cluster.nodes()) {
                    n.kill9();
                }
                // Acknowledgements may arrive until the last node is dead: all of them are from
                // before the power loss.
                crashedNanos = System.nanoTime();
                for (NodeProcessCluster.Node n : cluster.nodes()) {
                    FaultFs.control(n.dataDir, "drop-unsynced");
                    log.accept("node " + n.id + " faultfs after the power loss: " + FaultFs.status(n.dataDir));
                }
                Thread.sleep(hold);
            }
            case DISK_FULL -> {
                int id = rng.nextBoolean() ? leaderVictim() : 1 + rng.nextInt(3);
                Path data = cluster.node(id).dataDir;
                // A node writes some 100 KB/s here: the disk fills within the hold.
                long headroom = (16 + rng.nextInt(240)) << 10;
                long used = usedBytes(dir.resolve("backing-" + id));
                hold = holdMs(5_000, 12_000);
                action = "disk full on node " + id + " (capacity " + (used + headroom) + " bytes) for " + hold + " ms";
                markFault();
                FaultFs.control(data, "capacity " + (used + headroom));
                try {
                    Thread.sleep(hold);
                } finally {
                    FaultFs.control(data, "heal");
                }
            }
            case FSYNC_STALL -> {
                int id = leaderVictim();
                long delay = holdMs(2_000, 6_000);
                hold = holdMs(5_000, 12_000);
                Path data = cluster.node(id).dataDir;
                action = "fsync on node " + id + " takes " + delay + " ms, for " + hold + " ms";
                markFault();
                FaultFs.control(data, "fsync-delay " + delay);
                try {
                    Thread.sleep(hold);
                } finally {
                    FaultFs.control(data, "heal");
                }
            }
            default -> throw new IllegalStateException("no injection for " + fault);
        }
    }

    private void markFault() {
        faultNanos = System.nanoTime();
        log.accept("inject: " + action + " (" + history.acks.size() + " acknowledged so far)");
    }

    private void holdCut(long holdMs) throws Exception {
        log.accept("cuts in force: " + net.rules());
        try {
            Thread.sleep(holdMs);
        } finally {
            net.heal();
        }
    }

    private void powerLoss(NodeProcessCluster.Node node) throws Exception {
        node.kill9();
        FaultFs.control(node.dataDir, "drop-unsynced");
        log.accept("node " + node.id + " faultfs after the power loss: " + FaultFs.status(node.dataDir));
    }

    private static long usedBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }
}
