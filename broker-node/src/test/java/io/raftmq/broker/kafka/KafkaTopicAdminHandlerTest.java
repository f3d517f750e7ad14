package io.raftmq.broker.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerApi;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * CreateTopics, DeleteTopics, CreatePartitions and ElectLeaders against one
 * combined node in this JVM, every answer checked on the wire at its version; the outcome is
 * checked in the broker's metadata image, which the answers wait for.
 */
@Timeout(120)
class KafkaTopicAdminHandlerTest {
    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static KafkaWire wire;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of());
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        wire = new KafkaWire(api(), cluster.node(1).broker().groupCoordinator());
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

    private static CreatableTopic topic(String name, int partitions, int replicationFactor) {
        return new CreatableTopic().setName(name).setNumPartitions(partitions)
                .setReplicationFactor((short) replicationFactor);
    }

    private static CreateTopicsResponseData create(short version, boolean validateOnly, CreatableTopic... topics)
            throws Exception {
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(30_000)
                .setValidateOnly(validateOnly);
        for (CreatableTopic t : topics) {
            request.topics().add(t.duplicate());
        }
        return wire.call(version, request);
    }

    private static CreatableTopicResult only(CreateTopicsResponseData r, String name) {
        assertEquals(1, r.topics().stream().filter(t -> t.name().equals(name)).count(), r.toString());
        return r.topics().find(name);
    }

    private static void assertError(Errors expected, short code, String message) {
        assertEquals(expected, Errors.forCode(code), message);
    }

    @Test
    void createsTopicsAndAnswersTheirIdPartitionsAndConfigs() throws Exception {
        CreatableTopic withConfig = topic("created-v7", 2, 1);
        withConfig.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms")
                .setValue("3600000"));
        CreatableTopicResult v7 = only(create((short) 7, false, withConfig), "created-v7");
        assertError(Errors.NONE, v7.errorCode(), v7.errorMessage());
        TopicImage image = api().image().topic("created-v7");
        assertNotNull(image, "created, and in this broker's metadata once answered");
        assertEquals(KafkaIds.toKafka(image.id()), v7.topicId());
        assertEquals(2, v7.numPartitions());
        assertEquals(1, v7.replicationFactor());
        CreatableTopicConfigs retention = v7.configs().stream().filter(c -> c.name().equals("retention.ms"))
                .findFirst().orElseThrow();
        assertEquals("3600000", retention.value());
        assertEquals(ConfigSource.TOPIC_CONFIG.id(), retention.configSource());
        CreatableTopicConfigs segment = v7.configs().stream().filter(c -> c.name().equals("segment.bytes"))
                .findFirst().orElseThrow();
        assertEquals(ConfigSource.DEFAULT_CONFIG.id(), segment.configSource());

        // The lowest version: no id, counts or configs on the wire; defaults when -1.
        CreatableTopicResult v2 = only(create((short) 2, false, topic("created-v2", -1, -1)), "created-v2");
        assertError(Errors.NONE, v2.errorCode(), v2.errorMessage());
        assertEquals(Uuid.ZERO_UUID, v2.topicId());
        assertEquals(1, api().image().topic("created-v2").numPartitions(), "num.partitions");
        assertEquals(1, api().image().topic("created-v2").replicationFactor(), "capped at the live brokers");
    }

    @Test
    void refusalsNameTheProblem() throws Exception {
        create((short) 7, false, topic("exists", 1, 1));
        CreateTopicsResponseData r = create((short) 7, false, topic("exists", 1, 1), topic("bad/name", 1, 1),
                topic("zero-partitions", 0, 1), topic("rf-too-high", 1, 2), topic("rf-zero", 1, 0));
        assertError(Errors.TOPIC_ALREADY_EXISTS, only(r, "exists").errorCode(), only(r, "exists").errorMessage());
        assertError(Errors.INVALID_TOPIC_EXCEPTION, only(r, "bad/name").errorCode(), null);
        assertError(Errors.INVALID_PARTITIONS, only(r, "zero-partitions").errorCode(), null);
        CreatableTopicResult rf = only(r, "rf-too-high");
        assertError(Errors.INVALID_REPLICATION_FACTOR, rf.errorCode(), rf.errorMessage());
        assertTrue(rf.errorMessage().contains("2"), rf.errorMessage());
        assertEquals(-1, rf.numPartitions(), "no counts for a refused topic");
        assertTrue(rf.configs().isEmpty());
        assertError(Errors.INVALID_REPLICATION_FACTOR, only(r, "rf-zero").errorCode(), null);
        assertNull(api().image().topic("rf-too-high"));

        CreatableTopic badConfig = topic("bad-config", 1, 1);
        badConfig.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms")
                .setValue("soon"));
        CreatableTopicResult config = only(create((short) 5, false, badConfig), "bad-config");
        assertError(Errors.INVALID_CONFIG, config.errorCode(), config.errorMessage());
        assertTrue(config.errorMessage().contains("retention.ms"), config.errorMessage());
        assertNull(api().image().topic("bad-config"));
    }

    @Test
    void validateOnlyCreatesNothingAndAnswersWhatWouldBe() throws Exception {
        CreatableTopic t = topic("validated", 4, 1);
        t.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("max.message.bytes")
                .setValue("2048"));
        CreatableTopicResult r = only(create((short) 7, true, t), "validated");
        assertError(Errors.NONE, r.errorCode(), r.errorMessage());
        assertEquals(4, r.numPartitions());
        CreatableTopicConfigs max = r.configs().stream().filter(c -> c.name().equals("max.message.bytes"))
                .findFirst().orElseThrow();
        assertEquals("2048", max.value());
        assertEquals(ConfigSource.TOPIC_CONFIG.id(), max.configSource());
        assertNull(api().image().topic("validated"));
    }

    @Test
    void aRepeatedNameIsOneInvalidRequestAndNothingIsCreated() throws Exception {
        CreateTopicsResponseData r = create((short) 7, false, topic("twice", 1, 1), topic("twice", 2, 1),
                topic("once", 1, 1));
        assertError(Errors.INVALID_REQUEST, only(r, "twice").errorCode(), only(r, "twice").errorMessage());
        assertError(Errors.NONE, only(r, "once").errorCode(), null);
        assertNull(api().image().topic("twice"));
    }

    @Test
    void manualAssignmentsReachTheControllerAndItsRulesAnswer() throws Exception {
        CreatableTopic assigned = topic("assigned", -1, -1);
        assigned.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0)
                .setBrokerIds(List.of(1)));
        assigned.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(1)
                .setBrokerIds(List.of(1)));
        CreatableTopicResult r = only(create((short) 7, false, assigned), "assigned");
        assertError(Errors.NONE, r.errorCode(), null);
        assertEquals(2, r.numPartitions());
        assertEquals(List.of(1), api().image().topic("assigned").partition(1).replicas());

        CreatableTopic unknownBroker = topic("assigned-to-7", -1, -1);
        unknownBroker.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment()
                .setPartitionIndex(0).setBrokerIds(List.of(7)));
        CreatableTopicResult refused = only(create((short) 7, false, unknownBroker), "assigned-to-7");
        assertError(Errors.INVALID_REPLICA_ASSIGNMENT, refused.errorCode(), refused.errorMessage());
        assertTrue(refused.errorMessage().contains("broker 7"), refused.errorMessage());
        assertNull(api().image().topic("assigned-to-7"));

        CreatableTopic both = topic("assigned-and-counted", 2, -1);
        both.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0)
                .setBrokerIds(List.of(1)));
        assertError(Errors.INVALID_REQUEST, only(create((short) 7, false, both), "assigned-and-counted").errorCode(),
                "a partition count beside an assignment");
    }

    @Test
    void deletesByNameAndById() throws Exception {
        create((short) 7, false, topic("del-a", 1, 1), topic("del-b", 1, 1), topic("del-c", 1, 1));
        DeleteTopicsRequestData v1 = new DeleteTopicsRequestData().setTimeoutMs(30_000)
                .setTopicNames(List.of("del-a", "missing"));
        DeleteTopicsResponseData r1 = wire.call((short) 1, v1);
        assertError(Errors.NONE, r1.responses().find("del-a").errorCode(), null);
        assertError(Errors.UNKNOWN_TOPIC_OR_PARTITION, r1.responses().find("missing").errorCode(), null);
        assertNull(api().image().topic("del-a"));

        DeleteTopicsResponseData r5 = wire.call((short) 5, new DeleteTopicsRequestData().setTimeoutMs(30_000)
                .setTopicNames(List.of("missing")));
        assertTrue(r5.responses().find("missing").errorMessage().contains("missing"));

        Uuid idB = KafkaIds.toKafka(api().image().topic("del-b").id());
        Uuid unknown = Uuid.randomUuid();
        DeleteTopicsRequestData v6 = new DeleteTopicsRequestData().setTimeoutMs(30_000);
        v6.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setTopicId(idB));
        v6.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setTopicId(unknown));
        v6.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("del-c").setTopicId(idB));
        DeleteTopicsResponseData r6 = wire.call((short) 6, v6);
        assertEquals(3, r6.responses().size(), r6.toString());
        DeletableTopicResult byId = byId(r6, idB, Errors.NONE);
        assertEquals("del-b", byId.name());
        assertNull(byId(r6, unknown, Errors.UNKNOWN_TOPIC_ID).name());
        assertError(Errors.INVALID_REQUEST, r6.responses().find("del-c").errorCode(), "name and id");
        assertNull(api().image().topic("del-b"));
        assertNotNull(api().image().topic("del-c"));
    }

    private static DeletableTopicResult byId(DeleteTopicsResponseData r, Uuid id, Errors error) {
        return r.responses().stream().filter(t -> t.topicId().equals(id) && t.errorCode() == error.code())
                .findFirst().orElseThrow(() -> new AssertionError(error + " for " + id + " in " + r));
    }

    @Test
    void createPartitionsAddsRefusesADecreaseAndValidatesOnly() throws Exception {
        create((short) 7, false, topic("grow", 1, 1));
        CreatePartitionsResponseData v0 = wire.call((short) 0, partitions(false, "grow", 3));
        assertError(Errors.NONE, v0.results().get(0).errorCode(), v0.results().get(0).errorMessage());
        assertEquals(3, api().image().topic("grow").numPartitions());

        CreatePartitionsResponseData validated = wire.call((short) 3, partitions(true, "grow", 5));
        assertError(Errors.NONE, validated.results().get(0).errorCode(), null);
        assertEquals(3, api().image().topic("grow").numPartitions(), "validate only");

        CreatePartitionsResponseData decrease = wire.call((short) 3, partitions(false, "grow", 2));
        CreatePartitionsResponseData.CreatePartitionsTopicResult refused = decrease.results().get(0);
        assertError(Errors.INVALID_PARTITIONS, refused.errorCode(), refused.errorMessage());
        assertTrue(refused.errorMessage().contains("3"), refused.errorMessage());

        CreatePartitionsRequestData twoLists = partitions(false, "grow", 4);
        twoLists.topics().find("grow").setAssignments(List.of(
                new CreatePartitionsRequestData.CreatePartitionsAssignment().setBrokerIds(List.of(1)),
                new CreatePartitionsRequestData.CreatePartitionsAssignment().setBrokerIds(List.of(1))));
        CreatePartitionsResponseData wrongCount = wire.call((short) 3, twoLists);
        assertError(Errors.INVALID_REPLICA_ASSIGNMENT, wrongCount.results().get(0).errorCode(),
                "two lists for one new partition");
        assertEquals(3, api().image().topic("grow").numPartitions());

        CreatePartitionsRequestData assigned = partitions(false, "grow", 4);
        assigned.topics().find("grow").setAssignments(List.of(
                new CreatePartitionsRequestData.CreatePartitionsAssignment().setBrokerIds(List.of(1))));
        CreatePartitionsResponseData grown = wire.call((short) 3, assigned);
        assertError(Errors.NONE, grown.results().get(0).errorCode(), grown.results().get(0).errorMessage());
        assertEquals(4, api().image().topic("grow").numPartitions());
    }

    private static CreatePartitionsRequestData partitions(boolean validateOnly, String topic, int count) {
        CreatePartitionsRequestData request = new CreatePartitionsRequestData().setTimeoutMs(30_000)
                .setValidateOnly(validateOnly);
        request.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(topic).setCount(count)
                .setAssignments(null));
        return request;
    }

    @Test
    void anAnswerThatDoesNotComeWithinTheTimeoutIsTheTimeoutsAnswer() throws Exception {
        CompletableFuture<String> never = new CompletableFuture<>();
        assertEquals("timed out", TopicAdminHandler.within(never, 50, "timed out").get());
        assertFalse(never.isDone(), "the call's own future is left alone");
        assertSame(never, TopicAdminHandler.within(never, 0, "unbounded"));
    }

    @Test
    void electsPreferredLeadersAndSaysWhenNoElectionIsNeeded() throws Exception {
        create((short) 7, false, topic("elect", 2, 1));
        for (short version = 0; version <= 2; version++) {
            ElectLeadersRequestData request = new ElectLeadersRequestData().setTimeoutMs(30_000);
            request.topicPartitions().add(new ElectLeadersRequestData.TopicPartitions().setTopic("elect")
                    .setPartitions(List.of(0, 1, 7)));
            ElectLeadersResponseData r = wire.call(version, request);
            assertEquals(Errors.NONE.code(), r.errorCode());
            List<ElectLeadersResponseData.PartitionResult> results = r.replicaElectionResults().get(0)
                    .partitionResult();
            assertError(Errors.ELECTION_NOT_NEEDED, results.get(0).errorCode(), "the preferred replica leads");
            assertError(Errors.ELECTION_NOT_NEEDED, results.get(1).errorCode(), null);
            assertError(Errors.UNKNOWN_TOPIC_OR_PARTITION, results.get(2).errorCode(), null);
        }
        ElectLeadersRequestData all = new ElectLeadersRequestData().setTimeoutMs(30_000).setTopicPartitions(null)
                .setElectionType((byte) 1);
        ElectLeadersResponseData unclean = wire.call((short) 2, all);
        assertEquals(Errors.NONE.code(), unclean.errorCode());
        assertTrue(unclean.replicaElectionResults().stream().allMatch(t -> t.partitionResult().isEmpty()),
                "every partition has a leader: nothing to report");
    }
}
