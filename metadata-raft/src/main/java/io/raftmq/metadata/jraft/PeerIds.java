package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.util.Endpoint;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.Voter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Maps between our voter node ids and JRaft's peer ids (the voters' Raft addresses). Immutable. */
final class PeerIds {
    private final Map<String, Integer> nodeIdsByAddress = new HashMap<>();
    private final Map<Integer, PeerId> peersByNodeId = new HashMap<>();

    PeerIds(List<Voter> voters) {
        for (Voter voter : voters) {
            PeerId peer = new PeerId(voter.host(), voter.port());
            nodeIdsByAddress.put(peer.getEndpoint().toString(), voter.nodeId());
            peersByNodeId.put(voter.nodeId(), peer);
        }
    }

    PeerId peerOf(int nodeId) {
        return peersByNodeId.get(nodeId);
    }

    /** The node id of a peer, or -1 for an empty or unknown peer. */
    int nodeIdOf(PeerId peer) {
        if (peer == null || peer.isEmpty()) {
            return LeaderAndEpoch.NO_LEADER;
        }
        return nodeIdsByAddress.getOrDefault(peer.getEndpoint().toString(), LeaderAndEpoch.NO_LEADER);
    }

    /** Every voter's Raft endpoint, by node id. */
    Map<Integer, Endpoint> endpoints() {
        Map<Integer, Endpoint> endpoints = new HashMap<>();
        peersByNodeId.forEach((id, peer) -> endpoints.put(id, peer.getEndpoint()));
        return endpoints;
    }

    Configuration configuration() {
        Configuration conf = new Configuration();
        peersByNodeId.values().forEach(conf::addPeer);
        return conf;
    }
}
