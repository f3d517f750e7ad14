package io.raftmq.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code raftmq cluster describe}: the cluster id, the metadata quorum, the brokers with every
 * endpoint, and every partition's leader and ISR.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Cluster state.",
        subcommands = ClusterCommand.Describe.class)
final class ClusterCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a subcommand: describe");
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Cluster id, voters and the active controller, brokers (fenced or not) with their"
                    + " endpoints, partition leaders and ISRs.")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ConnectionOptions connection;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                Views.Cluster cluster = admin.describeCluster();
                List<Views.Topic> topics = admin.describeTopics(List.of());
                print(out, cluster, topics);
            }
            out.flush();
            return 0;
        }
    }

    static void print(PrintWriter out, Views.Cluster cluster, List<Views.Topic> topics) {
        out.println("Cluster id: " + (cluster.clusterId() == null ? "none yet (no controller has chosen it)"
                : cluster.clusterId()));
        if (cluster.controllerId() < 0) {
            out.println("Active controller: none (an election is under way)");
        } else {
            out.println("Active controller: node " + cluster.controllerId() + " (epoch " + cluster.controllerEpoch() + ")");
        }
        out.println();
        out.println("Voters:");
        TableWriter voters = new TableWriter("  ", "ID", "RAFT-ADDRESS", "ROLE");
        for (Views.Voter v : cluster.voters()) {
            voters.row(v.id(), v.raftAddress(), v.leader() ? "leader" : "follower");
        }
        voters.print(out);
        out.println();
        out.println("Brokers:");
        TableWriter brokers = new TableWriter("  ", "ID", "STATE", "ENDPOINTS", "RACK");
        for (Views.Broker b : cluster.brokers()) {
            brokers.row(b.id(), b.state(), b.endpoints(), b.rack().isEmpty() ? "-" : b.rack());
        }
        brokers.print(out);
        out.println();
        out.println("Partitions:");
        TableWriter partitions = new TableWriter("  ", "TOPIC", "PARTITION", "LEADER", "LEADER-EPOCH", "REPLICAS", "ISR");
        for (Views.Topic t : topics) {
            for (Views.Partition p : t.partitions()) {
                partitions.row(t.name(), p.partition(), Views.leader(p.leader()), p.leaderEpoch(), Views.ids(p.replicas()),
                        Views.ids(p.isr()));
            }
        }
        partitions.print(out);
    }
}
