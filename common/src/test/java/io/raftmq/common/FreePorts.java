package io.raftmq.common;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports free on 127.0.0.1 right now, for servers a test starts. Each call returns a port not
 * returned before in this JVM, so two servers of one test never get the same one.
 *
 * <p>The ports come from below the kernel's ephemeral range ({@code net.ipv4.ip_local_port_range},
 * where the local ports of outgoing connections come from): a port from that range can be taken by
 * any process's next outgoing connection between its choice here and the server's bind, which made
 * a node fail to start with "Address already in use". Below it, only another server can take it.
 * The search starts at a random port, so concurrent test JVMs rarely probe the same ports.
 */
public final class FreePorts {
    /** The lowest port handed out: below it sit well-known services' ports. */
    static final int LOWEST = 10_000;
    /** Linux's default start of the ephemeral range, used when the kernel's cannot be read. */
    private static final int DEFAULT_EPHEMERAL_START = 32_768;
    private static final Set<Integer> GIVEN = new HashSet<>();

    private FreePorts() {}

    public static synchronized int next() {
        int end = ephemeralStart();
        int span = end - LOWEST;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = LOWEST + (start + i) % span;
            if (!GIVEN.contains(port) && bindable(port)) {
                GIVEN.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port between " + LOWEST + " and " + end);
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    /** The first port of the kernel's ephemeral range (Linux), or {@link #DEFAULT_EPHEMERAL_START}. */
    static int ephemeralStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int start = Integer.parseInt(range.split("\\s+")[0]);
            return start > LOWEST + 1_000 ? start : DEFAULT_EPHEMERAL_START;
        } catch (IOException | RuntimeException unreadable) {
            return DEFAULT_EPHEMERAL_START;
        }
    }
}
