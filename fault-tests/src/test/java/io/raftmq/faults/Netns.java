package io.raftmq.faults;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One network namespace per node, joined by veth pairs to a bridge in the root namespace:
 * node N is 10.77.0.(10+N), the bridge (and so every client of the suite, which runs in the root
 * namespace) is 10.77.0.1. A node is started inside its namespace with {@link #commandPrefix} and
 * cut from another with nft rules inside its own namespace (table {@value #TABLE}), so a cut never
 * touches the clients' path to it nor the host's firewall. {@link #close()} deletes the namespaces
 * (with their rules and veth ends) and the bridge; a JVM shutdown hook does the same if the run dies,
 * and {@link #create} first removes what a killed earlier run left.
 *
 * <p>Threads: called from the test thread only.
 */
final class Netns implements AutoCloseable {
    static final String TABLE = "raftmqfault";
    private static final String BRIDGE = "rmqfbr0";
    private static final String PREFIX = "rmqf";

    private final int nodes;
    private final Thread hook = new Thread(this::close, "netns-cleanup");
    private boolean closed;

    private Netns(int nodes) {
        this.nodes = nodes;
    }

    static String ns(int node) {
        return PREFIX + "n" + node;
    }

    /** Creates the bridge and the namespaces; throws (after cleaning up) when the machine cannot. */
    static Netns create(int nodes) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IOException("network namespaces need root (running as " + System.getProperty("user.name") + ")");
        }
        Netns net = new Netns(nodes);
        net.close(); // what an earlier, killed run may have left
        net.closed = false;
        Runtime.getRuntime().addShutdownHook(net.hook);
        try {
            Commands.run(List.of("ip", "link", "add", BRIDGE, "type", "bridge"));
            Commands.run(List.of("ip", "addr", "add", "10.77.0.1/24", "dev", BRIDGE));
            Commands.run(List.of("ip", "link", "set", BRIDGE, "up"));
            for (int n = 1; n <= nodes; n++) {
                String ns = ns(n);
                String outside = PREFIX + "v" + n;
                String inside = PREFIX + "p" + n;
                Commands.run(List.of("ip", "netns", "add", ns));
                Commands.run(List.of("ip", "link", "add", outside, "type", "veth", "peer", "name", inside));
                Commands.run(List.of("ip", "link", "set", inside, "netns", ns));
                Commands.run(List.of("ip", "link", "set", outside, "master", BRIDGE, "up"));
                Commands.run(List.of("ip", "-n", ns, "addr", "add", host(n) + "/24", "dev", inside));
                Commands.run(List.of("ip", "-n", ns, "link", "set", inside, "up"));
                Commands.run(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
                Commands.run(List.of("ip", "netns", "exec", ns, "nft", "add", "table", "inet", TABLE));
                Commands.run(List.of("ip", "netns", "exec", ns, "nft", "add", "chain", "inet", TABLE, "out",
                        "{ type filter hook output priority 0; }"));
            }
        } catch (IOException e) {
            net.close();
            throw e;
        }
        return net;
    }

    static String host(int node) {
        return "10.77.0." + (10 + node);
    }

    /** What starts a process inside the node's namespace (ip netns exec execs it: same pid). */
    List<String> commandPrefix(int node) {
        return List.of("ip", "netns", "exec", ns(node));
    }

    /** Drops every packet node {@code from} sends to node {@code to} (one way). */
    void cut(int from, int to) throws IOException {
        Commands.run(List.of("ip", "netns", "exec", ns(from), "nft", "add", "rule", "inet", TABLE, "out", "ip",
                "daddr", host(to), "drop"));
    }

    /** Drops the packets node {@code from} sends to node {@code to}'s TCP port {@code port} (one way). */
    void cutPort(int from, int to, int port) throws IOException {
        Commands.run(List.of("ip", "netns", "exec", ns(from), "nft", "add", "rule", "inet", TABLE, "out", "ip",
                "daddr", host(to), "tcp", "dport", Integer.toString(port), "drop"));
    }

    /** Removes every cut. */
    void heal() throws IOException {
        for (int n = 1; n <= nodes; n++) {
            Commands.run(List.of("ip", "netns", "exec", ns(n), "nft", "flush", "chain", "inet", TABLE, "out"));
        }
    }

    /** The cuts in force, for the run's log. */
    String rules() {
        List<String> out = new ArrayList<>();
        for (int n = 1; n <= nodes; n++) {
            String ns = ns(n);
            try {
                String r = Commands.run(List.of("ip", "netns", "exec", ns, "nft", "list", "chain", "inet", TABLE,
                        "out"));
                r.lines().filter(l -> l.contains("drop")).forEach(l -> out.add(ns + ": " + l.trim()));
            } catch (IOException e) {
                out.add(ns + ": " + e.getMessage());
            }
        }
        return String.join("; ", out);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int n = 1; n <= nodes; n++) {
            Commands.quietly(List.of("ip", "netns", "del", ns(n)));
            Commands.quietly(List.of("ip", "link", "del", PREFIX + "v" + n));
        }
        Commands.quietly(List.of("ip", "link", "del", BRIDGE));
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // Shutting down already, or never registered.
            }
        }
    }
}
