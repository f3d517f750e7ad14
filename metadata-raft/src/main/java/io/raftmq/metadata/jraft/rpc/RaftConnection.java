package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.rpc.Connection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One accepted TLS connection of a voter's Raft server, as JRaft sees it: attributes JRaft's
 * processors keep per connection (AppendEntries keys its ordered pipeline on the connection), and
 * the voter whose certificate the connection presented.
 *
 * <p>{@link #close} resets the connection for JRaft (its AppendEntries processor does so when a
 * peer's pipeline overflows): the connection's listeners are told at once, every later call on it
 * is answered ABORTED, and {@link TlsRaftRpcClient} answers ABORTED by closing its channel, so the
 * next request opens a new connection with a new pipeline. Thread-safe.
 */
final class RaftConnection implements Connection {
    private final int peerNodeId;
    private final String remoteAddress;
    private final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean refusalLogged = new AtomicBoolean();
    private final Consumer<RaftConnection> onClose;

    /** @param onClose told once, on {@link #close} or when the transport ends, whichever is first */
    RaftConnection(int peerNodeId, String remoteAddress, Consumer<RaftConnection> onClose) {
        this.peerNodeId = peerNodeId;
        this.remoteAddress = remoteAddress;
        this.onClose = onClose;
    }

    /** The voter whose certificate this connection presented; -1 if none did (then nothing is served). */
    int peerNodeId() {
        return peerNodeId;
    }

    String remoteAddress() {
        return remoteAddress;
    }

    boolean isClosed() {
        return closed.get();
    }

    /** True the first time only: a connection's refused requests are logged once. */
    boolean firstRefusal() {
        return refusalLogged.compareAndSet(false, true);
    }

    @Override
    public Object getAttribute(String key) {
        return attributes.get(key);
    }

    @Override
    public void setAttribute(String key, Object value) {
        attributes.put(key, value);
    }

    @Override
    public Object setAttributeIfAbsent(String key, Object value) {
        return attributes.putIfAbsent(key, value);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.accept(this);
        }
    }

    @Override
    public String toString() {
        return "Raft connection from node " + peerNodeId + " at " + remoteAddress;
    }
}
