package io.raftmq.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the suite's system commands (ip, nft, fusermount3) and says what failed. */
final class Commands {
    private Commands() {}

    /** Runs the command; throws with its output if it fails or takes over 20 s. */
    static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    /** Runs the command for cleanup: a failure is printed, not thrown. */
    static void quietly(List<String> command) {
        try {
            run(command);
        } catch (IOException e) {
            // Cleanup of something that may already be gone.
        }
    }
}
