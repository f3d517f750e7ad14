package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.common.HostPort;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.metadata.ConfigResourceType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The internal topic {@code __consumer_offsets} cannot be deleted, grown, reconfigured or produced
 * to by a client, with no authorizer: through Kafka's clients (INVALID_TOPIC_EXCEPTION, Kafka's
 * "Cannot append to internal topic ..." for produce), through the gRPC Broker service and through
 * the active controller's gRPC Controller service. Nothing changes, and the group coordinator,
 * which writes the topic itself, still takes commits afterwards.
 */
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InternalTopicProtectionTest {
    private static final String OFFSETS = "__consumer_offsets";
    private static final String GROUP = "protected";
    private static final TopicPartition ORDERS = new TopicPartition("orders", 0);

    private KafkaClientCluster kafka;
    private Admin admin;
    private final Map<HostPort, ManagedChannel> channels = new HashMap<>();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kafka = KafkaClientCluster.start(dir, Map.of());
        admin = kafka.admin;
        admin.createTopics(List.of(new NewTopic(ORDERS.topic(), 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        commit(7); // the coordinator creates __consumer_offsets and writes the commit to it
    }

    @AfterAll
    void stop() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        if (kafka != null) {
            kafka.close();
        }
    }

    private void commit(long offset) {
        try (KafkaConsumer<String, String> consumer = kafka.classicConsumer(GROUP, 10_000, 1_000, Map.of())) {
            consumer.assign(List.of(ORDERS));
            consumer.commitSync(Map.of(ORDERS, new OffsetAndMetadata(offset)), Duration.ofSeconds(30));
            assertEquals(offset, consumer.committed(Set.of(ORDERS), Duration.ofSeconds(30)).get(ORDERS).offset());
        }
    }

    /** What a refused change must leave as it was: the topic's id, partition count and configs. */
    private record OffsetsTopicState(String topicId, int partitions, String minInsyncReplicas) {}

    private OffsetsTopicState offsetsTopic() throws Exception {
        TopicDescription description = admin.describeTopics(List.of(OFFSETS)).allTopicNames()
                .get(30, TimeUnit.SECONDS).get(OFFSETS);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS);
        Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
        assertTrue(description.isInternal(), "Metadata says " + OFFSETS + " is internal");
        return new OffsetsTopicState(description.topicId().toString(), description.partitions().size(),
                config.get("min.insync.replicas").value());
    }

    private static void assertRefused(ExecutionException e, String message) {
        InvalidTopicException refused = assertInstanceOf(InvalidTopicException.class, e.getCause(), e.toString());
        assertEquals(message, refused.getMessage());
    }

    private static void assertRefused(Error error, String message) {
        assertEquals(ErrorCode.INVALID_TOPIC, error.getCode(), error.getMessage());
        assertEquals(message, error.getMessage());
    }

    @Test
    void kafkaClientsCannotDeleteAlterGrowOrProduceToTheOffsetsTopic() throws Exception {
        OffsetsTopicState before = offsetsTopic();
        assertEquals("2", before.minInsyncReplicas(), "the coordinator creates it with min.insync.replicas 2");

        assertRefused(assertThrows(ExecutionException.class, () -> admin.deleteTopics(List.of(OFFSETS)).all()
                .get(30, TimeUnit.SECONDS)), "Cannot delete internal topic " + OFFSETS);
        assertRefused(assertThrows(ExecutionException.class, () -> admin.deleteTopics(TopicCollection.ofTopicIds(
                List.of(org.apache.kafka.common.Uuid.fromString(before.topicId())))).all().get(30, TimeUnit.SECONDS)),
                "Cannot delete internal topic " + OFFSETS);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS);
        assertRefused(assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(resource,
                List.of(new org.apache.kafka.clients.admin.AlterConfigOp(new ConfigEntry("min.insync.replicas", "1"),
                        OpType.SET)))).all().get(30, TimeUnit.SECONDS)),
                "Cannot alter the configs of internal topic " + OFFSETS);
        assertRefused(assertThrows(ExecutionException.class, () -> admin.createPartitions(Map.of(OFFSETS,
                NewPartitions.increaseTo(before.partitions() + 1))).all().get(30, TimeUnit.SECONDS)),
                "Cannot add partitions to internal topic " + OFFSETS);

        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.cluster.kafkaBootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            assertRefused(assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>(OFFSETS, 0, "forged", "commit")).get(30, TimeUnit.SECONDS)),
                    "Cannot append to internal topic " + OFFSETS);
        }

        assertEquals(before, offsetsTopic());
        commit(11);
    }

    private ManagedChannel channel(HostPort address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forAddress(a.host(), a.port())
                .usePlaintext().build());
    }

    /**
     * The same refusals through the gRPC Broker service of every node, and through the Controller
     * service of the active controller (which the Broker service forwards to).
     */
    @Test
    void grpcClientsCannotDeleteAlterGrowOrProduceToTheOffsetsTopic() throws Exception {
        OffsetsTopicState before = offsetsTopic();
        DeleteTopicsRequest delete = DeleteTopicsRequest.newBuilder().addNames(OFFSETS).build();
        CreatePartitionsRequest grow = CreatePartitionsRequest.newBuilder().addTopics(CreatePartitionsTopic
                .newBuilder().setName(OFFSETS).setCount(before.partitions() + 1)).build();
        AlterConfigsRequest alter = AlterConfigsRequest.newBuilder().addResources(AlterConfigsResource.newBuilder()
                .setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC).setResourceName(OFFSETS)
                .addOps(AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.SET).setKey("min.insync.replicas")
                        .setValue("1"))).build();

        for (HostPort address : kafka.cluster.addresses()) {
            BrokerGrpc.BrokerBlockingStub broker = BrokerGrpc.newBlockingStub(channel(address))
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            assertRefused(broker.deleteTopics(delete).getTopics(0).getError(), "Cannot delete internal topic " + OFFSETS);
            assertRefused(broker.createPartitions(grow).getTopics(0).getError(),
                    "Cannot add partitions to internal topic " + OFFSETS);
            assertRefused(broker.alterConfigs(alter).getResources(0).getError(),
                    "Cannot alter the configs of internal topic " + OFFSETS);
        }

        int active = await().atMost(Duration.ofSeconds(30)).until(() -> activeController(), id -> id > 0);
        ControllerGrpc.ControllerBlockingStub controller = ControllerGrpc.newBlockingStub(channel(
                kafka.cluster.addresses().get(active - 1))).withDeadlineAfter(30, TimeUnit.SECONDS);
        assertRefused(controller.deleteTopics(delete).getTopics(0).getError(), "Cannot delete internal topic " + OFFSETS);
        assertRefused(controller.createPartitions(grow).getTopics(0).getError(),
                "Cannot add partitions to internal topic " + OFFSETS);
        assertRefused(controller.alterConfigs(alter).getResources(0).getError(),
                "Cannot alter the configs of internal topic " + OFFSETS);

        try (TestBrokerClient client = new TestBrokerClient(kafka.cluster.addresses())) {
            client.refreshMetadata();
            TestBrokerClient.ProduceOutcome produced = client.produceOnce(OFFSETS, 0, -1, 10_000,
                    TestBrokerClient.batch(List.of(new byte[] {1})));
            assertEquals(ErrorCode.INVALID_TOPIC, produced.error(), produced.toString());
            assertEquals("Cannot append to internal topic " + OFFSETS, produced.message());
        }

        assertEquals(before, offsetsTopic());
        commit(13);
    }

    /** The node id of the active controller, or -1 while there is none. */
    private int activeController() {
        for (int id = 1; id <= 3; id++) {
            if (kafka.cluster.node(id).controller().controller().isActive()) {
                return id;
            }
        }
        return -1;
    }
}
