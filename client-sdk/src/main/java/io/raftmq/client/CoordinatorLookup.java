package io.raftmq.client;

import io.raftmq.protocol.broker.FindCoordinatorRequest;
import io.raftmq.protocol.broker.FindCoordinatorResponse;

/**
 * Finds a group's coordinator with FindCoordinator (any broker answers), retrying
 * COORDINATOR_NOT_AVAILABLE (e.g. while __consumer_offsets is being created) until the deadline.
 * Stateless; any thread.
 */
final class CoordinatorLookup {
    record Coordinator(int nodeId, BrokerAddress address) {}

    private final Rpc rpc;
    private final BrokerChannels channels;

    CoordinatorLookup(Rpc rpc, BrokerChannels channels) {
        this.rpc = rpc;
        this.channels = channels;
    }

    Coordinator find(String groupId, long deadlineMs) {
        FindCoordinatorResponse r = rpc.callAny("FindCoordinator for group '" + groupId + "'",
                (b, t) -> channels.group(b, t).findCoordinator(FindCoordinatorRequest.newBuilder().setGroupId(groupId)
                        .build()),
                FindCoordinatorResponse::getError, deadlineMs);
        return new Coordinator(r.getNodeId(), new BrokerAddress(r.getHost(), r.getPort()));
    }
}
