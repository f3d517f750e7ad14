package io.raftmq.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One in-process run of the raftmq command: its exit code and what it printed. */
record CliRun(int exitCode, String out, String err) {
    /**
     * Node settings for command tests, which are not about failover: on a machine loaded by other
     * work the default 300 ms election timeout and 600 ms broker session let the controller change
     * or a broker be fenced in the middle of a test, and a create retried across a controller change
     * answers "already exists". Longer timeouts keep the cluster steady.
     */
    static final Map<String, String> STEADY_CLUSTER = Map.of("controller.election.timeout.ms", "1500",
            "broker.session.timeout.ms", "6000", "broker.heartbeat.interval.ms", "500");

    static CliRun run(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RaftmqCli.execute(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
