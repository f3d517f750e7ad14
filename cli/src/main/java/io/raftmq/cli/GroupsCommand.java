package io.raftmq.cli;

import io.raftmq.client.TopicPartition;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** kafka-consumer-groups: --list, --describe --group G (offsets, lag, members), --delete --group G. */
@Command(name = "groups", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists, describes and deletes consumer groups (kafka-consumer-groups).")
final class GroupsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    static final class Action {
        @Option(names = "--list", required = true, description = "List the groups.")
        boolean list;
        @Option(names = "--describe", required = true, description = "Offsets, lag and members of --group.")
        boolean describe;
        @Option(names = "--delete", required = true, description = "Delete --group (it must have no members).")
        boolean delete;
    }

    @Option(names = "--group", description = "The group.")
    String group;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (AdminCalls admin = connection.admin()) {
            if (action.list) {
                for (Views.Group g : admin.listGroups()) {
                    out.println(g.groupId());
                }
            } else if (action.describe) {
                describe(out, admin, requireGroup("--describe"));
            } else {
                admin.deleteGroup(requireGroup("--delete"));
                out.println("Deletion of requested consumer groups ('" + group + "') was successful.");
            }
        }
        out.flush();
        return 0;
    }

    private String requireGroup(String flag) {
        if (group == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " needs --group");
        }
        return group;
    }

    /** kafka-consumer-groups --describe: one row per partition the group owns or has committed. */
    private static void describe(PrintWriter out, AdminCalls admin, String groupId) {
        Views.Group g = admin.describeGroup(groupId);
        Map<TopicPartition, Long> committed = admin.committedOffsets(groupId);
        Map<TopicPartition, Views.Member> owners = new HashMap<>();
        for (Views.Member m : g.members()) {
            for (TopicPartition tp : m.assignment()) {
                owners.put(tp, m);
            }
        }
        Map<TopicPartition, Boolean> partitions = new TreeMap<>(Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition));
        committed.keySet().forEach(tp -> partitions.put(tp, true));
        owners.keySet().forEach(tp -> partitions.put(tp, true));
        Map<TopicPartition, Long> ends = partitions.isEmpty() ? Map.of() : admin.endOffsets(partitions.keySet());

        out.println();
        if (g.members().isEmpty()) {
            out.println("Consumer group '" + groupId + "' has no active members.");
            out.println();
        }
        TableWriter table = new TableWriter("", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                "CONSUMER-ID", "HOST", "CLIENT-ID");
        for (TopicPartition tp : partitions.keySet()) {
            Long current = committed.get(tp);
            long end = ends.getOrDefault(tp, -1L);
            String lag = current == null || end < 0 ? "-" : Long.toString(Math.max(0, end - current));
            Views.Member m = owners.get(tp);
            table.row(groupId, tp.topic(), tp.partition(), current == null ? "-" : current, end < 0 ? "-" : end, lag,
                    m == null ? "-" : m.memberId(), m == null ? "-" : "/" + m.host(), m == null ? "-" : m.clientId());
        }
        table.print(out);
    }
}
