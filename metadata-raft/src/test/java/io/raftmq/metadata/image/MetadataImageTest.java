package io.raftmq.metadata.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.metadata.BrokerControlledShutdownRecord;
import io.raftmq.protocol.metadata.ClusterIdRecord;
import io.raftmq.protocol.metadata.ConfigChangeRecord;
import io.raftmq.protocol.metadata.ConfigResourceType;
import io.raftmq.protocol.metadata.ControllerChangeRecord;
import io.raftmq.protocol.metadata.CreateTopicRecord;
import io.raftmq.protocol.metadata.DeleteTopicRecord;
import io.raftmq.protocol.metadata.FenceBrokerRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionChangeRecord;
import io.raftmq.protocol.metadata.PartitionRecord;
import io.raftmq.protocol.metadata.RegisterBrokerRecord;
import io.raftmq.protocol.metadata.RemoveUserScramCredentialRecord;
import io.raftmq.protocol.metadata.ReplicaList;
import io.raftmq.protocol.metadata.ScramMechanism;
import io.raftmq.protocol.metadata.UnfenceBrokerRecord;
import io.raftmq.protocol.metadata.UserScramCredentialRecord;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Replay rules of {@link MetadataDelta} and image -> records -> image round trips. */
class MetadataImageTest {
    private static final UUID ORDERS = new UUID(1, 1);
    private static final UUID EVENTS = new UUID(2, 2);

    static MetadataRecord register(int id, long epoch) {
        return MetadataRecord.newBuilder().setRegisterBroker(RegisterBrokerRecord.newBuilder()
                .setBrokerId(id).setBrokerEpoch(epoch).setIncarnationId(Uuids.toProto(new UUID(id, epoch)))
                .addEndpoints(Endpoint.newBuilder().setListener("grpc").setHost("h" + id).setPort(9093))
                .setRack(id % 2 == 0 ? "rack-a" : "")).build();
    }

    static MetadataRecord unfence(int id, long epoch) {
        return MetadataRecord.newBuilder().setUnfenceBroker(UnfenceBrokerRecord.newBuilder().setBrokerId(id)
                .setBrokerEpoch(epoch)).build();
    }

    static MetadataRecord createTopic(String name, UUID id, String... configs) {
        CreateTopicRecord.Builder b = CreateTopicRecord.newBuilder().setName(name).setTopicId(Uuids.toProto(id));
        for (int i = 0; i < configs.length; i += 2) {
            b.addConfigs(ConfigEntry.newBuilder().setKey(configs[i]).setValue(configs[i + 1]));
        }
        return MetadataRecord.newBuilder().setCreateTopic(b).build();
    }

    static MetadataRecord partition(UUID topic, int id, List<Integer> replicas, List<Integer> isr, int leader) {
        return MetadataRecord.newBuilder().setPartition(PartitionRecord.newBuilder().setTopicId(Uuids.toProto(topic))
                .setPartitionId(id).addAllReplicas(replicas).addAllIsr(isr).setLeader(leader)).build();
    }

    static MetadataRecord change(UUID topic, int id, Integer leader, List<Integer> isr) {
        PartitionChangeRecord.Builder b = PartitionChangeRecord.newBuilder().setTopicId(Uuids.toProto(topic))
                .setPartitionId(id);
        if (leader != null) {
            b.setLeader(leader);
        }
        if (isr != null) {
            b.setIsr(ReplicaList.newBuilder().addAllBrokerIds(isr));
        }
        return MetadataRecord.newBuilder().setPartitionChange(b).build();
    }

    static MetadataRecord clusterId(String id) {
        return MetadataRecord.newBuilder().setClusterId(ClusterIdRecord.newBuilder().setClusterId(id)).build();
    }

    /**
     * An image with every kind of state: all broker states, configs, offline partitions, a controller,
     * a cluster id.
     */
    static MetadataImage richImage() {
        MetadataImage image = MetadataImage.EMPTY;
        image = MetadataDelta.replayBatch(image, 3, List.of(register(1, 1), register(2, 2), register(3, 3),
                register(4, 4)));
        image = MetadataDelta.replayBatch(image, 5, List.of(unfence(1, 1), unfence(2, 2), unfence(3, 3),
                MetadataRecord.newBuilder().setControllerChange(ControllerChangeRecord.newBuilder()
                        .setControllerId(2).setControllerEpoch(7).setEndpoint(Endpoint.newBuilder()
                                .setListener("grpc").setHost("h2").setPort(9093))).build(),
                clusterId("bSVa9uQpR2yYqDWn1LSmDw")));
        image = MetadataDelta.replayBatch(image, 9, List.of(
                createTopic("orders", ORDERS, "retention.ms", "1000", "min.insync.replicas", "2"),
                partition(ORDERS, 0, List.of(1, 2, 3), List.of(1, 2, 3), 1),
                partition(ORDERS, 1, List.of(2, 3, 1), List.of(2, 3, 1), 2),
                createTopic("events", EVENTS),
                partition(EVENTS, 0, List.of(3), List.of(3), 3)));
        image = MetadataDelta.replayBatch(image, 12, List.of(
                MetadataRecord.newBuilder().setBrokerControlledShutdown(BrokerControlledShutdownRecord.newBuilder()
                        .setBrokerId(3).setBrokerEpoch(3)).build(),
                change(ORDERS, 0, null, List.of(1, 2)),
                change(ORDERS, 1, 1, List.of(2, 1)),
                change(EVENTS, 0, -1, null),
                MetadataRecord.newBuilder().setConfigChange(ConfigChangeRecord.newBuilder()
                        .setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC).setResourceName("orders")
                        .setKey("retention.ms").setValue("2000")).build(),
                MetadataRecord.newBuilder().setProducerIds(io.raftmq.protocol.metadata.ProducerIdsRecord.newBuilder()
                        .setBrokerId(2).setBrokerEpoch(2).setNextProducerId(3000)).build()));
        return image;
    }

    @Test
    void replayAppliesEveryRecordKind() {
        MetadataImage image = richImage();
        assertEquals(12, image.offset());
        assertEquals(BrokerState.UNFENCED, image.broker(1).state());
        assertEquals(3000, image.nextProducerId());
        assertEquals(BrokerState.CONTROLLED_SHUTDOWN, image.broker(3).state());
        assertEquals(BrokerState.FENCED, image.broker(4).state());
        assertEquals(3, image.broker(1).registrationOffset());
        PartitionRegistration o1 = image.topic("orders").partition(1);
        assertEquals(1, o1.leader());
        assertEquals(1, o1.leaderEpoch());
        assertEquals(1, o1.partitionEpoch());
        assertEquals(List.of(2, 1), o1.isr());
        PartitionRegistration o0 = image.topic("orders").partition(0);
        assertEquals(0, o0.leaderEpoch(), "an ISR-only change keeps the leader epoch");
        assertEquals(1, o0.partitionEpoch());
        assertEquals(PartitionRegistration.NO_LEADER, image.topic("events").partition(0).leader());
        assertEquals("2000", image.topic("orders").configs().get("retention.ms"));
        assertEquals(2, image.controller().controllerId());
        assertEquals(4, image.highestBrokerEpoch());
        assertEquals("bSVa9uQpR2yYqDWn1LSmDw", image.clusterId());
        assertEquals(null, MetadataImage.EMPTY.clusterId());
    }

    @Test
    void imageToRecordsToImageRoundTrips() {
        MetadataImage image = richImage();
        List<MetadataRecord> records = ImageRecords.of(image);
        MetadataImage loaded = MetadataDelta.loadSnapshot(image.offset(), records);
        assertEquals(image, loaded);
        assertEquals(records, ImageRecords.of(loaded), "deterministic order");
        assertEquals("bSVa9uQpR2yYqDWn1LSmDw", loaded.clusterId());
        assertEquals(MetadataImage.EMPTY.withOffset(5), MetadataDelta.loadSnapshot(5, ImageRecords.of(
                MetadataImage.EMPTY)));
    }

    @Test
    void deletedTopicIsGoneWithItsName() {
        MetadataImage image = MetadataDelta.replayBatch(richImage(), 13, List.of(MetadataRecord.newBuilder()
                .setDeleteTopic(DeleteTopicRecord.newBuilder().setTopicId(Uuids.toProto(ORDERS))).build()));
        assertEquals(null, image.topic("orders"));
        assertEquals(null, image.topic(ORDERS));
        // The name is free again, under a new id.
        UUID again = new UUID(3, 3);
        image = MetadataDelta.replayBatch(image, 14, List.of(createTopic("orders", again),
                partition(again, 0, List.of(1), List.of(1), 1)));
        assertEquals(again, image.topic("orders").id());
        assertEquals(image, MetadataDelta.loadSnapshot(14, ImageRecords.of(image)));
    }

    @Test
    void deltaReportsWhatChanged() {
        MetadataDelta delta = new MetadataDelta(richImage());
        delta.replay(13, change(ORDERS, 0, 2, null));
        delta.replay(13, MetadataRecord.newBuilder().setDeleteTopic(DeleteTopicRecord.newBuilder()
                .setTopicId(Uuids.toProto(EVENTS))).build());
        delta.replay(13, MetadataRecord.newBuilder().setFenceBroker(FenceBrokerRecord.newBuilder().setBrokerId(1)
                .setBrokerEpoch(1)).build());
        assertEquals(java.util.Set.of(ORDERS), delta.changedTopicIds());
        assertEquals(java.util.Set.of(EVENTS), delta.deletedTopicIds());
        assertEquals(java.util.Set.of(1), delta.changedBrokerIds());
    }

    private static void assertRejected(MetadataImage base, MetadataRecord record, String... fragments) {
        MetadataReplayException e = assertThrows(MetadataReplayException.class,
                () -> MetadataDelta.replayBatch(base, base.offset() + 1, List.of(record)));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }

    @Test
    void recordsThatContradictTheImageAreRejectedNamingBothValues() {
        MetadataImage image = richImage();
        assertRejected(image, register(1, 1), "epoch 1", "previous epoch 1");
        assertRejected(image, change(new UUID(9, 9), 0, 1, null), "unknown topic id");
        assertRejected(image, change(ORDERS, 5, 1, null), "partition 5", "has 2 partitions");
        assertRejected(image, change(ORDERS, 0, 3, List.of(1, 2)), "leader 3 outside its ISR [1, 2]");
        assertRejected(image, change(ORDERS, 0, null, List.of(1, 4)), "not a subset of replicas");
        assertRejected(image, change(ORDERS, 0, null, List.of()), "empty ISR");
        assertRejected(image, partition(ORDERS, 5, List.of(1), List.of(1), 1), "partition 5", "next partition id is 2");
        assertRejected(image, partition(ORDERS, 2, List.of(1, 9), List.of(1), 1), "unregistered broker 9");
        assertRejected(image, createTopic("orders", new UUID(5, 5)), "'orders'", "exists");
        assertRejected(image, createTopic("fresh", ORDERS), "in use");
        assertRejected(image, MetadataRecord.newBuilder().setFenceBroker(FenceBrokerRecord.newBuilder()
                .setBrokerId(1).setBrokerEpoch(9)).build(), "epoch 9", "has epoch 1");
        assertRejected(image, MetadataRecord.newBuilder().setControllerChange(ControllerChangeRecord.newBuilder()
                .setControllerId(1).setControllerEpoch(7)).build(), "epoch 7", "not above");
        assertRejected(image, MetadataRecord.getDefaultInstance(), "no record set");
    }

    @Test
    void theClusterIdIsSetOnceAndNeverChanges() {
        MetadataImage image = richImage();
        assertRejected(image, clusterId("AAAAAAAAAAAAAAAAAAAAAQ"), "sets cluster id AAAAAAAAAAAAAAAAAAAAAQ",
                "already bSVa9uQpR2yYqDWn1LSmDw");
        assertRejected(MetadataImage.EMPTY, clusterId(""), "empty cluster id");
        // The same id again contradicts nothing.
        assertEquals(image.withOffset(13), MetadataDelta.replayBatch(image, 13, List.of(clusterId(
                "bSVa9uQpR2yYqDWn1LSmDw"))));
        // Within one batch, too.
        MetadataReplayException e = assertThrows(MetadataReplayException.class, () -> MetadataDelta.replayBatch(
                MetadataImage.EMPTY, 1, List.of(clusterId("first"), clusterId("second"))));
        assertTrue(e.getMessage().contains("second") && e.getMessage().contains("already first"), e.getMessage());
    }

    static MetadataRecord credential(String user, ScramMechanism mechanism, int iterations, int keyByte) {
        return MetadataRecord.newBuilder().setUserScramCredential(UserScramCredentialRecord.newBuilder()
                .setName(user).setMechanism(mechanism).setIterations(iterations)
                .setSalt(ByteString.copyFrom(new byte[] {1, 2, 3}))
                .setStoredKey(ByteString.copyFrom(new byte[] {(byte) keyByte, 4}))
                .setServerKey(ByteString.copyFrom(new byte[] {(byte) keyByte, 5}))).build();
    }

    static MetadataRecord removeCredential(String user, ScramMechanism mechanism) {
        return MetadataRecord.newBuilder().setRemoveUserScramCredential(RemoveUserScramCredentialRecord.newBuilder()
                .setName(user).setMechanism(mechanism)).build();
    }

    @Test
    void scramCredentialsReplaySnapshotAndDeletion() {
        MetadataImage image = MetadataDelta.replayBatch(richImage(), 13, List.of(
                credential("bob", ScramMechanism.SCRAM_SHA_512, 8192, 7),
                credential("alice", ScramMechanism.SCRAM_SHA_256, 4096, 1),
                credential("alice", ScramMechanism.SCRAM_SHA_512, 4096, 2)));
        // A later upsertion replaces the user's credential of that mechanism.
        image = MetadataDelta.replayBatch(image, 14, List.of(credential("alice", ScramMechanism.SCRAM_SHA_256,
                5000, 3)));
        assertEquals(List.of("alice", "bob"), List.copyOf(image.scramUsersSorted().keySet()));
        ScramCredentialData alice256 = image.scramCredentials("alice").get(ScramMechanism.SCRAM_SHA_256);
        assertEquals(5000, alice256.iterations());
        assertEquals(new ScramCredentialData(new byte[] {1, 2, 3}, new byte[] {3, 4}, new byte[] {3, 5}, 5000),
                alice256);
        assertTrue(image.scramCredentials("carol").isEmpty());

        List<MetadataRecord> records = ImageRecords.of(image);
        MetadataImage loaded = MetadataDelta.loadSnapshot(image.offset(), records);
        assertEquals(image, loaded, "credentials survive a snapshot");
        assertEquals(records, ImageRecords.of(loaded), "deterministic order");

        image = MetadataDelta.replayBatch(image, 15, List.of(removeCredential("bob", ScramMechanism.SCRAM_SHA_512),
                removeCredential("alice", ScramMechanism.SCRAM_SHA_256)));
        assertEquals(List.of("alice"), List.copyOf(image.scramUsersSorted().keySet()), "a user without any is gone");
        assertEquals(java.util.Set.of(ScramMechanism.SCRAM_SHA_512), image.scramCredentials("alice").keySet());
        assertEquals(image, MetadataDelta.loadSnapshot(15, ImageRecords.of(image)));

        assertRejected(image, removeCredential("bob", ScramMechanism.SCRAM_SHA_512), "'bob'", "no such credential");
        assertRejected(image, credential("", ScramMechanism.SCRAM_SHA_256, 4096, 1), "empty user name");
        assertRejected(image, credential("dave", ScramMechanism.SCRAM_MECHANISM_UNSPECIFIED, 4096, 1), "'dave'",
                "unknown mechanism");
        assertRejected(image, credential("dave", ScramMechanism.SCRAM_SHA_256, 0, 1), "'dave'", "iterations (0)");
    }
}
