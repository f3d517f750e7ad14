package io.raftmq.metadata.controller;

/**
 * One network connection that a client opened to this node, as the transport layer names it: a
 * request carries the connection it arrived over, and the transport marks the connection closed
 * when it ends (the peer closed it, or its process died and the kernel closed it). The object is
 * the identity: one per accepted connection, so a remote address reused by a later connection is a
 * different connection.
 *
 * <p>Thread-safe: the transport's thread marks it closed once; any thread may read.
 */
public final class ClientConnection {
    private final String remoteAddress;
    private volatile boolean closed;

    /** @param remoteAddress the peer's address, for log lines (e.g. "127.0.0.1:51234") */
    public ClientConnection(String remoteAddress) {
        this.remoteAddress = remoteAddress;
    }

    public String remoteAddress() {
        return remoteAddress;
    }

    /** Whether the transport has reported the connection closed. */
    public boolean isClosed() {
        return closed;
    }

    /** Called by the transport once the connection has ended, before it tells anyone. */
    public void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        return remoteAddress + (closed ? " (closed)" : "");
    }
}
