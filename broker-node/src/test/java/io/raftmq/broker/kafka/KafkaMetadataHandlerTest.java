package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerApi;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata and DescribeCluster against three combined nodes in this JVM, through node 1's Kafka
 * APIs, every answer checked on the wire at its version. Brokers list (and leaders are reachable
 * at) the Kafka endpoints the brokers registered, as the image holds them ({@link
 * KafkaClusterViewTest} covers brokers with and without one on hand-built images).
 */
@Timeout(180)
class KafkaMetadataHandlerTest {
    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static KafkaWire wire;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of());
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        wire = new KafkaWire(api(), cluster.node(1).broker().groupCoordinator());
        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(30_000);
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("orders").setNumPartitions(3)
                .setReplicationFactor((short) 3));
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("payments").setNumPartitions(1)
                .setReplicationFactor((short) 2));
        CreateTopicsResponseData created = wire.call((short) 7, create);
        created.topics().forEach(t -> assertEquals(Errors.NONE.code(), t.errorCode(), t.errorMessage()));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private static BrokerApi api() {
        return cluster.node(1).broker().api();
    }

    private static MetadataResponseData metadata(short version, List<String> names, boolean allowAutoCreate)
            throws Exception {
        MetadataRequestData request = new MetadataRequestData();
        if (names == null) {
            request.setTopics(null);
        } else {
            names.forEach(n -> request.topics().add(new MetadataRequestTopic().setName(n)));
        }
        if (version >= 4) {
            request.setAllowAutoTopicCreation(allowAutoCreate);
        }
        return wire.call(version, request);
    }

    private static List<String> names(MetadataResponseData r) {
        return r.topics().stream().map(MetadataResponseTopic::name).sorted().toList();
    }

    /** The response's brokers and controller id are those of the image: reachable brokers only. */
    private static void assertBrokers(short version, MetadataResponseData r) {
        MetadataImage image = api().image();
        List<BrokerRegistration> reachable = image.brokersSorted().stream()
                .filter(b -> b.state() != BrokerState.FENCED && KafkaIds.kafkaEndpoint(b).isPresent()).toList();
        assertEquals(reachable.stream().map(BrokerRegistration::id).toList(),
                r.brokers().stream().map(MetadataResponseData.MetadataResponseBroker::nodeId).sorted().toList());
        for (BrokerRegistration b : reachable) {
            assertEquals(KafkaIds.kafkaEndpoint(b).orElseThrow().getPort(), r.brokers().find(b.id()).port());
        }
        if (version >= 1) {
            int expected = reachable.isEmpty() ? -1
                    : reachable.stream().anyMatch(b -> b.id() == image.controller().controllerId())
                            ? image.controller().controllerId() : reachable.get(0).id();
            assertEquals(expected, r.controllerId());
            // What Kafka's clients make of it: the controller is a node they know (else they wait).
            MetadataResponse parsed = new MetadataResponse(r, version);
            parsed.buildCluster();
            assertEquals(expected, parsed.controller() == null ? -1 : parsed.controller().id());
        }
        if (version >= 2) {
            assertEquals(api().image().clusterId(), r.clusterId());
            assertEquals(22, r.clusterId().length(), r.clusterId());
        }
    }

    /** A topic's partitions as the image has them; a leader without a Kafka endpoint is not reachable. */
    private static void assertTopic(short version, MetadataResponseTopic t) {
        TopicImage topic = api().image().topic(t.name());
        assertNotNull(topic, t.name());
        assertEquals(Errors.NONE.code(), t.errorCode());
        if (version >= 10) {
            assertEquals(KafkaIds.toKafka(topic.id()), t.topicId());
        }
        assertEquals(topic.numPartitions(), t.partitions().size());
        for (MetadataResponsePartition p : t.partitions()) {
            PartitionRegistration expected = topic.partition(p.partitionIndex());
            boolean reachable = KafkaIds.kafkaEndpoint(api().image().broker(expected.leader())).isPresent();
            assertEquals(reachable ? Errors.NONE.code() : version >= 6 ? Errors.LISTENER_NOT_FOUND.code()
                    : Errors.LEADER_NOT_AVAILABLE.code(), p.errorCode(), t.name() + "-" + p.partitionIndex());
            assertEquals(reachable ? expected.leader() : -1, p.leaderId());
            if (version >= 7) {
                assertEquals(expected.leaderEpoch(), p.leaderEpoch());
            }
            if (version > 0) {
                assertEquals(expected.replicas(), p.replicaNodes());
                assertEquals(expected.isr(), p.isrNodes());
            }
        }
    }

    @Test
    void everyTopicWhenTheListIsNullAndAtV0WhenItIsEmpty() throws Exception {
        for (short version : new short[] {1, 9, 13}) {
            MetadataResponseData r = metadata(version, null, true);
            assertTrue(names(r).containsAll(List.of("orders", "payments")), names(r).toString());
            r.topics().forEach(t -> assertTopic(version, t));
            assertBrokers(version, r);
        }
        MetadataResponseData v0 = metadata((short) 0, List.of(), true);
        assertTrue(names(v0).containsAll(List.of("orders", "payments")), names(v0).toString());
        v0.topics().forEach(t -> assertTopic((short) 0, t));
        assertBrokers((short) 0, v0);
    }

    @Test
    void namedTopicsOnlyAndNoneForAnEmptyListFromV1() throws Exception {
        for (short version : new short[] {1, 5, 7, 12, 13}) {
            MetadataResponseData r = metadata(version, List.of("payments", "payments"), true);
            assertEquals(List.of("payments"), names(r), "a repeated name is answered once");
            assertTopic(version, r.topics().find("payments"));
            assertFalse(r.topics().find("payments").isInternal());
            assertEquals(List.of(), names(metadata(version, List.of(), true)));
        }
    }

    @Test
    void aMissingTopicIsCreatedWhenAllowedAndAnsweredWithItsPartitions() throws Exception {
        MetadataResponseData refused = metadata((short) 13, List.of("auto-off"), false);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), refused.topics().find("auto-off").errorCode());
        assertEquals(Uuid.ZERO_UUID, refused.topics().find("auto-off").topicId());
        assertNull(api().image().topic("auto-off"), "not created");

        MetadataResponseData created = metadata((short) 13, List.of("auto-on"), true);
        assertTopic((short) 13, created.topics().find("auto-on"));
        assertEquals(1, created.topics().find("auto-on").partitions().size(), "num.partitions");
        // Before v4 a request cannot refuse auto-creation.
        MetadataResponseData v3 = metadata((short) 3, List.of("auto-v3"), true);
        assertTopic((short) 3, v3.topics().find("auto-v3"));
    }

    @Test
    void anInvalidNameIsInvalidTopicWhetherOrNotCreationIsAllowed() throws Exception {
        for (boolean allow : new boolean[] {true, false}) {
            MetadataResponseData r = metadata((short) 12, List.of("bad/name"), allow);
            assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), r.topics().find("bad/name").errorCode());
        }
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), metadata((short) 0, List.of("bad name"), true)
                .topics().find("bad name").errorCode());
    }

    @Test
    void topicsByIdFromV12() throws Exception {
        UUID id = api().image().topic("orders").id();
        Uuid unknown = Uuid.randomUuid();
        MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(false);
        request.topics().add(new MetadataRequestTopic().setTopicId(KafkaIds.toKafka(id)).setName(null));
        request.topics().add(new MetadataRequestTopic().setTopicId(unknown).setName(null));
        for (short version : new short[] {12, 13}) {
            MetadataResponseData r = wire.call(version, request);
            MetadataResponseTopic known = r.topics().find("orders");
            assertTopic(version, known);
            MetadataResponseTopic missing = r.topics().stream().filter(t -> t.topicId().equals(unknown)).findFirst()
                    .orElseThrow();
            assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), missing.errorCode());
            assertNull(missing.name());
        }
        MetadataRequestData v10 = new MetadataRequestData().setAllowAutoTopicCreation(false);
        v10.topics().add(new MetadataRequestTopic().setTopicId(KafkaIds.toKafka(id)).setName("orders"));
        MetadataResponseData refused = wire.call((short) 10, v10);
        assertEquals(Errors.INVALID_REQUEST.code(), refused.topics().iterator().next().errorCode(),
                "Kafka takes topic ids from v12");
    }

    @Test
    void theOffsetsTopicIsInternalAndNeverAutoCreated() throws Exception {
        MetadataResponseData r = metadata((short) 13, List.of("__consumer_offsets"), true);
        MetadataResponseTopic t = r.topics().find("__consumer_offsets");
        assertTrue(t.isInternal());
        if (api().image().topic("__consumer_offsets") == null) {
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), t.errorCode());
            assertNull(api().image().topic("__consumer_offsets"), "the group coordinator creates it");
        } else {
            assertTopic((short) 13, t);
        }
    }

    @Test
    void authorizedOperationsOnlyWhenAsked() throws Exception {
        MetadataRequestData asked = new MetadataRequestData().setIncludeTopicAuthorizedOperations(true)
                .setIncludeClusterAuthorizedOperations(true).setAllowAutoTopicCreation(false);
        asked.topics().add(new MetadataRequestTopic().setName("orders"));
        MetadataResponseData v10 = wire.call((short) 10, asked);
        assertEquals(KafkaClusterView.TOPIC_OPERATIONS, v10.topics().find("orders").topicAuthorizedOperations());
        assertEquals(KafkaClusterView.CLUSTER_OPERATIONS, v10.clusterAuthorizedOperations());
        MetadataResponseData v13 = wire.call((short) 13, asked.setIncludeClusterAuthorizedOperations(false));
        assertEquals(KafkaClusterView.TOPIC_OPERATIONS, v13.topics().find("orders").topicAuthorizedOperations());
        MetadataResponseData notAsked = metadata((short) 13, List.of("orders"), false);
        assertEquals(KafkaClusterView.OPERATIONS_NOT_ASKED,
                notAsked.topics().find("orders").topicAuthorizedOperations());
    }

    @Test
    void describeClusterListsTheImagesReachableBrokers() throws Exception {
        for (short version = 0; version <= 2; version++) {
            DescribeClusterResponseData r = wire.call(version, new DescribeClusterRequestData());
            assertEquals(Errors.NONE.code(), r.errorCode());
            List<Integer> expected = KafkaClusterView.brokers(api().image(), false).stream()
                    .map(KafkaClusterView.KafkaBroker::id).toList();
            assertEquals(expected, r.brokers().stream()
                    .map(DescribeClusterResponseData.DescribeClusterBroker::brokerId).toList());
            assertEquals(KafkaClusterView.controllerId(api().image()), r.controllerId());
            assertEquals(api().image().clusterId(), r.clusterId());
        }
        DescribeClusterResponseData controllers = wire.call((short) 2, new DescribeClusterRequestData()
                .setEndpointType((byte) 2));
        assertEquals(Errors.MISMATCHED_ENDPOINT_TYPE.code(), controllers.errorCode());
    }

    /** Last: stops and restarts node 3. */
    @Test
    void aPartitionWhoseOnlyReplicaStoppedIsLeaderNotAvailableWithTheReplicaOffline() throws Exception {
        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(30_000);
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("single").setNumPartitions(3)
                .setReplicationFactor((short) 1));
        CreateTopicsResponseData created = wire.call((short) 7, create);
        assertEquals(Errors.NONE.code(), created.topics().find("single").errorCode());
        TopicImage topic = api().image().topic("single");
        int onThree = -1;
        for (int i = 0; i < topic.numPartitions(); i++) {
            if (topic.partition(i).replicas().equals(List.of(3))) {
                onThree = i;
            }
        }
        assertTrue(onThree >= 0, "the placer spreads 3 single-replica partitions over 3 brokers");
        int partition = onThree;
        cluster.stop(3);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() ->
                    !api().image().topic("single").partition(partition).hasLeader()
                            && api().image().broker(3).isFenced());
            for (short version : new short[] {1, 5, 13}) {
                MetadataResponsePartition p = metadata(version, List.of("single"), false).topics().find("single")
                        .partitions().get(partition);
                assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), p.errorCode());
                assertEquals(-1, p.leaderId());
                assertEquals(List.of(3), p.replicaNodes());
                if (version >= 5) {
                    assertEquals(List.of(3), p.offlineReplicas());
                }
            }
        } finally {
            cluster.start(3);
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        }
    }
}
