package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.util.Endpoint;
import io.raftmq.common.tls.NodeTls;
import java.util.Map;
import java.util.Optional;

/**
 * Who a voter is on the Raft transport and whom it talks to: its node id, every voter's Raft
 * endpoint (its own included) and its TLS identity and trust. A voter's certificate is
 * {@code CN=node-<id>} ({@link NodeTls#nodeIdOf}); the endpoint of that id is where the voter
 * listens and what it calls itself in the requests it sends ({@code serverId}). Immutable.
 *
 * @param nodeId this voter
 * @param voters every voter's Raft endpoint, by node id
 * @param tls this voter's key, certificate and the certificate authorities it trusts
 */
public record RaftTransportOptions(int nodeId, Map<Integer, Endpoint> voters, NodeTls tls) {

    public RaftTransportOptions {
        voters = Map.copyOf(voters);
        if (!voters.containsKey(nodeId)) {
            throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters);
        }
    }

    /** The voter listening at {@code endpoint}, if one does. */
    public Optional<Integer> voterAt(Endpoint endpoint) {
        return voters.entrySet().stream().filter(e -> e.getValue().equals(endpoint)).map(Map.Entry::getKey)
                .findFirst();
    }

    public Endpoint self() {
        return voters.get(nodeId);
    }
}
