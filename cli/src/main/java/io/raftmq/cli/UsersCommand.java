package io.raftmq.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code raftmq users add|list|delete}: the SCRAM users the Kafka listener's SASL authenticates
 * (PLAIN checks the same credentials), over the gRPC port, which is how the first user of a
 * SASL-only cluster is made. The password is salted and hashed by the client; it never leaves it.
 */
@Command(name = "users", mixinStandardHelpOptions = true,
        description = "SCRAM users of the Kafka listener's SASL (kafka-configs --entity-type users).",
        subcommands = {UsersCommand.AddUser.class, UsersCommand.ListUsers.class, UsersCommand.DeleteUser.class})
final class UsersCommand implements Runnable {
    static final List<String> MECHANISMS = List.of("SCRAM-SHA-256", "SCRAM-SHA-512");

    @Spec
    CommandSpec spec;

    @ParentCommand
    RaftmqCli root;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a subcommand: add, list, delete");
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Sets a user's password (creates the user): a SCRAM credential per mechanism.")
    static final class AddUser implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ParentCommand
        UsersCommand users;

        @Mixin
        ConnectionOptions connection;

        @Option(names = "--user", required = true, description = "The user name (principal User:<name>).")
        String user;

        @Option(names = "--password", description = "The password (default: the first line of standard input).")
        String password;

        @Option(names = "--mechanism", description = "SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default: both).")
        List<String> mechanisms;

        @Option(names = "--iterations", defaultValue = "4096", description = "PBKDF2 iterations, 4096..16384"
                + " (default: ${DEFAULT-VALUE}).")
        int iterations;

        @Override
        public Integer call() {
            String secret = password != null ? password : firstLine(users.root);
            if (secret == null || secret.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no password: give --password or a"
                        + " line on standard input");
            }
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                // One request per mechanism: a request may alter a user once (Kafka's rule).
                for (String mechanism : mechanisms == null ? MECHANISMS : mechanisms) {
                    admin.upsertScramCredential(user, mechanism, iterations, secret);
                    out.println("Set the " + mechanism + " credential of user " + user + " (" + iterations
                            + " iterations).");
                }
            }
            out.flush();
            return 0;
        }

        private static String firstLine(RaftmqCli root) {
            try {
                return new BufferedReader(new InputStreamReader(root.in(), StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Users with their mechanisms and iterations (never a key).")
    static final class ListUsers implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ConnectionOptions connection;

        @Option(names = "--user", description = "Only these users (repeatable; an unknown one is an error).")
        List<String> only;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                Map<String, List<String[]>> described = admin.describeScramCredentials(
                        only == null ? List.of() : only);
                TableWriter table = new TableWriter("", "USER", "MECHANISM", "ITERATIONS");
                described.forEach((user, credentials) -> credentials.forEach(c -> table.row(user, c[0], c[1])));
                table.print(out);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Deletes a user's credentials (all, or --mechanism); a user without any is gone.")
    static final class DeleteUser implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ConnectionOptions connection;

        @Option(names = "--user", required = true, description = "The user name.")
        String user;

        @Option(names = "--mechanism", description = "SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default: every"
                + " credential the user has).")
        List<String> mechanisms;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (AdminCalls admin = connection.admin()) {
                List<String> which = mechanisms != null ? mechanisms : admin
                        .describeScramCredentials(List.of(user)).getOrDefault(user, List.of())
                        .stream().map(c -> c[0]).toList();
                for (String mechanism : which) {
                    admin.deleteScramCredential(user, mechanism);
                    out.println("Deleted the " + mechanism + " credential of user " + user + ".");
                }
            }
            out.flush();
            return 0;
        }
    }
}
