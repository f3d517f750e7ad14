package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.config;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.metadata.ConfigResourceType;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicDecisionsTest {
    private final ControllerDecisions decisions = TestImages.decisions();
    private final MetadataImage threeBrokers = unfencedBrokers(3);

    private ControllerResult<CreateTopicsResponse> create(MetadataImage image, CreatableTopic.Builder... topics) {
        CreateTopicsRequest.Builder request = CreateTopicsRequest.newBuilder();
        for (CreatableTopic.Builder t : topics) {
            request.addTopics(t);
        }
        return decisions.createTopics(image, request.build());
    }

    private static CreatableTopic.Builder topic(String name, int partitions, int rf) {
        return CreatableTopic.newBuilder().setName(name).setNumPartitions(partitions).setReplicationFactor(rf);
    }

    @Test
    void createTopicSpreadsReplicasAndLeadersEvenly() {
        ControllerResult<CreateTopicsResponse> result = create(threeBrokers, topic("orders", 6, 3));
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        assertEquals(7, result.records().size()); // CreateTopic + 6 partitions
        TopicImage orders = apply(threeBrokers, result.records()).topic("orders");
        assertEquals(6, orders.numPartitions());
        Map<Integer, Integer> leaders = new HashMap<>();
        Map<Integer, Integer> replicas = new HashMap<>();
        for (PartitionRegistration p : orders.partitions()) {
            assertEquals(3, new HashSet<>(p.replicas()).size());
            assertEquals(p.replicas(), p.isr());
            assertEquals(p.replicas().get(0), p.leader());
            assertEquals(0, p.leaderEpoch());
            leaders.merge(p.leader(), 1, Integer::sum);
            p.replicas().forEach(r -> replicas.merge(r, 1, Integer::sum));
        }
        assertEquals(Map.of(1, 2, 2, 2, 3, 2), leaders);
        assertEquals(Map.of(1, 6, 2, 6, 3, 6), replicas);
        assertEquals(Uuids.fromProto(result.reply().getTopics(0).getTopicId()), orders.id());
    }

    @Test
    void placementCountsExistingPartitionsAndPrefersNewRacks() {
        MetadataImage image = MetadataImage.EMPTY;
        String[] racks = {"", "a", "a", "b", "b"};
        for (int id = 1; id <= 4; id++) {
            image = apply(image, List.of(TestImages.register(id, id, racks[id]), Records.unfenceBroker(id, id)));
        }
        image = withTopic(image, decisions, "first", 4, 2);
        for (PartitionRegistration p : image.topic("first").partitions()) {
            String leaderRack = racks[p.replicas().get(0)];
            String followerRack = racks[p.replicas().get(1)];
            assertNotEquals(leaderRack, followerRack, "replicas " + p.replicas() + " share rack " + leaderRack);
        }
        image = withTopic(image, decisions, "second", 4, 1);
        Map<Integer, Integer> total = new HashMap<>();
        for (TopicImage t : image.topics()) {
            t.partitions().forEach(p -> p.replicas().forEach(r -> total.merge(r, 1, Integer::sum)));
        }
        assertEquals(Map.of(1, 3, 2, 3, 3, 3, 4, 3), total);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "has space", "slash/name", "colon:name", "ünïcode", "tab\tname"})
    void invalidTopicNamesAreRefused(String name) {
        ControllerResult<CreateTopicsResponse> result = create(threeBrokers, topic(name, 1, 1));
        assertError(ErrorCode.INVALID_TOPIC, result.reply().getTopics(0).getError());
        assertTrue(result.records().isEmpty());
    }

    @Test
    void topicNameLengthLimitIs249() {
        String ok = "a".repeat(249);
        assertEquals(ErrorCode.NONE, create(threeBrokers, topic(ok, 1, 1)).reply().getTopics(0).getError().getCode());
        assertError(ErrorCode.INVALID_TOPIC, create(threeBrokers, topic(ok + "a", 1, 1)).reply().getTopics(0)
                .getError(), "250 characters", "249");
    }

    @Test
    void existingNameAndDotUnderscoreCollisionAreRefused() {
        MetadataImage image = withTopic(threeBrokers, decisions, "a.b", 1, 1);
        assertError(ErrorCode.TOPIC_ALREADY_EXISTS, create(image, topic("a.b", 1, 1)).reply().getTopics(0).getError(),
                "'a.b' already exists");
        assertError(ErrorCode.INVALID_TOPIC, create(image, topic("a_b", 1, 1)).reply().getTopics(0).getError(),
                "collides", "'a.b'");
    }

    @Test
    void partitionCountMustBePositiveAndBounded() {
        assertError(ErrorCode.INVALID_PARTITIONS, create(threeBrokers, topic("t", 0, 1)).reply().getTopics(0)
                .getError(), "at least 1", "asked for 0");
        assertError(ErrorCode.INVALID_PARTITIONS, create(threeBrokers, topic("t", -3, 1)).reply().getTopics(0)
                .getError());
        assertError(ErrorCode.INVALID_PARTITIONS, create(threeBrokers, topic("t", 10_001, 1)).reply().getTopics(0)
                .getError(), "10000");
    }

    @Test
    void replicationFactorMustFitTheLiveBrokers() {
        assertError(ErrorCode.INVALID_REPLICATION_FACTOR, create(threeBrokers, topic("t", 1, 0)).reply().getTopics(0)
                .getError(), "at least 1");
        assertError(ErrorCode.INVALID_REPLICATION_FACTOR, create(threeBrokers, topic("t", 1, 4)).reply().getTopics(0)
                .getError(), "replication factor 4", "live brokers (3)");
        // A fenced broker does not count.
        MetadataImage oneFenced = apply(threeBrokers, List.of(Records.fenceBroker(3, 3)));
        assertError(ErrorCode.INVALID_REPLICATION_FACTOR, create(oneFenced, topic("t", 1, 3)).reply().getTopics(0)
                .getError(), "live brokers (2)");
        // Without a replication factor the default (3) is capped at the live brokers.
        CreateTopicsResponse defaulted = create(oneFenced, CreatableTopic.newBuilder().setName("d")).reply();
        assertEquals(ErrorCode.NONE, defaulted.getTopics(0).getError().getCode());
        assertEquals(2, defaulted.getTopics(0).getReplicationFactor());
        assertEquals(1, defaulted.getTopics(0).getNumPartitions());
    }

    @Test
    void topicConfigsAreValidated() {
        assertError(ErrorCode.INVALID_CONFIG, create(threeBrokers, topic("t", 1, 1)
                .addConfigs(config("retention.mss", "1"))).reply().getTopics(0).getError(), "unknown", "retention.mss");
        assertError(ErrorCode.INVALID_CONFIG, create(threeBrokers, topic("t", 1, 1)
                .addConfigs(config("retention.ms", "soon"))).reply().getTopics(0).getError(), "retention.ms",
                "not a whole number");
        assertError(ErrorCode.INVALID_CONFIG, create(threeBrokers, topic("t", 1, 1)
                .addConfigs(config("cleanup.policy", "compact"))).reply().getTopics(0).getError(), "compaction");
        assertError(ErrorCode.INVALID_CONFIG, create(threeBrokers, topic("t", 1, 1)
                .addConfigs(config("retention.ms", "1")).addConfigs(config("retention.ms", "2"))).reply().getTopics(0)
                .getError(), "twice");
        assertError(ErrorCode.INVALID_CONFIG, create(threeBrokers, topic("t", 1, 2)
                .addConfigs(config("min.insync.replicas", "3"))).reply().getTopics(0).getError(),
                "min.insync.replicas=3", "replication factor 2");

        ControllerResult<CreateTopicsResponse> ok = create(threeBrokers, topic("t", 1, 3)
                .addConfigs(config("retention.ms", "1000")).addConfigs(config("min.insync.replicas", "2")));
        assertEquals(ErrorCode.NONE, ok.reply().getTopics(0).getError().getCode());
        assertEquals(Map.of("retention.ms", "1000", "min.insync.replicas", "2"),
                apply(threeBrokers, ok.records()).topic("t").configs());
    }

    @Test
    void duplicateNamesInOneRequestFailBothButOthersSucceed() {
        ControllerResult<CreateTopicsResponse> result =
                create(threeBrokers, topic("dup", 1, 1), topic("fine", 2, 1), topic("dup", 1, 1));
        assertError(ErrorCode.INVALID_REQUEST, result.reply().getTopics(0).getError(), "more than once");
        assertEquals(ErrorCode.NONE, result.reply().getTopics(1).getError().getCode());
        assertError(ErrorCode.INVALID_REQUEST, result.reply().getTopics(2).getError());
        MetadataImage after = apply(threeBrokers, result.records());
        assertEquals(Set.of("fine"), after.topicIdsByName().keySet());
    }

    @Test
    void validateOnlyCreatesNothing() {
        ControllerResult<CreateTopicsResponse> result = decisions.createTopics(threeBrokers,
                CreateTopicsRequest.newBuilder().addTopics(topic("t", 3, 3)).setValidateOnly(true).build());
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        assertTrue(result.records().isEmpty());
    }

    private ControllerResult<CreatePartitionsResponse> addPartitions(MetadataImage image, String name, int count) {
        return decisions.createPartitions(image, CreatePartitionsRequest.newBuilder()
                .addTopics(CreatePartitionsTopic.newBuilder().setName(name).setCount(count)).build());
    }

    @Test
    void partitionsCanOnlyBeAdded() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 3, 2);
        ControllerResult<CreatePartitionsResponse> grown = addPartitions(image, "t", 5);
        assertEquals(ErrorCode.NONE, grown.reply().getTopics(0).getError().getCode());
        TopicImage topic = apply(image, grown.records()).topic("t");
        assertEquals(5, topic.numPartitions());
        assertEquals(2, topic.partition(4).replicas().size());

        assertError(ErrorCode.INVALID_PARTITIONS, addPartitions(image, "t", 3).reply().getTopics(0).getError(),
                "already has 3 partitions");
        ControllerResult<CreatePartitionsResponse> shrink = addPartitions(image, "t", 2);
        assertError(ErrorCode.INVALID_PARTITIONS, shrink.reply().getTopics(0).getError(), "has 3 partitions",
                "asked for 2");
        assertTrue(shrink.records().isEmpty());
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, addPartitions(image, "nope", 4).reply().getTopics(0)
                .getError(), "'nope' does not exist");
        MetadataImage twoLive = apply(withTopic(threeBrokers, decisions, "rf3", 1, 3),
                List.of(Records.fenceBroker(1, 1)));
        assertError(ErrorCode.INVALID_REPLICATION_FACTOR, addPartitions(twoLive, "rf3", 2).reply().getTopics(0)
                .getError(), "replication factor 3", "only 2 brokers");
    }

    @Test
    void deleteByNameAndIdWithUnknownsReported() {
        MetadataImage image = withTopic(withTopic(threeBrokers, decisions, "a", 1, 1), decisions, "b", 1, 1);
        UUID bId = image.topic("b").id();
        ControllerResult<DeleteTopicsResponse> result = decisions.deleteTopics(image, DeleteTopicsRequest.newBuilder()
                .addNames("a").addNames("ghost").addTopicIds(Uuids.toProto(bId))
                .addTopicIds(Uuids.toProto(new UUID(9, 9))).build());
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, result.reply().getTopics(1).getError(), "'ghost'");
        assertEquals(ErrorCode.NONE, result.reply().getTopics(2).getError().getCode());
        assertEquals("b", result.reply().getTopics(2).getName());
        assertError(ErrorCode.UNKNOWN_TOPIC_ID, result.reply().getTopics(3).getError());
        MetadataImage after = apply(image, result.records());
        assertTrue(after.topicsById().isEmpty());

        ControllerResult<DeleteTopicsResponse> twice = decisions.deleteTopics(image, DeleteTopicsRequest.newBuilder()
                .addNames("a").addTopicIds(Uuids.toProto(image.topic("a").id())).build());
        assertError(ErrorCode.INVALID_REQUEST, twice.reply().getTopics(1).getError(), "more than once");
        assertEquals(1, twice.records().size());
    }

    private ControllerResult<AlterConfigsResponse> alter(MetadataImage image, String topic, AlterConfigOp... ops) {
        return decisions.alterConfigs(image, AlterConfigsRequest.newBuilder().addResources(AlterConfigsResource
                .newBuilder().setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC).setResourceName(topic)
                .addAllOps(List.of(ops))).build());
    }

    private static AlterConfigOp set(String key, String value) {
        return AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.SET).setKey(key).setValue(value).build();
    }

    private static AlterConfigOp delete(String key) {
        return AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.DELETE).setKey(key).build();
    }

    @Test
    void alterConfigsSetsRemovesAndValidates() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 1, 2, config("retention.ms", "5"));
        ControllerResult<AlterConfigsResponse> changed = alter(image, "t", set("segment.bytes", "1048576"),
                delete("retention.ms"));
        assertEquals(ErrorCode.NONE, changed.reply().getResources(0).getError().getCode());
        assertEquals(Map.of("segment.bytes", "1048576"), apply(image, changed.records()).topic("t").configs());

        assertTrue(alter(image, "t", set("retention.ms", "5")).records().isEmpty(), "setting the same value");
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, alter(image, "nope", set("retention.ms", "1")).reply()
                .getResources(0).getError());
        assertError(ErrorCode.INVALID_CONFIG, alter(image, "t", set("bogus", "1")).reply().getResources(0)
                .getError(), "bogus");
        assertError(ErrorCode.INVALID_CONFIG, alter(image, "t", set("min.insync.replicas", "3")).reply()
                .getResources(0).getError(), "replication factor 2");
        ControllerResult<AlterConfigsResponse> partlyBad = alter(image, "t", set("retention.ms", "9"),
                set("max.message.bytes", "-1"));
        assertError(ErrorCode.INVALID_CONFIG, partlyBad.reply().getResources(0).getError(), "max.message.bytes");
        assertTrue(partlyBad.records().isEmpty(), "a resource is altered wholly or not at all");
    }

    @Test
    void theInternalTopicCannotBeDeletedGrownOrReconfigured() {
        MetadataImage image = withTopic(withTopic(threeBrokers, decisions, TopicNames.OFFSETS_TOPIC, 4, 3), decisions,
                "t", 1, 1);
        UUID offsetsId = image.topic(TopicNames.OFFSETS_TOPIC).id();

        ControllerResult<DeleteTopicsResponse> deleted = decisions.deleteTopics(image, DeleteTopicsRequest.newBuilder()
                .addNames(TopicNames.OFFSETS_TOPIC).addNames("t").build());
        assertError(ErrorCode.INVALID_TOPIC, deleted.reply().getTopics(0).getError(),
                "Cannot delete internal topic __consumer_offsets");
        assertEquals(ErrorCode.NONE, deleted.reply().getTopics(1).getError().getCode(), "other topics are deleted");
        MetadataImage after = apply(image, deleted.records());
        assertEquals(offsetsId, after.topic(TopicNames.OFFSETS_TOPIC).id());
        assertNull(after.topic("t"));
        ControllerResult<DeleteTopicsResponse> byId = decisions.deleteTopics(image, DeleteTopicsRequest.newBuilder()
                .addTopicIds(Uuids.toProto(offsetsId)).build());
        assertError(ErrorCode.INVALID_TOPIC, byId.reply().getTopics(0).getError(), "Cannot delete internal topic");
        assertEquals(TopicNames.OFFSETS_TOPIC, byId.reply().getTopics(0).getName());
        assertTrue(byId.records().isEmpty());

        ControllerResult<CreatePartitionsResponse> grown = addPartitions(image, TopicNames.OFFSETS_TOPIC, 8);
        assertError(ErrorCode.INVALID_TOPIC, grown.reply().getTopics(0).getError(),
                "Cannot add partitions to internal topic __consumer_offsets");
        assertTrue(grown.records().isEmpty());

        ControllerResult<AlterConfigsResponse> altered = alter(image, TopicNames.OFFSETS_TOPIC,
                set("min.insync.replicas", "1"));
        assertError(ErrorCode.INVALID_TOPIC, altered.reply().getResources(0).getError(),
                "Cannot alter the configs of internal topic __consumer_offsets");
        assertTrue(altered.records().isEmpty());
    }
}
