package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.Replicator;
import com.alipay.sofa.jraft.entity.PeerId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line when the leader loses contact with a voter and one when it regains it, in place of
 * JRaft's error line per retry (a few per second while a voter is down). Called by JRaft's
 * replicators on the leader, from JRaft threads; the last state per voter is kept in a concurrent
 * map so that each transition is logged once.
 */
final class VoterReachabilityLog implements Replicator.ReplicatorStateListener {
    private static final Logger LOG = LoggerFactory.getLogger(VoterReachabilityLog.class);

    private final int nodeId;
    private final PeerIds peers;
    private final Map<String, ReplicatorState> lastState = new ConcurrentHashMap<>();

    VoterReachabilityLog(int nodeId, PeerIds peers) {
        this.nodeId = nodeId;
        this.peers = peers;
    }

    @Override
    public void onCreated(PeerId peer) {
        lastState.remove(peer.toString());
    }

    @Override
    public void onError(PeerId peer, Status status) {
        // Each failed send reports here; stateChanged says when the voter is offline as a whole.
    }

    @Override
    public void onDestroyed(PeerId peer) {
        lastState.remove(peer.toString());
    }

    @Override
    public void stateChanged(PeerId peer, ReplicatorState newState) {
        if (newState != ReplicatorState.ONLINE && newState != ReplicatorState.OFFLINE) {
            return;
        }
        ReplicatorState old = lastState.put(peer.toString(), newState);
        if (old == newState) {
            return;
        }
        if (newState == ReplicatorState.OFFLINE) {
            LOG.warn("[node {}] metadata voter {} ({}) is unreachable", nodeId, peers.nodeIdOf(peer), peer.getEndpoint());
        } else if (old == ReplicatorState.OFFLINE) {
            LOG.info("[node {}] metadata voter {} ({}) is reachable again", nodeId, peers.nodeIdOf(peer),
                    peer.getEndpoint());
        }
    }
}
