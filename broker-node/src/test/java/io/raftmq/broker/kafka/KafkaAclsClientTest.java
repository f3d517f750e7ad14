package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.image.Acls;
import io.raftmq.node.InProcessCluster;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ACLs end to end with kafka-clients 4.4 on one combined node with the authorizer on and no super
 * user: the listener authenticates nobody, so every client is User:ANONYMOUS. Its first ACL (ALTER
 * and DESCRIBE on the cluster) is added through the controller's gRPC service; from then on Admin
 * manages ACLs itself, and a producer and a consumer are refused until the ACLs for them exist.
 */
@Timeout(180)
class KafkaAclsClientTest {
    private static final String ANONYMOUS = "User:ANONYMOUS";

    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of("authorizer.enabled", "true",
                "offsets.topic.replication.factor", "1"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(10));
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    static AclBinding allow(ResourceType type, String name, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry(ANONYMOUS, "*", op, AclPermissionType.ALLOW));
    }

    private static Throwable cause(ExecutionException e) {
        return e.getCause();
    }

    @Test
    void adminProducerAndConsumerAreRefusedUntilTheirAclsExist() throws Exception {
        // Without ALTER on the cluster, Admin may not create ACLs.
        ExecutionException refused = assertThrows(ExecutionException.class, () -> admin.createAcls(List.of(
                allow(ResourceType.TOPIC, "orders", AclOperation.WRITE))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(ClusterAuthorizationException.class, cause(refused));

        // The first ACLs, through the controller's gRPC service (not authenticated yet).
        try (ControllerClient controller = new ControllerClient(ControllerClient.Options.defaults(cluster.addresses()))) {
            CreateAclsResponse r = controller.createAcls(CreateAclsRequest.newBuilder()
                    .addAcls(Acls.toEntry(allow(ResourceType.CLUSTER, "kafka-cluster", AclOperation.ALTER)))
                    .addAcls(Acls.toEntry(allow(ResourceType.CLUSTER, "kafka-cluster", AclOperation.DESCRIBE)))
                    .addAcls(Acls.toEntry(allow(ResourceType.CLUSTER, "kafka-cluster", AclOperation.CREATE)))
                    .build()).get(30, TimeUnit.SECONDS);
            r.getResultsList().forEach(e -> assertEquals(ErrorCode.NONE, e.getCode(), e.getMessage()));
        }
        // Committed by the controller; the broker authorizes once its metadata has them.
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.node(1).broker().image().acls().size() >= 3);
        admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);

        // The producer may not write "orders" yet.
        try (KafkaProducer<String, String> producer = producer()) {
            ExecutionException denied = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("orders", "k", "denied")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(AuthorizationException.class, cause(denied), String.valueOf(cause(denied)));
        }
        AclBinding writeOrders = allow(ResourceType.TOPIC, "orders", AclOperation.WRITE);
        admin.createAcls(List.of(writeOrders)).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>("orders", "k", "allowed")).get(30, TimeUnit.SECONDS);
        }

        // The consumer needs READ on its group and on the topic.
        try (KafkaConsumer<String, String> consumer = consumer("readers")) {
            consumer.subscribe(List.of("orders"));
            assertThrows(GroupAuthorizationException.class, () -> pollUntilRecords(consumer, 1));
        }
        List<AclBinding> reading = List.of(allow(ResourceType.GROUP, "readers", AclOperation.READ),
                allow(ResourceType.TOPIC, "orders", AclOperation.READ));
        admin.createAcls(reading).all().get(30, TimeUnit.SECONDS);
        try (KafkaConsumer<String, String> consumer = consumer("readers")) {
            consumer.subscribe(List.of("orders"));
            List<ConsumerRecord<String, String>> records = pollUntilRecords(consumer, 1);
            assertEquals("allowed", records.get(0).value(), "the refused record was never written");
            assertEquals(1, records.size());
            consumer.commitSync(Duration.ofSeconds(30));
        }

        // describeAcls lists them; deleteAcls removes what its filter matches and says which.
        AclBindingFilter onOrders = new AclBindingFilter(new ResourcePatternFilter(ResourceType.TOPIC, "orders",
                PatternType.ANY), AccessControlEntryFilter.ANY);
        Collection<AclBinding> described = admin.describeAcls(onOrders).values().get(30, TimeUnit.SECONDS);
        assertEquals(Set.of(writeOrders, reading.get(1)), Set.copyOf(described));
        AclBindingFilter writes = new AclBindingFilter(onOrders.patternFilter(), new AccessControlEntryFilter(
                ANONYMOUS, null, AclOperation.WRITE, AclPermissionType.ANY));
        Collection<AclBinding> deleted = admin.deleteAcls(List.of(writes)).all().get(30, TimeUnit.SECONDS);
        assertEquals(List.of(writeOrders), new ArrayList<>(deleted));
        try (KafkaProducer<String, String> producer = producer()) {
            ExecutionException deniedAgain = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("orders", "k", "denied")).get(30, TimeUnit.SECONDS));
            assertTrue(cause(deniedAgain) instanceof AuthorizationException, String.valueOf(cause(deniedAgain)));
        }
    }

    private static KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    private static KafkaConsumer<String, String> consumer(String group) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
    }

    /** Polls (at most 30 s) until {@code n} records arrived; an authorization error is thrown from poll. */
    private static List<ConsumerRecord<String, String>> pollUntilRecords(KafkaConsumer<String, String> consumer,
            int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (out.size() < n && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        if (out.size() < n) {
            throw new AssertionError("only " + out.size() + " of " + n + " records within 30 s");
        }
        return out;
    }
}
