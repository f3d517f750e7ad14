package io.raftmq.node;

import io.raftmq.common.FaultHandler;
import io.raftmq.common.Time;
import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.config.ConfigKey;
import io.raftmq.common.config.ConfigSources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node process: {@code java -jar raftmq-node.jar [path/to/node.properties]}. Every key can
 * also come from the environment ({@code RAFTMQ_NODE_ID} for {@code node.id}), which overrides the
 * file; with no file, the environment alone configures the node. SIGTERM (or Ctrl-C) stops it
 * cleanly; a configuration error exits with status 2 and a message naming the key.
 */
public final class RaftmqNode {
    private RaftmqNode() {}

    public static void main(String[] args) {
        // Before any protobuf class loads: jraft's pre-22 protobuf gencode would otherwise print a
        // multi-line warning per message type at start.
        System.setProperty("com.google.protobuf.use_unsafe_pre22_gencode", "true");
        if (args.length > 1 || (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help")))) {
            usage();
            System.exit(args.length > 1 ? 2 : 0);
        }
        NodeConfig config;
        try {
            config = load(args.length == 1 ? Path.of(args[0]) : null, System.getenv());
        } catch (ConfigException | IOException e) {
            System.err.println("raftmq: " + e.getMessage());
            System.exit(2);
            return;
        }
        // JRaft answers SIGUSR2 (also the signal JFR samples threads with) by writing state dumps into
        // the working directory; keep them with the node's data instead.
        String dumps = config.dataDir().resolve("jraft-dumps").toAbsolutePath().toString();
        for (String key : new String[] {"jraft.signal.node.describe.dir", "jraft.signal.node.metrics.dir",
                "jraft.signal.thread.pool.metrics.dir"}) {
            if (System.getProperty(key) == null) {
                System.setProperty(key, dumps);
            }
        }
        Logger log = LoggerFactory.getLogger(RaftmqNode.class);
        config.unknownKeys().forEach(k -> log.warn("[node {}] unknown config key '{}' is ignored", config.nodeId(), k));
        RaftmqServer server = new RaftmqServer(config, Time.SYSTEM,
                FaultHandler.haltingProcess("node " + config.nodeId()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            server.start();
        } catch (Exception e) {
            log.error("[node {}] failed to start: {}", config.nodeId(), e.getMessage(), e);
            System.err.println("raftmq: node " + config.nodeId() + " failed to start: " + e.getMessage());
            System.exit(1);
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The node's configuration from {@code file} (may be null) overridden by {@code env}. */
    static NodeConfig load(Path file, Map<String, String> env) throws IOException {
        List<ConfigKey<?>> keys = NodeConfig.allKeys();
        Map<String, String> fileValues = new HashMap<>();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new IOException("config file " + file + " does not exist");
            }
            fileValues = ConfigSources.readProperties(file);
        }
        return new NodeConfig(new Config(ConfigSources.withEnvironment(fileValues, keys, env), keys));
    }

    private static void usage() {
        StringBuilder text = new StringBuilder("usage: java -jar raftmq-node.jar [node.properties]\n\n"
                + "Every setting can be given in the file or as an environment variable:\n\n");
        for (ConfigKey<?> key : NodeConfig.allKeys()) {
            text.append(String.format("  %-38s %s%n      %s (default: %s)%n", key.name(), key.envName(), key.doc(),
                    key.defaultValue() == null ? "required" : key.defaultValue()));
        }
        System.out.print(text);
    }
}
