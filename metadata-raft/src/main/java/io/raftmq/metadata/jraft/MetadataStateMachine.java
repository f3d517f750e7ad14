package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import com.google.protobuf.InvalidProtocolBufferException;
import io.raftmq.common.FaultHandler;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.MetadataLogListener;
import io.raftmq.metadata.log.SnapshotSource;
import io.raftmq.protocol.metadata.MetadataBatch;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JRaft state machine: decodes each committed entry and hands it to the {@link
 * MetadataLogListener}; turns JRaft's leadership callbacks into {@link LeaderAndEpoch} changes;
 * saves and loads snapshots through the listener.
 *
 * <p>Every callback runs on JRaft's FSM-caller thread, one at a time, in log order. An entry that
 * cannot be decoded or replayed goes to the {@link FaultHandler} (which halts the process) and puts
 * the node into JRaft's error state: it is never skipped.
 */
final class MetadataStateMachine extends StateMachineAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

    private final int nodeId;
    private final MetadataLogListener listener;
    private final FaultHandler faultHandler;
    private final PeerIds peers;
    private final Consumer<LeaderAndEpoch> leaderView;
    private final ExecutorService snapshotWriter;
    // FSM thread only: the highest epoch seen, for "leader stopped" (JRaft does not pass the term).
    private long lastEpoch;

    MetadataStateMachine(int nodeId, MetadataLogListener listener, FaultHandler faultHandler, PeerIds peers,
            Consumer<LeaderAndEpoch> leaderView, ExecutorService snapshotWriter) {
        this.nodeId = nodeId;
        this.listener = listener;
        this.faultHandler = faultHandler;
        this.peers = peers;
        this.leaderView = leaderView;
        this.snapshotWriter = snapshotWriter;
    }

    @Override
    public void onApply(Iterator iter) {
        while (iter.hasNext()) {
            long index = iter.getIndex();
            Closure done = iter.done();
            List<MetadataRecord> records;
            try {
                records = MetadataBatch.parseFrom(iter.getData()).getRecordsList();
            } catch (InvalidProtocolBufferException e) {
                faultHandler.handleFault("node " + nodeId + " cannot decode the metadata entry at index " + index, e);
                iter.setErrorAndRollback(1, new Status(RaftError.ESTATEMACHINE,
                        "undecodable metadata entry at index %d: %s", index, e.getMessage()));
                return;
            }
            try {
                listener.handleCommit(index, records);
            } catch (RuntimeException e) {
                // The listener has reported the fault; stop applying.
                iter.setErrorAndRollback(1, new Status(RaftError.ESTATEMACHINE,
                        "metadata entry at index %d failed to replay: %s", index, e.getMessage()));
                return;
            }
            if (done != null) {
                ((AppendClosure) done).committedAt(index);
                done.run(Status.OK());
            }
            iter.next();
        }
    }

    @Override
    public void onLeaderStart(long term) {
        changeLeader(new LeaderAndEpoch(nodeId, term));
    }

    @Override
    public void onLeaderStop(Status status) {
        changeLeader(new LeaderAndEpoch(LeaderAndEpoch.NO_LEADER, currentEpoch()));
    }

    @Override
    public void onStartFollowing(LeaderChangeContext ctx) {
        changeLeader(new LeaderAndEpoch(peers.nodeIdOf(ctx.getLeaderId()), ctx.getTerm()));
    }

    @Override
    public void onStopFollowing(LeaderChangeContext ctx) {
        changeLeader(new LeaderAndEpoch(LeaderAndEpoch.NO_LEADER, ctx.getTerm()));
    }

    private long currentEpoch() {
        return lastEpoch;
    }

    private void changeLeader(LeaderAndEpoch leader) {
        lastEpoch = Math.max(lastEpoch, leader.epoch());
        leaderView.accept(leader);
        listener.handleLeaderChange(leader);
    }

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        SnapshotSource source = listener.snapshotSource();
        Path file = Paths.get(writer.getPath(), SnapshotFile.NAME);
        snapshotWriter.execute(() -> {
            try {
                SnapshotFile.write(file, source.offset(), source.records().get());
                if (!writer.addFile(SnapshotFile.NAME)) {
                    done.run(new Status(RaftError.EIO, "could not add %s to the snapshot", SnapshotFile.NAME));
                    return;
                }
                LOG.info("[node {}] saved metadata snapshot at offset {}", nodeId, source.offset());
                done.run(Status.OK());
            } catch (Exception e) {
                LOG.error("[node {}] failed to save the metadata snapshot at offset {}", nodeId, source.offset(), e);
                done.run(new Status(RaftError.EIO, "failed to save metadata snapshot: %s", e.getMessage()));
            }
        });
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        if (reader.getFileMeta(SnapshotFile.NAME) == null) {
            faultHandler.handleFault("node " + nodeId + ": the metadata snapshot in " + reader.getPath()
                    + " has no " + SnapshotFile.NAME);
            return false;
        }
        SnapshotFile.Contents contents;
        try {
            contents = SnapshotFile.read(Paths.get(reader.getPath(), SnapshotFile.NAME));
        } catch (Exception e) {
            faultHandler.handleFault("node " + nodeId + " cannot read the metadata snapshot in " + reader.getPath(), e);
            return false;
        }
        try {
            listener.handleSnapshot(contents.offset(), contents.records());
        } catch (RuntimeException e) {
            return false; // the listener has reported the fault
        }
        return true;
    }

    @Override
    public void onError(RaftException e) {
        faultHandler.handleFault("node " + nodeId + ": the metadata Raft node failed: " + e.getStatus(), e);
    }
}
