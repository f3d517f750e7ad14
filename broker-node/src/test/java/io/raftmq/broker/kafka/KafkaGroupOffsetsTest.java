package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.group.GroupCoordinatorConfig;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.RaftmqServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.OffsetMetadataTooLarge;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer-group offsets and administration through the Kafka listener of three combined nodes:
 * kafka-clients' consumer committing without membership (assign, commitSync, committed) and its
 * Admin (listConsumerGroups, listConsumerGroupOffsets of several groups in one call,
 * alterConsumerGroupOffsets, deleteConsumerGroupOffsets, deleteConsumerGroups), which find each
 * group's coordinator with FindCoordinator; the typed errors for bad input, which store nothing;
 * and every version of each API, in process on the wire (topic ids at v10, several groups per
 * OffsetFetch at v8+, coordinator keys batched at v4+, transaction and share keys refused).
 */
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaGroupOffsetsTest {
    private static final String TOPIC = "orders";
    private InProcessCluster cluster;
    private Admin admin;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of());
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        admin = Admin.create(props);
        admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> topic(TOPIC) != null);
    }

    @AfterAll
    void stop() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(10));
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private KafkaConsumer<String, String> consumer(String groupId) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafkaBootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaConsumer<>(props);
    }

    private static TopicPartition tp(int partition) {
        return new TopicPartition(TOPIC, partition);
    }

    private Map<TopicPartition, OffsetAndMetadata> offsetsOf(String groupId) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>(admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS));
        out.values().removeIf(v -> v == null);
        return out;
    }

    @SuppressWarnings("removal") // listConsumerGroups: what tools still call; listGroups succeeds it
    private Set<String> consumerGroups() throws Exception {
        Set<String> out = new java.util.TreeSet<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS)) {
            out.add(g.groupId());
        }
        return out;
    }

    private static Throwable cause(ExecutionException e) {
        return e.getCause();
    }

    // ---- kafka-clients ----

    @Test
    void aConsumerWithoutMembershipCommitsAndReadsItsOffsetsBack() {
        try (KafkaConsumer<String, String> consumer = consumer("standalone")) {
            consumer.assign(List.of(tp(0), tp(1)));
            consumer.commitSync(Map.of(tp(0), new OffsetAndMetadata(5, "five"), tp(1), new OffsetAndMetadata(7)));
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(tp(0), tp(1), tp(2)));
            assertEquals(5, committed.get(tp(0)).offset());
            assertEquals("five", committed.get(tp(0)).metadata());
            assertEquals(7, committed.get(tp(1)).offset());
            assertNull(committed.get(tp(2)), "no commit for partition 2");
            consumer.commitSync(Map.of(tp(0), new OffsetAndMetadata(6)));
            assertEquals(6, consumer.committed(Set.of(tp(0))).get(tp(0)).offset());
        }
    }

    @Test
    void adminListsAltersAndDeletesOffsetsAndGroups() throws Exception {
        admin.alterConsumerGroupOffsets("admin-a", Map.of(tp(0), new OffsetAndMetadata(3), tp(1),
                new OffsetAndMetadata(4))).all().get(30, TimeUnit.SECONDS);
        admin.alterConsumerGroupOffsets("admin-b", Map.of(tp(2), new OffsetAndMetadata(9, "b"))).all()
                .get(30, TimeUnit.SECONDS);

        // Several groups in one call: batched FindCoordinator, OffsetFetch v8+ per coordinator.
        Map<String, ListConsumerGroupOffsetsSpec> specs = Map.of("admin-a", new ListConsumerGroupOffsetsSpec(),
                "admin-b", new ListConsumerGroupOffsetsSpec());
        Map<String, Map<TopicPartition, OffsetAndMetadata>> both = admin.listConsumerGroupOffsets(specs).all()
                .get(30, TimeUnit.SECONDS);
        assertEquals(Map.of(tp(0), new OffsetAndMetadata(3), tp(1), new OffsetAndMetadata(4)), both.get("admin-a"));
        assertEquals(Map.of(tp(2), new OffsetAndMetadata(9, "b")), both.get("admin-b"));
        assertTrue(consumerGroups().containsAll(Set.of("admin-a", "admin-b")), consumerGroups().toString());

        admin.deleteConsumerGroupOffsets("admin-a", Set.of(tp(0))).all().get(30, TimeUnit.SECONDS);
        assertEquals(Map.of(tp(1), new OffsetAndMetadata(4)), offsetsOf("admin-a"));
        ExecutionException unknownGroup = assertThrows(ExecutionException.class,
                () -> admin.deleteConsumerGroupOffsets("never-was", Set.of(tp(0))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(GroupIdNotFoundException.class, cause(unknownGroup));

        admin.deleteConsumerGroups(List.of("admin-b")).all().get(30, TimeUnit.SECONDS);
        assertTrue(offsetsOf("admin-b").isEmpty());
        assertTrue(!consumerGroups().contains("admin-b"), consumerGroups().toString());
        ExecutionException again = assertThrows(ExecutionException.class,
                () -> admin.deleteConsumerGroups(List.of("admin-b")).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(GroupIdNotFoundException.class, cause(again));
    }

    @Test
    void badInputGetsTheTypedErrorAndStoresNothing() throws Exception {
        String tooLong = "g".repeat(256);
        ExecutionException longId = assertThrows(ExecutionException.class, () -> admin.alterConsumerGroupOffsets(
                tooLong, Map.of(tp(0), new OffsetAndMetadata(1))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidGroupIdException.class, cause(longId));

        ExecutionException unknownTopic = assertThrows(ExecutionException.class, () -> admin
                .alterConsumerGroupOffsets("bad-input", Map.of(new TopicPartition("no-such-topic", 0),
                        new OffsetAndMetadata(1))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(UnknownTopicOrPartitionException.class, cause(unknownTopic));
        ExecutionException outOfRange = assertThrows(ExecutionException.class, () -> admin
                .alterConsumerGroupOffsets("bad-input", Map.of(tp(3), new OffsetAndMetadata(1))).all()
                .get(30, TimeUnit.SECONDS));
        assertInstanceOf(UnknownTopicOrPartitionException.class, cause(outOfRange));
        ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> admin
                .alterConsumerGroupOffsets("bad-input", Map.of(tp(0), new OffsetAndMetadata(1, "m".repeat(4097))))
                .all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(OffsetMetadataTooLarge.class, cause(tooLarge));
        assertTrue(offsetsOf("bad-input").isEmpty());
        assertTrue(!consumerGroups().contains("bad-input"));

        try (KafkaConsumer<String, String> consumer = consumer("bad-input")) {
            consumer.assign(List.of(tp(0)));
            assertThrows(OffsetMetadataTooLarge.class, () -> consumer.commitSync(Map.of(tp(0),
                    new OffsetAndMetadata(1, "m".repeat(4097)))));
            assertNull(consumer.committed(Set.of(tp(0))).get(tp(0)));
        }

        // The refusals left nothing behind that blocks a valid commit.
        admin.alterConsumerGroupOffsets("bad-input", Map.of(tp(0), new OffsetAndMetadata(2))).all()
                .get(30, TimeUnit.SECONDS);
        assertEquals(Map.of(tp(0), new OffsetAndMetadata(2)), offsetsOf("bad-input"));
    }

    // ---- every version, on the wire in process ----

    private RaftmqServer node(int id) {
        return cluster.node(id);
    }

    private KafkaApis apis(int node) {
        return new KafkaApis(node(node).broker().api(), node(node).broker().groupCoordinator());
    }

    private TopicImage topic(String name) {
        return node(1).broker().api().image().topic(name);
    }

    /** The broker leading the group's __consumer_offsets partition, once the topic exists. */
    private int coordinatorOf(String groupId) {
        TopicImage offsets = topic(GroupCoordinatorConfig.OFFSETS_TOPIC);
        return offsets.partition(Utils.abs(groupId.hashCode()) % offsets.numPartitions()).leader();
    }

    private FindCoordinatorResponseData find(int node, short version, byte keyType, String key) {
        FindCoordinatorRequestData request = new FindCoordinatorRequestData();
        if (version >= 1) {
            request.setKeyType(keyType);
        }
        if (version >= 4) {
            request.setCoordinatorKeys(List.of(key));
        } else {
            request.setKey(key);
        }
        return KafkaWire.call(apis(node), ApiKeys.FIND_COORDINATOR, version, request);
    }

    /** (error, node id, port) of the one key's answer, whatever the version's shape. */
    private static List<Integer> outcome(short version, FindCoordinatorResponseData r) {
        if (version >= 4) {
            FindCoordinatorResponseData.Coordinator c = r.coordinators().get(0);
            return List.of((int) c.errorCode(), c.nodeId(), c.port());
        }
        return List.of((int) r.errorCode(), r.nodeId(), r.port());
    }

    @Test
    void findCoordinatorAtEveryVersionNamesTheKafkaEndpointAndRefusesOtherKeyTypes() {
        String group = "find-me";
        await().atMost(Duration.ofSeconds(30)).until(() -> outcome((short) 0, find(1, (short) 0,
                CoordinatorType.GROUP.id(), group)).get(0) == 0);
        int coordinator = coordinatorOf(group);
        int kafkaPort = cluster.kafkaAddresses().get(coordinator - 1).port();
        for (short v = ApiKeys.FIND_COORDINATOR.oldestVersion(); v <= ApiKeys.FIND_COORDINATOR.latestVersion(); v++) {
            for (int node = 1; node <= 3; node++) {
                assertEquals(List.of(0, coordinator, kafkaPort), outcome(v, find(node, v, CoordinatorType.GROUP.id(),
                        group)), "v" + v + " asked of node " + node);
            }
            if (v >= 1) {
                assertEquals(List.of((int) Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code(), -1, -1),
                        outcome(v, find(1, v, CoordinatorType.TRANSACTION.id(), "tx")), "v" + v);
                assertEquals(List.of((int) Errors.INVALID_REQUEST.code(), -1, -1),
                        outcome(v, find(1, v, CoordinatorType.SHARE.id(), "g:id:0")), "v" + v);
            }
            assertEquals(List.of((int) Errors.INVALID_GROUP_ID.code(), -1, -1),
                    outcome(v, find(1, v, CoordinatorType.GROUP.id(), "")), "v" + v);
        }
        FindCoordinatorResponseData batched = KafkaWire.call(apis(2), ApiKeys.FIND_COORDINATOR, (short) 4,
                new FindCoordinatorRequestData().setKeyType(CoordinatorType.GROUP.id())
                        .setCoordinatorKeys(List.of("a", "b", "c")));
        assertEquals(List.of("a", "b", "c"), batched.coordinators().stream().map(c -> c.key()).toList());
        batched.coordinators().forEach(c -> assertEquals(coordinatorOf(c.key()), c.nodeId(), c.key()));
    }

    @Test
    void offsetCommitAndFetchAtEveryVersionByNameOrId() {
        org.apache.kafka.common.Uuid topicId = KafkaIds.toKafka(topic(TOPIC).id());
        for (short v = ApiKeys.OFFSET_COMMIT.oldestVersion(); v <= ApiKeys.OFFSET_COMMIT.latestVersion(); v++) {
            String group = "commit-v" + v;
            await().atMost(Duration.ofSeconds(30)).until(() -> outcome((short) 0, find(1, (short) 0,
                    CoordinatorType.GROUP.id(), group)).get(0) == 0);
            int coordinator = coordinatorOf(group);
            OffsetCommitRequestData.OffsetCommitRequestTopic t = new OffsetCommitRequestData.OffsetCommitRequestTopic();
            if (v >= 10) {
                t.setTopicId(topicId);
            } else {
                t.setName(TOPIC);
            }
            t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(1)
                    .setCommittedOffset(100 + v).setCommittedMetadata("v" + v));
            t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(7)
                    .setCommittedOffset(1));
            OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId(group)
                    .setGenerationIdOrMemberEpoch(-1).setMemberId("").setTopics(new ArrayList<>(List.of(t)));
            short version = v;
            OffsetCommitResponseData answer = KafkaWire.call(apis(coordinator), ApiKeys.OFFSET_COMMIT, version, commit);
            OffsetCommitResponseData.OffsetCommitResponseTopic rt = answer.topics().get(0);
            assertEquals(version >= 10 ? topicId : org.apache.kafka.common.Uuid.ZERO_UUID, rt.topicId());
            assertEquals(List.of(Errors.NONE.code(), Errors.UNKNOWN_TOPIC_OR_PARTITION.code()),
                    rt.partitions().stream().map(p -> p.errorCode()).toList(), "v" + v);
            int other = coordinator % 3 + 1;
            OffsetCommitResponseData elsewhere = KafkaWire.call(apis(other), ApiKeys.OFFSET_COMMIT, version, commit);
            assertEquals(Errors.NOT_COORDINATOR.code(), elsewhere.topics().get(0).partitions().get(0).errorCode());
        }
        if (ApiKeys.OFFSET_COMMIT.latestVersion() >= 10) {
            OffsetCommitRequestData.OffsetCommitRequestTopic unknown = new OffsetCommitRequestData
                    .OffsetCommitRequestTopic().setTopicId(org.apache.kafka.common.Uuid.randomUuid());
            unknown.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                    .setCommittedOffset(1));
            OffsetCommitResponseData r = KafkaWire.call(apis(1), ApiKeys.OFFSET_COMMIT, (short) 10,
                    new OffsetCommitRequestData().setGroupId("commit-v10").setGenerationIdOrMemberEpoch(-1)
                            .setTopics(new ArrayList<>(List.of(unknown))));
            assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), r.topics().get(0).partitions().get(0).errorCode());
        }

        for (short v = ApiKeys.OFFSET_FETCH.oldestVersion(); v <= ApiKeys.OFFSET_FETCH.latestVersion(); v++) {
            String group = "commit-v" + Math.max(v, ApiKeys.OFFSET_COMMIT.oldestVersion());
            int coordinator = coordinatorOf(group);
            long expected = 100 + Math.max(v, ApiKeys.OFFSET_COMMIT.oldestVersion());
            if (v < 8) {
                OffsetFetchRequestData fetch = new OffsetFetchRequestData().setGroupId(group)
                        .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC)
                                .setPartitionIndexes(List.of(0, 1))));
                OffsetFetchResponseData r = KafkaWire.call(apis(coordinator), ApiKeys.OFFSET_FETCH, v, fetch);
                assertEquals(List.of(-1L, expected), r.topics().get(0).partitions().stream()
                        .map(p -> p.committedOffset()).toList(), "v" + v);
                if (v >= 2) {
                    OffsetFetchResponseData all = KafkaWire.call(apis(coordinator), ApiKeys.OFFSET_FETCH, v,
                            new OffsetFetchRequestData().setGroupId(group).setTopics(null));
                    assertEquals(expected, all.topics().get(0).partitions().get(0).committedOffset(), "v" + v);
                    OffsetFetchResponseData elsewhere = KafkaWire.call(apis(coordinator % 3 + 1),
                            ApiKeys.OFFSET_FETCH, v, fetch);
                    assertEquals(Errors.NOT_COORDINATOR.code(), elsewhere.errorCode(), "v" + v);
                } else {
                    OffsetFetchResponseData elsewhere = KafkaWire.call(apis(coordinator % 3 + 1),
                            ApiKeys.OFFSET_FETCH, v, fetch);
                    assertEquals(Errors.NOT_COORDINATOR.code(), elsewhere.topics().get(0).partitions().get(0)
                            .errorCode(), "v1 carries the group's error in each partition");
                }
                continue;
            }
            // v8+: this group and one coordinated elsewhere, in one request to this coordinator.
            String otherGroup = null;
            for (short w = ApiKeys.OFFSET_COMMIT.oldestVersion(); w <= ApiKeys.OFFSET_COMMIT.latestVersion(); w++) {
                if (coordinatorOf("commit-v" + w) != coordinator) {
                    otherGroup = "commit-v" + w;
                }
            }
            OffsetFetchRequestData.OffsetFetchRequestTopics asked = new OffsetFetchRequestData.OffsetFetchRequestTopics()
                    .setPartitionIndexes(List.of(1));
            if (v >= 10) {
                asked.setTopicId(topicId);
            } else {
                asked.setName(TOPIC);
            }
            List<OffsetFetchRequestData.OffsetFetchRequestGroup> groups = new ArrayList<>();
            groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group)
                    .setTopics(List.of(asked)));
            groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group + "-all")
                    .setTopics(null));
            if (otherGroup != null) {
                groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(otherGroup)
                        .setTopics(null));
            }
            OffsetFetchResponseData r = KafkaWire.call(apis(coordinator), ApiKeys.OFFSET_FETCH, v,
                    new OffsetFetchRequestData().setGroups(groups).setRequireStable(v >= 7));
            OffsetFetchResponseData.OffsetFetchResponseGroup mine = r.groups().get(0);
            assertEquals(Errors.NONE.code(), mine.errorCode());
            assertEquals(v >= 10 ? topicId : org.apache.kafka.common.Uuid.ZERO_UUID, mine.topics().get(0).topicId());
            assertEquals(expected, mine.topics().get(0).partitions().get(0).committedOffset(), "v" + v);
            assertEquals("v" + Math.max(v, ApiKeys.OFFSET_COMMIT.oldestVersion()),
                    mine.topics().get(0).partitions().get(0).metadata());
            if (otherGroup != null) {
                assertEquals(Errors.NOT_COORDINATOR.code(), r.groups().get(2).errorCode(), otherGroup);
            }
        }
    }

    @Test
    void listDeleteGroupsAndOffsetDeleteAtEveryVersion() throws Exception {
        for (short v = ApiKeys.DELETE_GROUPS.oldestVersion(); v <= ApiKeys.DELETE_GROUPS.latestVersion(); v++) {
            String group = "delete-v" + v;
            admin.alterConsumerGroupOffsets(group, Map.of(tp(0), new OffsetAndMetadata(1), tp(1),
                    new OffsetAndMetadata(2))).all().get(30, TimeUnit.SECONDS);
            int coordinator = coordinatorOf(group);
            for (short l = ApiKeys.LIST_GROUPS.oldestVersion(); l <= ApiKeys.LIST_GROUPS.latestVersion(); l++) {
                ListGroupsRequestData list = new ListGroupsRequestData();
                if (l >= 4) {
                    list.setStatesFilter(List.of("empty"));
                }
                if (l >= 5) {
                    list.setTypesFilter(List.of("Classic"));
                }
                ListGroupsResponseData listed = KafkaWire.call(apis(coordinator), ApiKeys.LIST_GROUPS, l, list);
                ListGroupsResponseData.ListedGroup g = listed.groups().stream()
                        .filter(x -> x.groupId().equals(group)).findFirst().orElseThrow();
                assertEquals("", g.protocolType(), "a group without members has no protocol type");
                if (l >= 4) {
                    assertEquals("Empty", g.groupState());
                }
                if (l >= 5) {
                    assertEquals("classic", g.groupType());
                    ListGroupsResponseData consumerType = KafkaWire.call(apis(coordinator), ApiKeys.LIST_GROUPS, l,
                            new ListGroupsRequestData().setTypesFilter(List.of("consumer")));
                    assertTrue(consumerType.groups().isEmpty(), "no KIP-848 groups here");
                }
                if (l >= 4) {
                    ListGroupsResponseData stable = KafkaWire.call(apis(coordinator), ApiKeys.LIST_GROUPS, l,
                            new ListGroupsRequestData().setStatesFilter(List.of("Stable")));
                    assertTrue(stable.groups().stream().noneMatch(x -> x.groupId().equals(group)));
                }
            }

            OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection topics =
                    new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection();
            OffsetDeleteRequestData.OffsetDeleteRequestTopic t = new OffsetDeleteRequestData.OffsetDeleteRequestTopic()
                    .setName(TOPIC);
            t.partitions().add(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0));
            t.partitions().add(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(9));
            topics.add(t);
            OffsetDeleteResponseData deleted = KafkaWire.call(apis(coordinator), ApiKeys.OFFSET_DELETE, (short) 0,
                    new OffsetDeleteRequestData().setGroupId(group).setTopics(topics));
            assertEquals(Errors.NONE.code(), deleted.errorCode());
            assertEquals(Errors.NONE.code(), deleted.topics().find(TOPIC).partitions().find(0).errorCode());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), deleted.topics().find(TOPIC).partitions().find(9)
                    .errorCode());
            assertEquals(Map.of(tp(1), new OffsetAndMetadata(2)), offsetsOf(group));

            DeleteGroupsRequestData delete = new DeleteGroupsRequestData().setGroupsNames(List.of(group, group));
            DeleteGroupsResponseData elsewhere = KafkaWire.call(apis(coordinator % 3 + 1), ApiKeys.DELETE_GROUPS, v,
                    delete);
            assertEquals(Errors.NOT_COORDINATOR.code(), elsewhere.results().find(group).errorCode());
            DeleteGroupsResponseData gone = KafkaWire.call(apis(coordinator), ApiKeys.DELETE_GROUPS, v, delete);
            assertEquals(1, gone.results().size(), "a group named twice is answered once");
            assertEquals(Errors.NONE.code(), gone.results().find(group).errorCode(), "v" + v);
            DeleteGroupsResponseData again = KafkaWire.call(apis(coordinator), ApiKeys.DELETE_GROUPS, v, delete);
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), again.results().find(group).errorCode());
            if (v >= 3) {
                assertTrue(again.results().find(group).errorMessage().contains(group));
            }
        }
    }
}
