package io.raftmq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code raftmq demo failover}: demonstrations that measure what they show. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Demonstrations.",
        subcommands = FailoverDemoCommand.class)
final class DemoCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a demo: failover");
    }
}
