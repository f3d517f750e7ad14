package io.raftmq.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.GroupCoordinatorGrpc;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaGrpc;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeOnlyMethodsTest {
    private final NodeOnlyMethods methods = NodeOnlyMethods.standard();

    @Test
    void everyMethodOfTheClientServicesIsOpenToClients() {
        for (ServiceDescriptor service : List.of(BrokerGrpc.getServiceDescriptor(),
                GroupCoordinatorGrpc.getServiceDescriptor(), AuthenticationGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                assertTrue(methods.isClientMethod(method.getFullMethodName()), method.getFullMethodName());
            }
        }
    }

    @Test
    void everyMethodOfTheInternalServicesIsListedAsNodeOnly() {
        for (ServiceDescriptor service : List.of(ControllerGrpc.getServiceDescriptor(),
                ReplicaGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                String name = method.getFullMethodName();
                assertTrue(methods.isClassified(name) && !methods.isClientMethod(name),
                        name + " must be listed in NodeOnlyMethods as node-only");
            }
        }
    }

    @Test
    void anUnlistedMethodIsNotOpenToClients() {
        assertFalse(methods.isClientMethod("raftmq.controller.v1.Controller/SomethingNew"));
        assertFalse(methods.isClassified("raftmq.controller.v1.Controller/SomethingNew"));
    }

    @Test
    void theBrokerIdARequestClaimsIsReadFromIt() {
        assertEquals(3, methods.claimedNodeId(ControllerGrpc.getBrokerHeartbeatMethod().getFullMethodName(),
                BrokerHeartbeatRequest.newBuilder().setBrokerId(3).build()));
        assertEquals(2, methods.claimedNodeId(ControllerGrpc.getAlterPartitionMethod().getFullMethodName(),
                AlterPartitionRequest.newBuilder().setBrokerId(2).build()));
        assertEquals(1, methods.claimedNodeId(ReplicaGrpc.getReplicaFetchStreamMethod().getFullMethodName(),
                ReplicaFetchRequest.newBuilder().setReplicaId(1).build()));
        assertEquals(NodeOnlyMethods.NO_CLAIM, methods.claimedNodeId(
                ControllerGrpc.getWatchMetadataMethod().getFullMethodName(),
                WatchMetadataRequest.newBuilder().setWatcherId(-1).build()));
        assertEquals(NodeOnlyMethods.NO_CLAIM, methods.claimedNodeId(
                ControllerGrpc.getCreateTopicsMethod().getFullMethodName(), CreateTopicsRequest.getDefaultInstance()));
    }
}
