package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.Replicator;
import com.alipay.sofa.jraft.entity.PeerId;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line when the leader loses contact with a voter and one when it regains it, in place of
 * JRaft's error line per retry (a few per second while a voter is down). A voter is unreachable
 * when a request to it fails (JRaft's ERROR event) and reachable again when its replicator next
 * replicates (ONLINE). JRaft's OFFLINE alone says nothing: it is the probe state every new
 * replicator starts in and that a log mismatch also leads to. Called by JRaft's replicators on the
 * leader, from JRaft threads; the unreachable voters are kept in a concurrent set, so that each
 * transition is logged once.
 */
final class VoterReachabilityLog implements Replicator.ReplicatorStateListener {
    private static final Logger LOG = LoggerFactory.getLogger(VoterReachabilityLog.class);

    private final int nodeId;
    private final PeerIds peers;
    private final Set<String> unreachable = ConcurrentHashMap.newKeySet();

    VoterReachabilityLog(int nodeId, PeerIds peers) {
        this.nodeId = nodeId;
        this.peers = peers;
    }

    @Override
    public void onCreated(PeerId peer) {
        unreachable.remove(peer.toString());
    }

    @Override
    public void onError(PeerId peer, Status status) {
        if (unreachable.add(peer.toString())) {
            LOG.warn("[node {}] metadata voter {} ({}) is unreachable: {}", nodeId, peers.nodeIdOf(peer),
                    peer.getEndpoint(), status == null ? "request failed" : status.getErrorMsg());
        }
    }

    @Override
    public void onDestroyed(PeerId peer) {
        unreachable.remove(peer.toString());
    }

    @Override
    public void stateChanged(PeerId peer, ReplicatorState newState) {
        if (newState == ReplicatorState.ONLINE && unreachable.remove(peer.toString())) {
            LOG.info("[node {}] metadata voter {} ({}) is reachable again", nodeId, peers.nodeIdOf(peer),
                    peer.getEndpoint());
        }
    }
}
