package io.raftmq.node;

import io.raftmq.common.FaultHandler;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.controller.BrokerDescription;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node from serving with a data directory that is not its own, or with one that lost what
 * it promised the metadata quorum.
 *
 * <p>At start ({@link #verifyAtStart}), before the node joins the quorum:
 * <ul>
 *   <li>{@code meta.properties} names another node id: refused.
 *   <li>It names a cluster id (the node took part in that cluster) but this voter's metadata
 *       directory is empty: its Raft log and vote are lost; refused.
 *   <li>There is no {@code meta.properties} and nothing else in the directory (a new node, or a
 *       wiped one) and the node is a voter: it asks the other voters (bounded). If they already
 *       form a cluster that knows this node (its broker registered there; for a controller-only
 *       node any cluster), the data was wiped; refused.
 *   <li>Each refusal names the recovery: start once with {@code
 *       metadata.recovery.allow.empty=true} (README, "Recovering a wiped node").
 * </ul>
 * Then {@code meta.properties} is written with the node id (existing directories from before it
 * existed are adopted).
 *
 * <p>While running ({@link #onImage}): the first image with a cluster id writes it into {@code
 * meta.properties}; an image of another cluster than the one recorded is a fault (the node halts).
 *
 * <p>Threads: {@link #verifyAtStart} on the node's start thread, before anything else uses it;
 * {@link #onImage} from the controller's apply thread and the broker's metadata thread, serialized
 * by this object's lock, which guards {@code meta}.
 */
final class DataDirIdentity {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirIdentity.class);

    /** A start refused: the data directory is not this node's, or lost its Raft state. */
    static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    private final int nodeId;
    private final Path dataDir;
    private final FaultHandler faultHandler;
    // Guarded by this.
    private MetaProperties meta;

    DataDirIdentity(int nodeId, Path dataDir, FaultHandler faultHandler) {
        this.nodeId = nodeId;
        this.dataDir = dataDir;
        this.faultHandler = faultHandler;
    }

    /**
     * @param controller whether this node is a voter (its Raft state is in {@code metadataDir})
     * @param broker whether this node also runs the broker role
     * @param allowEmpty {@code metadata.recovery.allow.empty}: the operator says an empty voter may join
     * @param voters asks the other voters; called only for an empty data directory of a voter
     * @throws RefusedException when the node must not start with this directory
     */
    synchronized void verifyAtStart(boolean controller, boolean broker, Path metadataDir, boolean allowEmpty,
            VoterProbe voters) throws IOException {
        MetaProperties found = MetaProperties.read(dataDir);
        if (found != null && found.nodeId() != nodeId) {
            throw new RefusedException(String.format("data.dir %s holds the data of node %d (meta.properties), but"
                    + " node.id is %d: point data.dir at node %d's directory, or fix node.id",
                    dataDir.toAbsolutePath(), found.nodeId(), nodeId, nodeId));
        }
        if (found != null && found.clusterId() != null && controller && isEmpty(metadataDir)) {
            refuseUnlessAllowed(allowEmpty, String.format("node %d was a voter of cluster %s (meta.properties), but"
                    + " its metadata directory %s is empty: its Raft log and vote are lost", nodeId,
                    found.clusterId(), metadataDir.toAbsolutePath()));
        }
        if (found == null && controller && isEmptyExceptLock(dataDir)) {
            for (DescribeClusterResponse answer : voters.describeCluster()) {
                if (answer.getClusterId().isEmpty()) {
                    continue; // a new cluster: no voter has decided anything yet
                }
                boolean known = !broker || answer.getBrokersList().stream()
                        .map(BrokerDescription::getBrokerId).anyMatch(id -> id == nodeId);
                if (known) {
                    refuseUnlessAllowed(allowEmpty, String.format("data.dir %s is empty, but node %d answers that"
                            + " the voters already form cluster %s%s: this node's data was lost",
                            dataDir.toAbsolutePath(), answer.getAnsweredBy(), answer.getClusterId(),
                            broker ? " in which broker " + nodeId + " is registered" : ""));
                    break;
                }
            }
        }
        meta = found != null ? found : new MetaProperties(nodeId, null);
        if (found == null) {
            meta.write(dataDir);
            LOG.info("[node {}] wrote {} in {} (node.id {})", nodeId, MetaProperties.FILE, dataDir.toAbsolutePath(),
                    nodeId);
        }
    }

    private void refuseUnlessAllowed(boolean allowEmpty, String problem) throws RefusedException {
        if (!allowEmpty) {
            throw new RefusedException(problem + ". Joining the quorum as an empty voter could lose committed"
                    + " metadata or elect two leaders; see README \"Recovering a wiped node\" (start once with"
                    + " metadata.recovery.allow.empty=true while the other voters are up)");
        }
        LOG.warn("[node {}] {}; starting anyway, as metadata.recovery.allow.empty=true says: it rejoins empty and"
                + " copies the metadata from the leader; remove the setting once it has caught up", nodeId, problem);
    }

    /**
     * Records the cluster id of a metadata image; a fault if it is not the one recorded before.
     * Never throws: its callers' threads apply metadata.
     */
    synchronized void onImage(MetadataImage image) {
        String clusterId = image.clusterId();
        if (clusterId == null || meta == null || clusterId.equals(meta.clusterId())) {
            return;
        }
        if (meta.clusterId() != null) {
            faultHandler.handleFault(String.format("node %d: data.dir %s belongs to cluster %s"
                    + " (meta.properties), but the metadata quorum is cluster %s", nodeId, dataDir.toAbsolutePath(),
                    meta.clusterId(), clusterId));
            return;
        }
        try {
            MetaProperties next = meta.withClusterId(clusterId);
            next.write(dataDir);
            meta = next;
            LOG.info("[node {}] recorded cluster id {} in {}", nodeId, clusterId, MetaProperties.FILE);
        } catch (IOException e) {
            faultHandler.handleFault("node " + nodeId + " could not record cluster id " + clusterId + " in "
                    + dataDir.resolve(MetaProperties.FILE) + ": " + e, e);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    /** Nothing but the lock file (taken before this check) and JRaft's dump directory. */
    private static boolean isEmptyExceptLock(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString())
                    .allMatch(n -> n.equals(".lock") || n.equals("jraft-dumps") || n.startsWith(MetaProperties.FILE));
        }
    }
}
