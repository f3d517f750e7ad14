package io.raftmq.metadata.controller;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.RegisterBrokerRecord;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** Builds metadata images for decision tests by replaying records, as the controller would. */
final class TestImages {
    private TestImages() {}

    /** Decisions with deterministic topic and cluster ids. */
    static ControllerDecisions decisions() {
        AtomicLong next = new AtomicLong(1);
        AtomicLong nextCluster = new AtomicLong(1);
        return new ControllerDecisions(1, 3, () -> new UUID(0x7e57, next.getAndIncrement()),
                () -> new UUID(0xc1, nextCluster.getAndIncrement()));
    }

    static MetadataImage apply(MetadataImage image, List<MetadataRecord> records) {
        return MetadataDelta.replayBatch(image, image.offset() + 1, records);
    }

    static MetadataRecord register(int brokerId, long epoch, String rack) {
        return MetadataRecord.newBuilder().setRegisterBroker(RegisterBrokerRecord.newBuilder()
                .setBrokerId(brokerId)
                .setBrokerEpoch(epoch)
                .setIncarnationId(Uuids.toProto(new UUID(brokerId, epoch)))
                .addEndpoints(Endpoint.newBuilder().setListener("grpc").setHost("h" + brokerId).setPort(9093))
                .setRack(rack)).build();
    }

    /** Brokers 1..n registered and unfenced, each at epoch = its id. */
    static MetadataImage unfencedBrokers(int n) {
        MetadataImage image = MetadataImage.EMPTY;
        for (int id = 1; id <= n; id++) {
            image = apply(image, List.of(register(id, id, "")));
            image = apply(image, List.of(Records.unfenceBroker(id, id)));
        }
        return image;
    }

    static MetadataImage withTopic(MetadataImage image, ControllerDecisions decisions, String name, int partitions,
            int rf, ConfigEntry... configs) {
        ControllerResult<CreateTopicsResponse> result = decisions.createTopics(image, CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName(name).setNumPartitions(partitions)
                        .setReplicationFactor(rf).addAllConfigs(List.of(configs)))
                .build());
        if (result.reply().getTopics(0).getError().getCode() != ErrorCode.NONE) {
            throw new AssertionError(result.reply().getTopics(0).getError().getMessage());
        }
        return apply(image, result.records());
    }

    /** Asserts the error's code and that its message names each fragment. */
    static void assertError(ErrorCode code, io.raftmq.protocol.common.Error error, String... fragments) {
        org.junit.jupiter.api.Assertions.assertEquals(code, error.getCode(), error.getMessage());
        for (String fragment : fragments) {
            org.junit.jupiter.api.Assertions.assertTrue(error.getMessage().contains(fragment),
                    "'" + error.getMessage() + "' lacks '" + fragment + "'");
        }
    }

    static ConfigEntry config(String key, String value) {
        return ConfigEntry.newBuilder().setKey(key).setValue(value).build();
    }
}
