package io.raftmq.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** kafka-topics: --create, --list, --describe, --alter (add partitions), --delete. */
@Command(name = "topics", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Creates, lists, describes, alters and deletes topics (kafka-topics).")
final class TopicsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    static final class Action {
        @Option(names = "--create", required = true, description = "Create a topic.")
        boolean create;
        @Option(names = "--list", required = true, description = "List the topics.")
        boolean list;
        @Option(names = "--describe", required = true, description = "Describe topics (all, or --topic).")
        boolean describe;
        @Option(names = "--alter", required = true, description = "Add partitions to a topic (--partitions).")
        boolean alter;
        @Option(names = "--delete", required = true, description = "Delete a topic.")
        boolean delete;
    }

    @Option(names = "--topic", description = "The topic.")
    String topic;

    @Option(names = "--partitions", description = "Partition count (create: default the broker's num.partitions;"
            + " alter: the new, larger count).")
    Integer partitions;

    @Option(names = "--replication-factor", description = "Replicas per partition (default: the broker's).")
    Integer replicationFactor;

    @Option(names = "--exclude-internal", description = "Leave internal topics (__consumer_offsets) out of --list.")
    boolean excludeInternal;

    @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A topic config for --create, e.g."
            + " min.insync.replicas=2 (repeatable).")
    List<String> configs;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (AdminCalls admin = connection.admin()) {
            if (action.create) {
                Map<String, String> config = KeyValues.parse(configs, "--config");
                admin.createTopic(requireTopic("--create"), partitions == null ? -1 : partitions,
                        replicationFactor == null ? -1 : replicationFactor, config);
                out.println("Created topic " + topic + ".");
            } else if (action.list) {
                for (String name : admin.listTopics(!excludeInternal)) {
                    out.println(name);
                }
            } else if (action.describe) {
                for (Views.Topic t : admin.describeTopics(topic == null ? List.of() : List.of(topic))) {
                    printTopic(out, t);
                }
            } else if (action.alter) {
                if (partitions == null) {
                    throw usage("--alter needs --partitions (partitions can only be added)");
                }
                admin.addPartitions(requireTopic("--alter"), partitions);
            } else {
                admin.deleteTopic(requireTopic("--delete"));
            }
        }
        out.flush();
        return 0;
    }

    private String requireTopic(String flag) {
        if (topic == null) {
            throw usage(flag + " needs --topic");
        }
        return topic;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** kafka-topics --describe's layout: a topic line, then one tab-indented line per partition. */
    static void printTopic(PrintWriter out, Views.Topic t) {
        StringJoiner configs = new StringJoiner(",");
        t.configs().forEach((k, v) -> configs.add(k + "=" + v));
        out.println("Topic: " + t.name() + "\tTopicId: " + t.topicId() + "\tPartitionCount: " + t.partitions().size()
                + "\tReplicationFactor: " + t.replicationFactor() + "\tConfigs: " + configs);
        for (Views.Partition p : t.partitions()) {
            out.println("\tTopic: " + t.name() + "\tPartition: " + p.partition() + "\tLeader: " + Views.leader(p.leader())
                    + "\tReplicas: " + Views.ids(p.replicas()) + "\tIsr: " + Views.ids(p.isr()));
        }
    }
}
