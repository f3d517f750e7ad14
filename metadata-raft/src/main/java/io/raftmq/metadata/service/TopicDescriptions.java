package io.raftmq.metadata.service;

import io.raftmq.common.ApiError;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.TopicDescription;
import java.util.List;
import java.util.Map;

/**
 * DescribeTopics answered from a {@link MetadataImage}: the voters' Controller service and the
 * brokers' Broker service give the same answer for the same image. Stateless.
 */
public final class TopicDescriptions {
    private TopicDescriptions() {}

    /**
     * Every topic when {@code names} is empty, else the named ones in request order, each missing
     * name with UNKNOWN_TOPIC_OR_PARTITION. Error NONE and the image's offset are set; the caller
     * adds the controller hint.
     */
    public static DescribeTopicsResponse.Builder of(MetadataImage image, List<String> names) {
        DescribeTopicsResponse.Builder out = DescribeTopicsResponse.newBuilder()
                .setError(ApiError.NONE.toProto())
                .setMetadataOffset(image.offset());
        if (names.isEmpty()) {
            image.topicsSorted().forEach(t -> out.addTopics(describe(t)));
        } else {
            for (String name : names) {
                TopicImage topic = image.topic(name);
                out.addTopics(topic != null ? describe(topic) : TopicDescription.newBuilder().setName(name)
                        .setError(ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist",
                                name).toProto()).build());
            }
        }
        return out;
    }

    /** A topic with its config overrides and every partition's state. */
    public static TopicDescription describe(TopicImage topic) {
        TopicDescription.Builder out = TopicDescription.newBuilder()
                .setName(topic.name())
                .setError(ApiError.NONE.toProto())
                .setTopicId(Uuids.toProto(topic.id()));
        for (Map.Entry<String, String> config : topic.configs().entrySet()) {
            out.addConfigs(ConfigEntry.newBuilder().setKey(config.getKey()).setValue(config.getValue()));
        }
        for (int i = 0; i < topic.numPartitions(); i++) {
            PartitionRegistration p = topic.partitions().get(i);
            out.addPartitions(PartitionState.newBuilder()
                    .setTopicId(Uuids.toProto(topic.id()))
                    .setPartitionId(i)
                    .setError(ApiError.NONE.toProto())
                    .setLeader(p.leader())
                    .setLeaderEpoch(p.leaderEpoch())
                    .setPartitionEpoch(p.partitionEpoch())
                    .addAllReplicas(p.replicas())
                    .addAllIsr(p.isr()));
        }
        return out.build();
    }
}
