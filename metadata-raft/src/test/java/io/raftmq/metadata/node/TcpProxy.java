package io.raftmq.metadata.node;

import io.raftmq.common.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on a free 127.0.0.1 port to one target, for tests of broken connections: {@link
 * #resetAll()} resets every connection it relays, on both sides at once (as a middlebox or a
 * flapping link that sends RST would), while the proxy keeps accepting new ones.
 *
 * <p>Thread-safe. Each relayed connection uses two daemon threads, one per direction.
 */
final class TcpProxy implements AutoCloseable {
    private final HostPort target;
    private final ServerSocket server;
    private final Thread acceptor;
    private final AtomicInteger accepted = new AtomicInteger();
    // Guarded by this.
    private final List<Socket> open = new ArrayList<>();
    private volatile boolean closed;

    TcpProxy(HostPort target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
    }

    TcpProxy start() {
        acceptor.start();
        return this;
    }

    HostPort address() {
        return new HostPort("127.0.0.1", server.getLocalPort());
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** Resets every connection relayed now (RST to both peers); later ones are relayed as usual. */
    synchronized void resetAll() {
        for (Socket socket : open) {
            reset(socket);
        }
        open.clear();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        resetAll();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(target.host(), target.port()), 5_000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                synchronized (this) {
                    open.add(client);
                    open.add(upstream);
                }
                accepted.incrementAndGet();
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("tcp proxy to " + target + ": " + e);
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                }
            } catch (IOException endOfConnection) {
                // Reset or closed: the other direction ends too.
            } finally {
                reset(from);
                reset(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0); // close() then sends RST instead of FIN
        } catch (SocketException alreadyClosed) {
            // Nothing to reset.
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }
}
