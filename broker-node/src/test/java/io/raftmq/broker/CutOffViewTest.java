package io.raftmq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What a broker whose lease expired tells clients: no leader anywhere, itself fenced, epochs kept. */
class CutOffViewTest {
    private static BrokerRegistration broker(int id) {
        return new BrokerRegistration(id, id, UUID.randomUUID(), List.of(Endpoint.newBuilder().setListener("grpc")
                .setHost("h").setPort(7000 + id).build()), "", BrokerState.UNFENCED, 10);
    }

    @Test
    void everyPartitionLosesItsLeaderAtTheSameEpochAndThisBrokerIsFenced() {
        UUID id = UUID.randomUUID();
        TopicImage topic = new TopicImage("t", id, new TreeMap<>(), List.of(
                new PartitionRegistration(List.of(1, 2, 3), List.of(1, 2, 3), 1, 4, 9),
                new PartitionRegistration(List.of(2, 3, 1), List.of(2, 3), 2, 7, 8)));
        MetadataImage image = new MetadataImage(42, Map.of(1, broker(1), 2, broker(2), 3, broker(3)),
                Map.of(id, topic), Map.of("t", id), null, 0, "cluster");

        MetadataImage told = CutOffView.of(image, 1);

        assertEquals(42, told.offset());
        for (int p = 0; p < 2; p++) {
            PartitionRegistration before = image.topic("t").partition(p);
            PartitionRegistration after = told.topic("t").partition(p);
            assertFalse(after.hasLeader(), "partition " + p + " names no leader");
            assertEquals(before.leaderEpoch(), after.leaderEpoch());
            assertEquals(before.isr(), after.isr());
            assertEquals(before.replicas(), after.replicas());
        }
        assertTrue(told.broker(1).isFenced());
        assertFalse(told.broker(2).isFenced());
        assertFalse(image.broker(1).isFenced(), "the applied image is not changed");
        assertTrue(image.topic("t").partition(0).hasLeader());
    }
}
