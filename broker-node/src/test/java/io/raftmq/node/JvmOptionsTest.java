package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every place that launches a node JVM makes it exit on OutOfMemoryError (a node that keeps running
 * after one keeps its leaderships with threads that died mid-request), also when the operator
 * replaces the JVM options.
 */
class JvmOptionsTest {
    private static final String EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError";

    private static Path repository() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("deploy/cluster.sh"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "the repository root (with deploy/cluster.sh) above " + Path.of("").toAbsolutePath());
        return dir;
    }

    /** The lines of {@code file} that start the node's jar. */
    private static List<String> launches(String file) throws IOException {
        List<String> lines = Files.readAllLines(repository().resolve(file)).stream()
                .filter(l -> l.contains("java ") && l.contains("-jar") && !l.trim().startsWith("#"))
                .toList();
        assertTrue(!lines.isEmpty(), "no java -jar line in " + file);
        return lines;
    }

    @Test
    void everyNodeLauncherExitsOnOutOfMemory() throws IOException {
        for (String file : List.of("deploy/cluster.sh", "deploy/docker/entrypoint.sh")) {
            for (String line : launches(file)) {
                assertTrue(line.contains("java " + EXIT_ON_OOM + " "), file + ": the flag is not given before the"
                        + " operator's options: " + line.trim());
            }
        }
        assertTrue(NodeProcessCluster.JVM_OPTIONS.contains(EXIT_ON_OOM), NodeProcessCluster.JVM_OPTIONS.toString());
    }
}
