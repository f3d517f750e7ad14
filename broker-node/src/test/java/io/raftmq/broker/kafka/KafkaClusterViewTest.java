package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * The cluster as Kafka clients see it, on hand-built images (brokers with and without a Kafka
 * endpoint, fenced, leaderless partitions): what a live test cluster cannot show while its brokers
 * register no Kafka endpoint, and what it shows only slowly (fencing).
 */
class KafkaClusterViewTest {
    private static final UUID TOPIC_ID = UUID.fromString("00000000-0000-0000-0000-00000000abcd");
    private static final String CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg";

    private static Endpoint endpoint(String listener, int port) {
        return Endpoint.newBuilder().setListener(listener).setHost("host-" + port).setPort(port).build();
    }

    /** A broker with a gRPC endpoint and, when {@code kafka}, a Kafka one on port 9000 + id. */
    private static BrokerRegistration broker(int id, boolean kafka, BrokerState state, String rack) {
        List<Endpoint> endpoints = new ArrayList<>();
        endpoints.add(endpoint("grpc", 7000 + id));
        if (kafka) {
            endpoints.add(endpoint(BrokerRegistration.KAFKA_LISTENER, 9000 + id));
        }
        return new BrokerRegistration(id, id, UUID.randomUUID(), endpoints, rack, state, 10);
    }

    private static MetadataImage image(ControllerRegistration controller, List<BrokerRegistration> brokers,
            List<PartitionRegistration> partitions) {
        Map<Integer, BrokerRegistration> byId = new HashMap<>();
        brokers.forEach(b -> byId.put(b.id(), b));
        TopicImage topic = new TopicImage("orders", TOPIC_ID, new TreeMap<>(), partitions);
        return new MetadataImage(100, byId, Map.of(TOPIC_ID, topic), Map.of("orders", TOPIC_ID), controller, 0,
                CLUSTER_ID);
    }

    private static ControllerRegistration controller(int id) {
        return new ControllerRegistration(id, 1, endpoint("grpc", 7000 + id));
    }

    /**
     * Brokers 1 and 2 serve Kafka (2 in rack "r2"), 3 has no Kafka endpoint, 4 serves Kafka but is
     * fenced. Partitions: 0 led by 1; 1 led by 3; 2 leaderless (only 4 in the ISR); 3 led by 2
     * with replica 4.
     */
    private static MetadataImage cluster(int activeController) {
        return image(controller(activeController), List.of(
                broker(1, true, BrokerState.UNFENCED, ""),
                broker(2, true, BrokerState.UNFENCED, "r2"),
                broker(3, false, BrokerState.UNFENCED, ""),
                broker(4, true, BrokerState.FENCED, "")), List.of(
                new PartitionRegistration(List.of(1, 2), List.of(1, 2), 1, 5, 7),
                new PartitionRegistration(List.of(3, 1), List.of(3, 1), 3, 2, 2),
                new PartitionRegistration(List.of(4), List.of(4), -1, 3, 4),
                new PartitionRegistration(List.of(2, 4), List.of(2), 2, 1, 1)));
    }

    private static MetadataResponsePartition partition(short version, MetadataImage image, int index) {
        MetadataResponsePartition p = KafkaClusterView.partition(version, image, image.topic("orders"), index);
        assertEquals(index, p.partitionIndex());
        return p;
    }

    @Test
    void reachableBrokersAreTheUnfencedOnesWithAKafkaEndpoint() {
        MetadataImage image = cluster(1);
        List<KafkaClusterView.KafkaBroker> live = KafkaClusterView.brokers(image, false);
        assertEquals(List.of(1, 2), live.stream().map(KafkaClusterView.KafkaBroker::id).toList());
        assertEquals(9002, live.get(1).endpoint().getPort());
        assertNull(live.get(0).rack(), "no rack is Kafka's null");
        assertEquals("r2", live.get(1).rack());
        assertEquals(List.of(1, 2, 4), KafkaClusterView.brokers(image, true).stream()
                .map(KafkaClusterView.KafkaBroker::id).toList());
    }

    @Test
    void controllerIdIsTheActiveControllerWhenReachableElseTheLowestReachableBroker() {
        assertEquals(2, KafkaClusterView.controllerId(cluster(2)));
        assertEquals(1, KafkaClusterView.controllerId(cluster(3)), "3 has no Kafka endpoint");
        assertEquals(1, KafkaClusterView.controllerId(cluster(4)), "4 is fenced");
        assertEquals(1, KafkaClusterView.controllerId(image(null, cluster(1).brokersSorted(), List.of())));
        assertEquals(-1, KafkaClusterView.controllerId(image(controller(3),
                List.of(broker(3, false, BrokerState.UNFENCED, "")), List.of())));
    }

    @Test
    void aReachableLeaderIsReportedWithItsEpochReplicasAndOfflineReplicas() {
        MetadataImage image = cluster(1);
        for (short version : new short[] {1, 5, 7, 13}) {
            MetadataResponsePartition p = partition(version, image, 0);
            assertEquals(Errors.NONE.code(), p.errorCode());
            assertEquals(1, p.leaderId());
            assertEquals(5, p.leaderEpoch());
            assertEquals(List.of(1, 2), p.replicaNodes());
            assertEquals(List.of(1, 2), p.isrNodes());
            assertEquals(List.of(), p.offlineReplicas());
        }
        MetadataResponsePartition withFencedReplica = partition((short) 13, image, 3);
        assertEquals(Errors.NONE.code(), withFencedReplica.errorCode());
        assertEquals(List.of(4), withFencedReplica.offlineReplicas());
    }

    @Test
    void aLeaderWithoutKafkaEndpointIsListenerNotFoundFromV6AndLeaderNotAvailableBefore() {
        MetadataImage image = cluster(1);
        MetadataResponsePartition v6 = partition((short) 6, image, 1);
        assertEquals(Errors.LISTENER_NOT_FOUND.code(), v6.errorCode());
        assertEquals(-1, v6.leaderId());
        assertEquals(2, v6.leaderEpoch());
        assertEquals(List.of(3, 1), v6.replicaNodes(), "v1+ lists every replica");
        MetadataResponsePartition v5 = partition((short) 5, image, 1);
        assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), v5.errorCode());
        assertEquals(-1, v5.leaderId());
    }

    @Test
    void aLeaderlessPartitionIsLeaderNotAvailableWithItsOfflineReplicas() {
        MetadataResponsePartition p = partition((short) 13, cluster(1), 2);
        assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), p.errorCode());
        assertEquals(-1, p.leaderId());
        assertEquals(3, p.leaderEpoch());
        assertEquals(List.of(4), p.isrNodes());
        assertEquals(List.of(4), p.offlineReplicas());
    }

    @Test
    void v0ListsOnlyReachableReplicasAndSaysReplicaNotAvailable() {
        MetadataImage image = cluster(1);
        MetadataResponsePartition p = partition((short) 0, image, 3);
        assertEquals(Errors.REPLICA_NOT_AVAILABLE.code(), p.errorCode());
        assertEquals(2, p.leaderId());
        assertEquals(List.of(2), p.replicaNodes());
        assertEquals(Errors.NONE.code(), partition((short) 0, image, 0).errorCode());
    }

    @Test
    void authorizedOperationsAreEveryOperationTheResourceSupportsAsWithoutAnAuthorizer() {
        assertEquals(Set.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE,
                AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS),
                operations(KafkaClusterView.TOPIC_OPERATIONS));
        assertEquals(Set.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE),
                operations(KafkaClusterView.CLUSTER_OPERATIONS));
    }

    private static Set<AclOperation> operations(int bitField) {
        Set<AclOperation> out = new HashSet<>();
        Utils.from32BitField(bitField).forEach(code -> out.add(AclOperation.fromCode(code)));
        return out;
    }

    @Test
    void describeClusterListsBrokersAtEachVersionAndFencedOnesWhenAskedAtV2() {
        MetadataImage image = cluster(2);
        for (short version = 0; version <= 2; version++) {
            DescribeClusterResponseData r = describe(version, new DescribeClusterRequestData(), image);
            assertEquals(Errors.NONE.code(), r.errorCode());
            assertEquals(List.of(1, 2), r.brokers().stream()
                    .map(DescribeClusterResponseData.DescribeClusterBroker::brokerId).toList());
            assertEquals("host-9002", r.brokers().find(2).host());
            assertEquals("r2", r.brokers().find(2).rack());
            assertEquals(2, r.controllerId());
            assertEquals(CLUSTER_ID, r.clusterId());
            assertEquals(KafkaClusterView.OPERATIONS_NOT_ASKED, r.clusterAuthorizedOperations());
        }
        DescribeClusterResponseData fenced = describe((short) 2, new DescribeClusterRequestData()
                .setIncludeFencedBrokers(true).setIncludeClusterAuthorizedOperations(true), image);
        assertEquals(List.of(1, 2, 4), fenced.brokers().stream()
                .map(DescribeClusterResponseData.DescribeClusterBroker::brokerId).toList());
        assertTrue(fenced.brokers().find(4).isFenced());
        assertEquals(KafkaClusterView.CLUSTER_OPERATIONS, fenced.clusterAuthorizedOperations());
    }

    @Test
    void describeClusterRefusesControllersAndUnknownEndpointTypesAsAKafkaBrokerDoes() {
        MetadataImage image = cluster(1);
        DescribeClusterResponseData controllers = describe((short) 1, new DescribeClusterRequestData()
                .setEndpointType((byte) 2), image);
        assertEquals(Errors.MISMATCHED_ENDPOINT_TYPE.code(), controllers.errorCode());
        assertTrue(controllers.errorMessage().contains("bootstrap.servers"), controllers.errorMessage());
        assertTrue(controllers.brokers().isEmpty());
        DescribeClusterResponseData unknown = describe((short) 2, new DescribeClusterRequestData()
                .setEndpointType((byte) 7), image);
        assertEquals(Errors.UNSUPPORTED_ENDPOINT_TYPE.code(), unknown.errorCode());
        assertTrue(unknown.errorMessage().contains("7"), unknown.errorMessage());
    }

    private static DescribeClusterResponseData describe(short version, DescribeClusterRequestData request,
            MetadataImage image) {
        return (DescribeClusterResponseData) KafkaWire.onTheWire(MetadataHandler.describeCluster(version, request,
                image), version);
    }
}
