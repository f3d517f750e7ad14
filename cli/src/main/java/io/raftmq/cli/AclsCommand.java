package io.raftmq.cli;

import io.raftmq.client.Acl;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code raftmq acls add|list|remove}: Kafka's ACLs (kafka-acls), over the gRPC Broker service.
 * {@code add} adds one ACL per {@code --operation}; {@code list} and {@code remove} take the same
 * options as a filter, where an option left out matches every value.
 */
@Command(name = "acls", mixinStandardHelpOptions = true, description = "Adds, lists and removes ACLs (kafka-acls).",
        subcommands = {AclsCommand.Add.class, AclsCommand.ListAcls.class, AclsCommand.Remove.class})
final class AclsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a subcommand: add, list, remove");
    }

    /** The resource an ACL is on: one of the four kinds, by name. */
    static final class Resource {
        @Option(names = "--topic", paramLabel = "NAME", description = "A topic (* for every topic).")
        String topic;
        @Option(names = "--group", paramLabel = "NAME", description = "A consumer group (* for every group).")
        String group;
        @Option(names = "--cluster", description = "The cluster (kafka-cluster).")
        boolean cluster;
        @Option(names = "--transactional-id", paramLabel = "ID", description = "A transactional id.")
        String transactionalId;

        Acl.ResourceType type() {
            return topic != null ? Acl.ResourceType.TOPIC : group != null ? Acl.ResourceType.GROUP
                    : cluster ? Acl.ResourceType.CLUSTER : Acl.ResourceType.TRANSACTIONAL_ID;
        }

        String name() {
            return topic != null ? topic : group != null ? group : cluster ? "kafka-cluster" : transactionalId;
        }
    }

    /** What add, list and remove share. */
    static final class Entry {
        @ArgGroup(exclusive = true)
        Resource resource;

        @Option(names = "--prefixed", description = "The resource name is a prefix (PREFIXED pattern).")
        boolean prefixed;

        @Option(names = "--principal", paramLabel = "TYPE:NAME", description = "Who: User:alice, User:* for everyone.")
        String principal;

        @Option(names = "--host", paramLabel = "IP", description = "From where: an IP address, * for every host.")
        String host;

        @Option(names = "--operation", paramLabel = "OP", description = "All, Read, Write, Create, Delete, Alter,"
                + " Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite (repeatable).")
        List<String> operations;

        @Option(names = "--deny", description = "A DENY ACL (default: ALLOW).")
        boolean deny;

        List<Acl.Operation> operations(CommandSpec spec) {
            List<Acl.Operation> out = new ArrayList<>();
            for (String op : operations == null ? List.<String>of() : operations) {
                out.add(operation(spec, op));
            }
            return out;
        }

        /** The filter of these options: what is left out matches everything. */
        Acl.Filter filter(CommandSpec spec, boolean literalByDefault) {
            List<Acl.Operation> ops = operations(spec);
            if (ops.size() > 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give at most one --operation here");
            }
            Acl.PatternType pattern = prefixed ? Acl.PatternType.PREFIXED
                    : resource != null && literalByDefault ? Acl.PatternType.LITERAL : null;
            return new Acl.Filter(resource == null ? null : resource.type(), resource == null ? null : resource.name(),
                    pattern, principal, host, ops.isEmpty() ? null : ops.get(0),
                    deny ? Acl.Permission.DENY : null);
        }
    }

    static Acl.Operation operation(CommandSpec spec, String name) {
        String normalized = name.replace("-", "").replace("_", "").toUpperCase(Locale.ROOT);
        for (Acl.Operation op : Acl.Operation.values()) {
            if (op.name().replace("_", "").equals(normalized)) {
                return op;
            }
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "unknown operation '" + name + "'; one of"
                + " All, Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs,"
                + " IdempotentWrite");
    }

    static void print(PrintWriter out, List<Acl> acls) {
        TableWriter table = new TableWriter("", "PRINCIPAL", "HOST", "PERMISSION", "OPERATION", "RESOURCE", "NAME",
                "PATTERN");
        for (Acl a : acls) {
            table.row(a.principal(), a.host(), a.permission(), a.operation(), a.resourceType(), a.resourceName(),
                    a.patternType());
        }
        table.print(out);
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Adds an ACL per --operation.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConnectionOptions connection;
        @ArgGroup(exclusive = false, multiplicity = "1")
        Entry entry;

        @Override
        public Integer call() {
            if (entry.resource == null || entry.principal == null || entry.operations == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "add needs a resource (--topic, --group,"
                        + " --cluster or --transactional-id), --principal and at least one --operation");
            }
            List<Acl> acls = new ArrayList<>();
            for (Acl.Operation op : entry.operations(spec)) {
                acls.add(new Acl(entry.resource.type(), entry.resource.name(), entry.prefixed ? Acl.PatternType.PREFIXED
                        : Acl.PatternType.LITERAL, entry.principal, entry.host == null ? "*" : entry.host, op,
                        entry.deny ? Acl.Permission.DENY : Acl.Permission.ALLOW));
            }
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                admin.createAcls(acls);
            }
            out.println("Added " + acls.size() + " ACL(s):");
            print(out, acls);
            out.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the ACLs the options match (none: every ACL).")
    static final class ListAcls implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConnectionOptions connection;
        @ArgGroup(exclusive = false)
        Entry entry = new Entry();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                print(out, admin.describeAcls(entry.filter(spec, false)));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Removes every ACL the options match (a resource name is LITERAL unless --prefixed).")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConnectionOptions connection;
        @ArgGroup(exclusive = false, multiplicity = "1")
        Entry entry;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<Acl> removed;
            try (AdminCalls admin = connection.admin()) {
                removed = admin.deleteAcls(entry.filter(spec, true));
            }
            out.println("Removed " + removed.size() + " ACL(s):");
            print(out, removed);
            out.flush();
            return 0;
        }
    }
}
