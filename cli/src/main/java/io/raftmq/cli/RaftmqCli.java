package io.raftmq.cli;

import io.raftmq.client.errors.RaftmqException;
import io.raftmq.protocol.Failures;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code raftmq} command: Kafka's command-line tools (kafka-topics, console producer and
 * consumer, kafka-consumer-groups, the perf tools) with Kafka's flags, on the raftmq client SDK.
 *
 * <p>Exit codes: 0 success; 1 an error the broker or the client reported ("Error: message" on
 * stderr, no stack trace); 2 a usage mistake (picocli's usage message). Standard input and the two
 * output streams are taken from here so that tests can drive a command in process.
 */
@Command(name = "raftmq", mixinStandardHelpOptions = true, versionProvider = RaftmqCli.Version.class,
        description = "Command line for a raftmq cluster (Kafka's tools and flags).",
        subcommands = {TopicsCommand.class, ConsoleProducerCommand.class, ConsoleConsumerCommand.class,
            GroupsCommand.class, ClusterCommand.class, AclsCommand.class, UsersCommand.class, PerfCommand.class,
            DemoCommand.class, HelpCommand.class})
public final class RaftmqCli implements Runnable {
    static final int EXIT_ERROR = 1;

    @Spec
    CommandSpec spec;

    private final InputStream in;

    RaftmqCli(InputStream in) {
        this.in = in;
    }

    InputStream in() {
        return in;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = execute(args, System.in, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line with the given streams; returns the exit code. */
    static int execute(String[] args, InputStream in, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(in);
        cli.setOut(out);
        cli.setErr(err);
        return cli.execute(args);
    }

    static CommandLine commandLine(InputStream in) {
        CommandLine cli = new CommandLine(new RaftmqCli(in));
        cli.setExecutionExceptionHandler(RaftmqCli::handleError);
        return cli;
    }

    /** A failure the user can act on prints its message; anything else is a bug and shows its trace. */
    private static int handleError(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        Throwable cause = Failures.unwrap(e);
        PrintWriter err = cli.getErr();
        if (cause instanceof RaftmqException || cause instanceof CliException) {
            err.println("Error: " + cause.getMessage());
        } else if (cause instanceof InterruptedException) {
            err.println("Error: interrupted");
        } else {
            err.println("Error: " + cause);
            cause.printStackTrace(err);
        }
        err.flush();
        return EXIT_ERROR;
    }

    /** The version from the jar's manifest (or "development" when run from classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RaftmqCli.class.getPackage().getImplementationVersion();
            return new String[] {"raftmq " + (v == null ? "development" : v)};
        }
    }
}
