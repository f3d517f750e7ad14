package io.raftmq.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the kcat binary (librdkafka's command-line client), for tests that check a non-Java Kafka
 * client against the listener; {@link #isInstalled()} says whether the machine has one.
 */
final class Kcat {
    private static final Path BINARY = Path.of("/usr/bin/kcat");

    private Kcat() {}

    static boolean isInstalled() {
        return Files.isExecutable(BINARY);
    }

    /**
     * Whether this kcat's librdkafka builds SCRAM's client-final message right (2.6.1 and later):
     * older ones repeat the client nonce, which Kafka 4's SCRAM server (and so raftmq's) refuses,
     * as RFC 5802 requires.
     */
    static boolean scramAcceptedByKafka4() throws IOException, InterruptedException {
        Process process = new ProcessBuilder(BINARY.toString(), "-V").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(10, TimeUnit.SECONDS);
        Matcher version = Pattern.compile("librdkafka (\\d+)\\.(\\d+)\\.(\\d+)").matcher(output);
        if (!version.find()) {
            throw new IOException("no librdkafka version in kcat -V: " + output);
        }
        int major = Integer.parseInt(version.group(1));
        int minor = Integer.parseInt(version.group(2));
        int patch = Integer.parseInt(version.group(3));
        return major > 2 || (major == 2 && (minor > 6 || (minor == 6 && patch >= 1)));
    }

    /**
     * Runs kcat with {@code args}, {@code input} on its standard input, and returns its standard
     * output once it exits 0 within {@code timeoutSec}.
     *
     * @throws IOException with its output when it fails or runs too long
     */
    static String run(List<String> args, String input, long timeoutSec) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(BINARY.toString());
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        boolean exited = process.waitFor(timeoutSec, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited || process.exitValue() != 0) {
            throw new IOException("kcat " + args + (exited ? " exited " + process.exitValue()
                    : " ran over " + timeoutSec + " s") + ": " + output);
        }
        return output;
    }
}
