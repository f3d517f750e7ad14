package io.raftmq.node.grpc;

import io.grpc.MethodDescriptor;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaGrpc;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The one list of which gRPC methods a node serves to clients and which only to other nodes, and,
 * for a node-only method whose request names a broker, how to read that id.
 *
 * <p>Client methods: the Broker, GroupCoordinator and Authentication services (what the SDK and
 * the CLI call).
 * Node-only: the whole Controller service (brokers register, heartbeat, report ISR changes, take
 * producer id blocks, watch the metadata, and forward their clients' admin requests to it; a node
 * probes the voters with DescribeCluster) and the whole Replica service (followers fetch from
 * leaders). A method in neither list is treated as node-only without a claim: a new method is
 * closed to clients until it is listed ({@code NodeOnlyMethodsTest} checks every method is).
 *
 * <p>Immutable; thread-safe.
 */
final class NodeOnlyMethods {
    /** What {@link #claimedNodeId} answers for a request that names no broker. */
    static final int NO_CLAIM = -1;

    private final Set<String> clientMethods = new HashSet<>();
    // Full method name -> the broker id its request claims to come from (NO_CLAIM: none).
    private final Map<String, ToIntFunction<Object>> nodeOnlyMethods = new HashMap<>();

    private NodeOnlyMethods() {}

    static NodeOnlyMethods standard() {
        NodeOnlyMethods methods = new NodeOnlyMethods();
        BrokerGrpc.getServiceDescriptor().getMethods().forEach(methods::client);
        GroupCoordinatorGrpc.getServiceDescriptor().getMethods().forEach(methods::client);
        // SaslAuthenticate: served (on a SASL_SSL port) before the caller has any principal.
        AuthenticationGrpc.getServiceDescriptor().getMethods().forEach(methods::client);

        methods.node(ControllerGrpc.getRegisterBrokerMethod(), RegisterBrokerRequest::getBrokerId);
        methods.node(ControllerGrpc.getBrokerHeartbeatMethod(), BrokerHeartbeatRequest::getBrokerId);
        methods.node(ControllerGrpc.getAlterPartitionMethod(), AlterPartitionRequest::getBrokerId);
        methods.node(ControllerGrpc.getAllocateProducerIdsMethod(), AllocateProducerIdsRequest::getBrokerId);
        // watcher_id is -1 for a watcher that is no broker (a controller-only node's tools).
        methods.node(ControllerGrpc.getWatchMetadataMethod(), WatchMetadataRequest::getWatcherId);
        // Forwarded by brokers for their clients (who call the Broker service's twins).
        methods.node(ControllerGrpc.getCreateTopicsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDeleteTopicsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getCreatePartitionsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getAlterConfigsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getElectLeadersMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDescribeClusterMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDescribeTopicsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getCreateAclsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDeleteAclsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDescribeAclsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getAlterUserScramCredentialsMethod(), r -> NO_CLAIM);
        methods.node(ControllerGrpc.getDescribeUserScramCredentialsMethod(), r -> NO_CLAIM);

        methods.node(ReplicaGrpc.getReplicaFetchMethod(), ReplicaFetchRequest::getReplicaId);
        methods.node(ReplicaGrpc.getReplicaFetchStreamMethod(), ReplicaFetchRequest::getReplicaId);
        return methods;
    }

    private void client(MethodDescriptor<?, ?> method) {
        clientMethods.add(method.getFullMethodName());
    }

    @SuppressWarnings("unchecked")
    private <Q> void node(MethodDescriptor<Q, ?> method, ToIntFunction<Q> claimedNodeId) {
        nodeOnlyMethods.put(method.getFullMethodName(), request -> claimedNodeId.applyAsInt((Q) request));
    }

    /** Whether any caller may call {@code fullMethodName}. */
    boolean isClientMethod(String fullMethodName) {
        return clientMethods.contains(fullMethodName);
    }

    /** Whether the list names {@code fullMethodName} at all (as a client or a node-only method). */
    boolean isClassified(String fullMethodName) {
        return clientMethods.contains(fullMethodName) || nodeOnlyMethods.containsKey(fullMethodName);
    }

    /**
     * The broker id a request of node-only method {@code fullMethodName} claims to come from, or
     * {@link #NO_CLAIM}.
     */
    int claimedNodeId(String fullMethodName, Object request) {
        ToIntFunction<Object> claim = nodeOnlyMethods.get(fullMethodName);
        return claim == null ? NO_CLAIM : claim.applyAsInt(request);
    }
}
