package io.raftmq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code raftmq perf produce|consume|e2e}: Kafka's perf tools, with output shaped like theirs. */
@Command(name = "perf", mixinStandardHelpOptions = true,
        description = "Throughput and latency tests (kafka-producer-perf-test, kafka-consumer-perf-test,"
                + " EndToEndLatency).",
        subcommands = {PerfProduceCommand.class, PerfConsumeCommand.class, PerfEndToEndCommand.class})
final class PerfCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose produce, consume or e2e");
    }
}
