package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.config;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
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
import io.raftmq.protocol.metadata.ConfigResourceType;
import io.raftmq.protocol.metadata.CreateTopicRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionRecord;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Bounds on what topic commands may ask for (segment sizes and ages, partition counts per request
 * and in the cluster), checked on the command path only: records already in the metadata log
 * replay whatever they hold.
 */
class TopicLimitsTest {
    private final ControllerDecisions decisions = TestImages.decisions();
    private final MetadataImage threeBrokers = unfencedBrokers(3);

    private static CreatableTopic.Builder topic(String name, int partitions) {
        return CreatableTopic.newBuilder().setName(name).setNumPartitions(partitions).setReplicationFactor(1);
    }

    private static CreateTopicsRequest request(CreatableTopic.Builder... topics) {
        CreateTopicsRequest.Builder request = CreateTopicsRequest.newBuilder();
        for (CreatableTopic.Builder t : topics) {
            request.addTopics(t);
        }
        return request.build();
    }

    private static AlterConfigsRequest alter(String topic, String key, String value) {
        return AlterConfigsRequest.newBuilder().addResources(AlterConfigsResource.newBuilder()
                .setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC).setResourceName(topic)
                .addOps(AlterConfigOp.newBuilder().setOp(AlterConfigOp.OpType.SET).setKey(key).setValue(value)))
                .build();
    }

    @Test
    void segmentBytesBelowKafkasOneMebibyteIsRefusedOnCreateAndAlter() {
        ControllerResult<CreateTopicsResponse> created = decisions.createTopics(threeBrokers,
                request(topic("tiny", 1).addConfigs(config("segment.bytes", "1024"))));
        assertError(ErrorCode.INVALID_CONFIG, created.reply().getTopics(0).getError(), "segment.bytes", "1024",
                "1048576");
        assertTrue(created.records().isEmpty());

        MetadataImage image = withTopic(threeBrokers, decisions, "t", 1, 1);
        ControllerResult<AlterConfigsResponse> altered = decisions.alterConfigs(image,
                alter("t", "segment.bytes", "1048575"));
        assertError(ErrorCode.INVALID_CONFIG, altered.reply().getResources(0).getError(), "segment.bytes",
                "1048575", "1048576");
        assertTrue(altered.records().isEmpty());
        assertEquals(ErrorCode.NONE, decisions.alterConfigs(image, alter("t", "segment.bytes", "1048576")).reply()
                .getResources(0).getError().getCode());
    }

    @Test
    void segmentMsBelowOneMinuteIsRefusedOnCreateAndAlter() {
        ControllerResult<CreateTopicsResponse> created = decisions.createTopics(threeBrokers,
                request(topic("fast", 1).addConfigs(config("segment.ms", "1"))));
        assertError(ErrorCode.INVALID_CONFIG, created.reply().getTopics(0).getError(), "segment.ms", "'1'",
                "60000");
        assertTrue(created.records().isEmpty());

        MetadataImage image = withTopic(threeBrokers, decisions, "t", 1, 1);
        ControllerResult<AlterConfigsResponse> altered = decisions.alterConfigs(image,
                alter("t", "segment.ms", "59999"));
        assertError(ErrorCode.INVALID_CONFIG, altered.reply().getResources(0).getError(), "segment.ms", "59999",
                "60000");
        assertEquals(ErrorCode.NONE, decisions.alterConfigs(image, alter("t", "segment.ms", "60000")).reply()
                .getResources(0).getError().getCode());
    }

    @Test
    void oneRequestCannotCreateMorePartitionsThanThePerRequestLimit() {
        ControllerResult<CreateTopicsResponse> result = decisions.createTopics(threeBrokers,
                request(topic("a", 6_000), topic("b", 6_000), topic("c", 4_000)));
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        assertError(ErrorCode.INVALID_PARTITIONS, result.reply().getTopics(1).getError(), "'b'", "6000",
                "already adds 6000", "10000", "max.partitions.per.request");
        // A later, smaller topic still fits.
        assertEquals(ErrorCode.NONE, result.reply().getTopics(2).getError().getCode());
        assertEquals(1 + 6_000 + 1 + 4_000, result.records().size());
    }

    @Test
    void theClusterHoldsAtMostMaxPartitions() {
        AtomicLong ids = new AtomicLong(1);
        ControllerDecisions limited = new ControllerDecisions(1, 3, new TopicLimits(10, 8),
                () -> new UUID(0x7e57, ids.getAndIncrement()), () -> new UUID(0xc1, 1));
        MetadataImage image = withTopic(threeBrokers, limited, "six", 6, 1);

        ControllerResult<CreateTopicsResponse> tooMany = limited.createTopics(image, request(topic("five", 5)));
        assertError(ErrorCode.INVALID_PARTITIONS, tooMany.reply().getTopics(0).getError(), "'five'", "5", "6",
                "10", "max.partitions");
        assertTrue(tooMany.records().isEmpty());
        ControllerResult<CreateTopicsResponse> perRequest = limited.createTopics(image, request(topic("p", 3),
                topic("q", 2)));
        assertEquals(ErrorCode.NONE, perRequest.reply().getTopics(0).getError().getCode());
        assertError(ErrorCode.INVALID_PARTITIONS, perRequest.reply().getTopics(1).getError(), "'q'",
                "max.partitions");

        ControllerResult<CreatePartitionsResponse> grow = limited.createPartitions(image,
                CreatePartitionsRequest.newBuilder().addTopics(CreatePartitionsTopic.newBuilder().setName("six")
                        .setCount(11)).build());
        assertError(ErrorCode.INVALID_PARTITIONS, grow.reply().getTopics(0).getError(), "'six'", "5", "6", "10",
                "max.partitions");
        assertTrue(grow.records().isEmpty());
        ControllerResult<CreatePartitionsResponse> fits = limited.createPartitions(image,
                CreatePartitionsRequest.newBuilder().addTopics(CreatePartitionsTopic.newBuilder().setName("six")
                        .setCount(10)).build());
        assertEquals(ErrorCode.NONE, fits.reply().getTopics(0).getError().getCode());
        assertEquals(10, apply(image, fits.records()).topic("six").numPartitions());
    }

    @Test
    void recordsWrittenBeforeTheBoundsStillReplayAndTheirTopicsStayAlterable() {
        UUID id = new UUID(1, 2);
        MetadataImage image = apply(threeBrokers, List.of(
                MetadataRecord.newBuilder().setCreateTopic(CreateTopicRecord.newBuilder().setName("old")
                        .setTopicId(Uuids.toProto(id))
                        .addConfigs(config("segment.bytes", "1024"))
                        .addConfigs(config("segment.ms", "1"))).build(),
                MetadataRecord.newBuilder().setPartition(PartitionRecord.newBuilder().setTopicId(Uuids.toProto(id))
                        .setPartitionId(0).addReplicas(1).addIsr(1).setLeader(1)).build()));
        assertEquals(Map.of("segment.bytes", "1024", "segment.ms", "1"), image.topic("old").configs());

        ControllerResult<AlterConfigsResponse> fixed = decisions.alterConfigs(image,
                alter("old", "retention.ms", "1000"));
        assertEquals(ErrorCode.NONE, fixed.reply().getResources(0).getError().getCode(),
                fixed.reply().getResources(0).getError().getMessage());
        assertEquals("1000", apply(image, fixed.records()).topic("old").configs().get("retention.ms"));
    }
}
