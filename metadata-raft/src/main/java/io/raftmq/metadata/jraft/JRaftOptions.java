package io.raftmq.metadata.jraft;

import io.raftmq.common.config.ConfigException;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.metadata.log.Voter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a voter runs the metadata quorum on SOFAJRaft.
 *
 * @param nodeId this voter
 * @param voters every voter with its Raft address (this one included)
 * @param dataDir where the Raft log, its metadata and snapshots live
 * @param electionTimeoutMs a follower that hears nothing from the leader this long starts an
 *     election (the leader heartbeats every electionTimeoutMs / 10)
 * @param maxElectionDelayMs random extra delay, up to this, before an election; keeps voters from
 *     splitting the vote. JRaft's default of 1000 would add up to a second to every failover.
 * @param snapshotIntervalSecs how often to snapshot the image and truncate the log
 * @param snapshotLogIndexMargin a timed snapshot is skipped unless at least this many entries were
 *     applied since the last one (0: always take it). Whatever the margin, JRaft keeps the log back
 *     to the previous snapshot, so a voter that lags by less than one snapshot interval catches up
 *     from the log rather than by a snapshot transfer.
 * @param sync fsync the Raft log before acknowledging (keep true: metadata must not be lost)
 * @param tls this voter's certificate ({@code CN=node-<nodeId>}) and the CA it trusts: the Raft port
 *     speaks only mutual TLS between voters
 */
public record JRaftOptions(
        int nodeId,
        List<Voter> voters,
        Path dataDir,
        int electionTimeoutMs,
        int maxElectionDelayMs,
        int snapshotIntervalSecs,
        int snapshotLogIndexMargin,
        boolean sync,
        NodeTls tls) {

    public JRaftOptions {
        voters = List.copyOf(voters);
        Objects.requireNonNull(tls, "tls");
        if (!NodeTls.nodeIdOf(tls.certificate()).equals(Optional.of(nodeId))) {
            // The other voters would refuse it at every handshake; say why once, at start.
            throw new ConfigException(NodeTls.KEYSTORE_LOCATION.name(), tls.certificate().getSubjectX500Principal()
                    .getName(), "is not node " + nodeId + "'s certificate: a voter's certificate has the subject"
                    + " CN=" + NodeTls.commonNameOfNode(nodeId));
        }
        if (voters.stream().noneMatch(v -> v.nodeId() == nodeId)) {
            throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters);
        }
    }

    public Voter self() {
        return voters.stream().filter(v -> v.nodeId() == nodeId).findFirst().orElseThrow();
    }
}
