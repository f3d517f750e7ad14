package io.raftmq.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.client.Acl;
import io.raftmq.client.Admin;
import io.raftmq.client.Consumer;
import io.raftmq.client.ConsumerRecords;
import io.raftmq.client.NewTopic;
import io.raftmq.client.OffsetAndMetadata;
import io.raftmq.client.Producer;
import io.raftmq.client.ProducerRecord;
import io.raftmq.client.Serdes;
import io.raftmq.client.TopicPartition;
import io.raftmq.client.errors.ClusterAuthorizationException;
import io.raftmq.client.errors.GroupAuthorizationException;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.client.errors.TopicAuthorizationException;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ACLs on the gRPC port: a cluster with {@code grpc.listener.security.protocol=SSL},
 * {@code authorizer.enabled=true} and {@code super.users=User:CN=admin}. An SDK client with the
 * certificate CN=alice is refused creating and deleting topics, producing, consuming and committing
 * (typed exceptions, nothing changes) until ACLs for User:CN=alice allow it; the super user may do
 * everything; {@code raftmq acls} works as the super user over mutual TLS.
 */
class GrpcAuthorizationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final String ALICE = "User:CN=alice";

    @TempDir
    static Path dir;
    private static InProcessCluster cluster;
    private static String bootstrap;
    private static Path adminConfig;
    private static Admin admin;
    private static Admin alice;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new InProcessCluster(3, dir.resolve("cluster"), Map.of("grpc.listener.security.protocol", "SSL",
                "authorizer.enabled", "true", "super.users", "User:CN=admin"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        bootstrap = cluster.bootstrapServers();
        adminConfig = dir.resolve("admin.properties");
        try (var out = Files.newBufferedWriter(adminConfig)) {
            clientProperties("admin").store(out, null);
        }
        admin = new Admin(clientProperties("admin"));
        alice = new Admin(clientProperties("alice"));
    }

    @AfterAll
    static void stopCluster() {
        if (alice != null) {
            alice.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aliceIsRefusedTopicAdministrationUntilAnAclAllowsIt() {
        admin.createTopic(new NewTopic("alice-keep", 1, 3));

        TopicAuthorizationException create = assertThrows(TopicAuthorizationException.class,
                () -> alice.createTopic(new NewTopic("alice-new", 1, 3)));
        assertTrue(create.getMessage().contains(ALICE), create.getMessage());
        assertThrows(TopicAuthorizationException.class, () -> alice.deleteTopics(List.of("alice-keep")));
        List<String> topics = admin.listTopics();
        assertFalse(topics.contains("alice-new"), topics.toString());
        assertTrue(topics.contains("alice-keep"), topics.toString());
        assertFalse(alice.listTopics().contains("alice-keep"), "alice may not describe it, so does not see it");

        admin.createAcls(List.of(allow(Acl.ResourceType.TOPIC, "alice-", Acl.PatternType.PREFIXED,
                Acl.Operation.CREATE), allow(Acl.ResourceType.TOPIC, "alice-", Acl.PatternType.PREFIXED,
                Acl.Operation.DELETE)));
        awaitAllowed(() -> alice.createTopic(new NewTopic("alice-new", 1, 3)));
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.listTopics().contains("alice-new"));
        assertTrue(alice.listTopics().contains("alice-keep"), "DELETE implies DESCRIBE");
        alice.deleteTopics(List.of("alice-keep"));
        await().atMost(Duration.ofSeconds(30)).until(() -> !admin.listTopics().contains("alice-keep"));
    }

    @Test
    void aliceIsRefusedProduceConsumeAndCommitUntilAclsAllowThem() throws Exception {
        String topic = "orders";
        String group = "alice-group";
        admin.createTopic(new NewTopic(topic, 1, 3));
        try (Producer<String, String> producer = producer("admin")) {
            producer.send(new ProducerRecord<>(topic, "k", "from admin")).get();
        }

        // No ACL: alice may not even see the topic, nor use the group.
        assertProduceRefused(topic);
        try (Consumer<String, String> consumer = consumer("alice", group)) {
            consumer.subscribe(List.of(topic));
            assertThrows(GroupAuthorizationException.class, () -> consumer.poll(Duration.ofSeconds(10)));
        }
        try (Consumer<String, String> consumer = consumer("alice", group)) {
            assertThrows(GroupAuthorizationException.class, () -> consumer.commitSync(
                    Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1))));
        }
        // Nothing changed: one record, no committed offset, no group.
        assertEquals(1, readAll("admin", "admin-check-1", topic).size());
        assertTrue(admin.listConsumerGroupOffsets(group).isEmpty());

        // READ on the topic and the group: alice consumes and commits, but still may not write.
        admin.createAcls(List.of(allow(Acl.ResourceType.TOPIC, topic, Acl.PatternType.LITERAL, Acl.Operation.READ),
                allow(Acl.ResourceType.GROUP, group, Acl.PatternType.LITERAL, Acl.Operation.READ)));
        List<String> read = new ArrayList<>();
        awaitAllowed(() -> read.addAll(readAll("alice", group, topic)));
        assertEquals(List.of("from admin"), read);
        assertEquals(1, admin.listConsumerGroupOffsets(group).get(new TopicPartition(topic, 0)).offset());
        // Refused by the produce itself now (every broker has the READ ACL, so metadata answers), not by metadata.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TopicAuthorizationException write = assertProduceRefused(topic);
            assertTrue(write.getMessage().contains("may not WRITE topic 'orders'"), write.getMessage());
        });
        assertEquals(1, readAll("admin", "admin-check-2", topic).size(), "the refused produce appended nothing");

        // WRITE too: alice's (idempotent) producer writes.
        admin.createAcls(List.of(allow(Acl.ResourceType.TOPIC, topic, Acl.PatternType.LITERAL,
                Acl.Operation.WRITE)));
        try (Producer<String, String> producer = producer("alice")) {
            awaitAllowed(() -> producer.send(new ProducerRecord<>(topic, "k", "from alice")).get());
        }
        List<String> more = readAll("alice", group, topic);
        assertEquals(List.of("from alice"), more);
        assertEquals(2, admin.listConsumerGroupOffsets(group).get(new TopicPartition(topic, 0)).offset());
    }

    /** alice's producer (not idempotent: no InitProducerId first) fails with TopicAuthorizationException. */
    private static TopicAuthorizationException assertProduceRefused(String topic) {
        Properties p = clientProperties("alice");
        p.setProperty("enable.idempotence", "false");
        p.setProperty("max.block.ms", "10000");
        p.setProperty("request.timeout.ms", "5000");
        p.setProperty("delivery.timeout.ms", "10000");
        try (Producer<String, String> producer = new Producer<>(p, Serdes.stringSerializer(),
                Serdes.stringSerializer())) {
            Throwable refused;
            try {
                producer.send(new ProducerRecord<>(topic, "k", "from alice")).get();
                throw new AssertionError("alice's produce to " + topic + " was accepted");
            } catch (ExecutionException e) {
                refused = e.getCause();
            } catch (RaftmqException e) {
                refused = e;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return assertInstanceOf(TopicAuthorizationException.class, refused);
        }
    }

    @Test
    void theSuperUserManagesAclsWithTheCliOverMutualTls() {
        CliRun added = CliRun.run("", "acls", "add", "--topic", "cli-topic", "--principal", "User:CN=bob",
                "--operation", "Read", "--bootstrap-server", bootstrap, "--command-config", adminConfig.toString());
        assertEquals(0, added.exitCode(), added.toString());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            CliRun listed = CliRun.run("", "acls", "list", "--bootstrap-server", bootstrap, "--command-config",
                    adminConfig.toString());
            assertEquals(0, listed.exitCode(), listed.toString());
            assertTrue(listed.out().contains("User:CN=bob") && listed.out().contains("cli-topic"), listed.toString());
        });
        ClusterAuthorizationException refused = assertThrows(ClusterAuthorizationException.class,
                () -> alice.describeAcls(Acl.Filter.ALL));
        assertTrue(refused.getMessage().contains(ALICE), refused.getMessage());
        assertThrows(ClusterAuthorizationException.class, () -> alice.createAcls(List.of(
                allow(Acl.ResourceType.CLUSTER, "kafka-cluster", Acl.PatternType.LITERAL, Acl.Operation.ALL))));
        CliRun removed = CliRun.run("", "acls", "remove", "--topic", "cli-topic", "--principal", "User:CN=bob",
                "--bootstrap-server", bootstrap, "--command-config", adminConfig.toString());
        assertEquals(0, removed.exitCode(), removed.toString());
    }

    private static Acl allow(Acl.ResourceType type, String name, Acl.PatternType pattern, Acl.Operation op) {
        return new Acl(type, name, pattern, ALICE, "*", op, Acl.Permission.ALLOW);
    }

    /** ACLs reach every broker through the metadata log: retry while a broker has not applied them yet. */
    private static void awaitAllowed(ThrowingRunnable action) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            try {
                action.run();
                return true;
            } catch (RaftmqException e) {
                return false;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RaftmqException) {
                    return false;
                }
                throw e;
            }
        });
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static List<String> readAll(String who, String group, String topic) {
        List<String> out = new ArrayList<>();
        try (Consumer<String, String> consumer = consumer(who, group)) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).ignoreException(RaftmqException.class).until(() -> {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                records.forEach(r -> out.add(r.value()));
                return !out.isEmpty() && consumer.position(new TopicPartition(topic, 0))
                        >= consumer.endOffsets(List.of(new TopicPartition(topic, 0)))
                                .get(new TopicPartition(topic, 0));
            });
            consumer.commitSync();
        }
        return out;
    }

    private static Producer<String, String> producer(String who) {
        Properties p = clientProperties(who);
        p.setProperty("max.block.ms", "10000");
        p.setProperty("request.timeout.ms", "5000");
        p.setProperty("delivery.timeout.ms", "10000");
        return new Producer<>(p, Serdes.stringSerializer(), Serdes.stringSerializer());
    }

    private static Consumer<String, String> consumer(String who, String group) {
        Properties p = clientProperties(who);
        p.setProperty("group.id", group);
        p.setProperty("auto.offset.reset", "earliest");
        p.setProperty("enable.auto.commit", "false");
        return new Consumer<>(p, Serdes.stringDeserializer(), Serdes.stringDeserializer());
    }

    private static Properties clientProperties(String who) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("security.protocol", "SSL");
        p.setProperty("ssl.truststore.location", CERTS.truststore().toString());
        p.setProperty("ssl.truststore.password", CERTS.password());
        p.setProperty("ssl.keystore.location", CERTS.clientKeystore(who).toString());
        p.setProperty("ssl.keystore.password", CERTS.password());
        return p;
    }
}
