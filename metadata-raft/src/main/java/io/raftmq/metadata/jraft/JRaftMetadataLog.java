package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.NodeManager;
import com.alipay.sofa.jraft.RaftServiceFactory;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.rpc.RpcServer;
import io.raftmq.common.FaultHandler;
import io.raftmq.metadata.jraft.rpc.RaftTransportNodeOptions;
import io.raftmq.metadata.jraft.rpc.RaftTransportOptions;
import io.raftmq.metadata.jraft.rpc.TlsRaftRpcServer;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.MetadataLog;
import io.raftmq.metadata.log.MetadataLogListener;
import io.raftmq.metadata.log.Voter;
import io.raftmq.protocol.metadata.MetadataBatch;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata log on SOFAJRaft: one Raft group of the controller voters, on raftmq's Raft
 * transport (gRPC with mutual TLS between voters, {@link TlsRaftRpcServer}) on each voter's Raft
 * port, and JRaft's RocksDB log storage under {@code dataDir} ({@link RocksDBLogStorageOptions}).
 * One committed Raft entry is one {@link MetadataBatch}; its Raft index is the batch's offset and
 * its Raft term the leader's epoch.
 *
 * <p>Life cycle: construct, {@link #start}, {@link #close}. {@link #append} and {@link
 * #leaderAndEpoch} are thread-safe; the listener is called on JRaft's FSM thread.
 */
public final class JRaftMetadataLog implements MetadataLog {
    private static final Logger LOG = LoggerFactory.getLogger(JRaftMetadataLog.class);
    static final String GROUP_ID = "raftmq-metadata";

    static {
        // sofa-common-tools (a JRaft dependency), when it finds logback, sets up its own log files
        // under ~/logs. JRaft logs what matters through SLF4J; keep them out of the home directory.
        // Must be set before its classes load (they load when a node starts).
        if (System.getProperty("sofa.middleware.log.disable") == null) {
            System.setProperty("sofa.middleware.log.disable", "true");
            // ...and keep it from printing a warning about exactly that on standard error.
            if (System.getProperty("sofa.middleware.log.internal.level") == null) {
                System.setProperty("sofa.middleware.log.internal.level", "ERROR");
            }
        }
    }

    private final JRaftOptions options;
    private final FaultHandler faultHandler;
    private final PeerIds peers;
    private final ExecutorService snapshotWriter;

    // Set by start (a single caller), read by any thread.
    private volatile TlsRaftRpcServer rpcServer;
    private volatile Node node;
    // Written on the FSM thread.
    private volatile LeaderAndEpoch leader = LeaderAndEpoch.UNKNOWN;
    private volatile boolean closed;

    public JRaftMetadataLog(JRaftOptions options, FaultHandler faultHandler) {
        this.options = options;
        this.faultHandler = faultHandler;
        this.peers = new PeerIds(options.voters());
        this.snapshotWriter = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metadata-snapshot-" + options.nodeId());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public int nodeId() {
        return options.nodeId();
    }

    @Override
    public List<Voter> voters() {
        return options.voters();
    }

    @Override
    public void start(MetadataLogListener listener) throws IOException {
        Path dir = options.dataDir();
        MetadataDirectories.createDurably(dir, MetadataDirectories.FSYNC);

        RaftOptions raftOptions = new RaftOptions();
        raftOptions.setMaxElectionDelayMs(options.maxElectionDelayMs());
        raftOptions.setSync(options.sync());
        // With syncMeta JRaft fsyncs raft_meta's directory after each rename of the term and vote,
        // before it answers a vote, and the snapshot directory after publishing a snapshot.
        raftOptions.setSyncMeta(options.sync());

        RaftTransportOptions transport = new RaftTransportOptions(options.nodeId(), peers.endpoints(),
                options.tls());
        NodeOptions nodeOptions = new RaftTransportNodeOptions(transport);
        nodeOptions.setElectionTimeoutMs(options.electionTimeoutMs());
        nodeOptions.setRaftOptions(raftOptions);
        nodeOptions.setInitialConf(peers.configuration());
        // JRaft's RocksDB defaults would hold 32 MiB of memtable bloom filters resident per node.
        RocksDBLogStorageOptions.register();
        nodeOptions.setLogUri(dir.resolve("log").toString());
        nodeOptions.setRaftMetaUri(dir.resolve("raft_meta").toString());
        nodeOptions.setSnapshotUri(dir.resolve("snapshot").toString());
        nodeOptions.setSnapshotIntervalSecs(options.snapshotIntervalSecs());
        nodeOptions.setSnapshotLogIndexMargin(options.snapshotLogIndexMargin());
        nodeOptions.setEnableMetrics(false);
        // JRaft's own timers are hashed wheels ticking every millisecond, one thread each: four
        // threads waking 1000 times a second cost an idle node about a tenth of a core. The shared
        // timers are scheduled executors that sleep until a timeout is due (same timeouts).
        nodeOptions.setSharedElectionTimer(true);
        nodeOptions.setSharedVoteTimer(true);
        nodeOptions.setSharedStepDownTimer(true);
        nodeOptions.setSharedSnapshotTimer(true);
        nodeOptions.setFsm(new MetadataStateMachine(options.nodeId(), listener, faultHandler, peers,
                view -> leader = view, snapshotWriter));

        // Built by hand rather than with RaftGroupService.start(), because a node can become leader
        // inside init() (always, with a single voter): the controller appends from onLeaderStart,
        // so the node must be reachable through this.node before init() runs.
        PeerId self = peers.peerOf(options.nodeId());
        TlsRaftRpcServer server = TlsRaftRpcServer.forQuorum(transport);
        NodeManager.getInstance().addAddress(self.getEndpoint());
        rpcServer = server;
        Node created = RaftServiceFactory.createRaftNode(GROUP_ID, self);
        created.addReplicatorStateListener(new VoterReachabilityLog(options.nodeId(), peers));
        node = created;
        if (!created.init(nodeOptions)) {
            NodeManager.getInstance().removeAddress(self.getEndpoint());
            throw new IOException("node " + options.nodeId() + " could not start its metadata Raft node (see the log"
                    + " above)");
        }
        listen(server);
        LOG.info("[node {}] metadata Raft node started on {} with voters {} (election timeout {} ms + up to {} ms)",
                options.nodeId(), options.self().address(), options.voters(), options.electionTimeoutMs(),
                options.maxElectionDelayMs());
    }

    /**
     * Starts the Raft RPC server. Right after a restart (or a kill of the previous process) the
     * port can still be held for a moment: retry for a few seconds before giving up.
     */
    private void listen(RpcServer server) throws IOException {
        long deadlineMs = System.currentTimeMillis() + 3_000;
        while (true) {
            try {
                if (server.init(null)) {
                    return;
                }
            } catch (IllegalStateException e) {
                if (System.currentTimeMillis() > deadlineMs) {
                    IOException failure = new IOException("node " + options.nodeId() + " cannot listen on its Raft"
                            + " address " + options.self().address() + ": " + (e.getCause() != null ? e.getCause() : e), e);
                    try {
                        close();
                    } catch (RuntimeException closing) {
                        failure.addSuppressed(closing); // never hides why the node cannot start
                    }
                    throw failure;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting", e);
            }
        }
    }

    @Override
    public CompletableFuture<Long> append(long epoch, List<MetadataRecord> records) {
        CompletableFuture<Long> future = new CompletableFuture<>();
        Node current = node;
        if (current == null || closed) {
            future.completeExceptionally(new IllegalStateException(
                    "metadata log of node " + options.nodeId() + " is not running"));
            return future;
        }
        byte[] data = MetadataBatch.newBuilder().addAllRecords(records).build().toByteArray();
        current.apply(new Task(ByteBuffer.wrap(data), new AppendClosure(future), epoch));
        return future;
    }

    @Override
    public LeaderAndEpoch leaderAndEpoch() {
        return leader;
    }

    @Override
    public long voterConnectionLostAtMs(int voterId) {
        TlsRaftRpcServer server = rpcServer;
        return server == null ? -1 : server.voterConnections().lostAtMs(voterId);
    }

    /**
     * The voters in this node's Raft configuration (node ids, sorted), as JRaft's node has it.
     *
     * @throws IllegalStateException unless this voter leads the quorum
     */
    public List<Integer> raftVoterIds() {
        Node current = node;
        if (current == null || !current.isLeader()) {
            throw new IllegalStateException("node " + options.nodeId() + " does not lead the metadata quorum");
        }
        return current.listPeers().stream().map(peers::nodeIdOf).sorted().toList();
    }

    /** Saves a snapshot now (normally JRaft does this every snapshotIntervalSecs). */
    public CompletableFuture<Void> snapshot() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        Node current = node;
        if (current == null) {
            future.completeExceptionally(new IllegalStateException("metadata log is not running"));
            return future;
        }
        current.snapshot((Status status) -> {
            if (status.isOk()) {
                future.complete(null);
            } else {
                future.completeExceptionally(new IllegalStateException("metadata snapshot failed: " + status));
            }
        });
        return future;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RpcServer server = rpcServer;
        if (server != null) {
            try {
                server.shutdown();
            } catch (RuntimeException failed) {
                // The Raft node below must still be stopped, or it keeps the data directory.
                LOG.warn("[node {}] Raft RPC server did not stop cleanly: {}", options.nodeId(), failed.toString());
            }
        }
        Node current = node;
        if (current != null) {
            // A leader steps down at once, telling the most up-to-date follower to elect itself.
            current.shutdown();
            try {
                current.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            NodeManager.getInstance().removeAddress(peers.peerOf(options.nodeId()).getEndpoint());
        }
        snapshotWriter.shutdown();
        LOG.info("[node {}] metadata Raft node stopped", options.nodeId());
    }
}
