package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.PartitionState;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PartitionDecisionsTest {
    private final ControllerDecisions decisions = TestImages.decisions();
    private MetadataImage image;
    private UUID topicId;
    private PartitionRegistration p0;

    @BeforeEach
    void setUp() {
        image = withTopic(unfencedBrokers(4), decisions, "t", 2, 3);
        topicId = image.topic("t").id();
        p0 = image.topic("t").partition(0);
    }

    private int follower() {
        return p0.replicas().get(1);
    }

    private ControllerResult<AlterPartitionResponse> alter(int broker, long brokerEpoch, PartitionIsrChange change) {
        return decisions.alterPartition(image, AlterPartitionRequest.newBuilder().setBrokerId(broker)
                .setBrokerEpoch(brokerEpoch).addPartitions(change).build());
    }

    private PartitionIsrChange.Builder change(List<Integer> isr) {
        return PartitionIsrChange.newBuilder().setTopicId(Uuids.toProto(topicId)).setPartitionId(0)
                .setLeaderEpoch(p0.leaderEpoch()).setPartitionEpoch(p0.partitionEpoch()).addAllNewIsr(isr);
    }

    @Test
    void leaderShrinksAndExpandsIsr() {
        int leader = p0.leader();
        List<Integer> shrunk = List.of(leader, p0.replicas().get(2));
        ControllerResult<AlterPartitionResponse> result = alter(leader, leader, change(shrunk).build());
        PartitionState state = result.reply().getPartitions(0);
        assertEquals(ErrorCode.NONE, state.getError().getCode());
        assertEquals(shrunk, state.getIsrList());
        assertEquals(p0.partitionEpoch() + 1, state.getPartitionEpoch());
        assertEquals(p0.leaderEpoch(), state.getLeaderEpoch());
        image = apply(image, result.records());
        assertEquals(shrunk, image.topic("t").partition(0).isr());

        p0 = image.topic("t").partition(0);
        ControllerResult<AlterPartitionResponse> expanded = alter(leader, leader, change(p0.replicas()).build());
        assertEquals(ErrorCode.NONE, expanded.reply().getPartitions(0).getError().getCode());
        assertEquals(p0.replicas(), apply(image, expanded.records()).topic("t").partition(0).isr());
    }

    @Test
    void unchangedIsrWritesNothing() {
        ControllerResult<AlterPartitionResponse> result = alter(p0.leader(), p0.leader(), change(p0.isr()).build());
        assertEquals(ErrorCode.NONE, result.reply().getPartitions(0).getError().getCode());
        assertTrue(result.records().isEmpty());
    }

    @Test
    void stalePartitionEpochIsRefused() {
        var result = alter(p0.leader(), p0.leader(), change(p0.isr())
                .setPartitionEpoch(p0.partitionEpoch() - 1).build());
        assertError(ErrorCode.INVALID_UPDATE_VERSION, result.reply().getPartitions(0).getError(), "partition epoch");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void staleLeaderEpochIsFenced() {
        image = apply(image, decisions.fenceBrokers(image, List.of(p0.leader())).records());
        PartitionRegistration moved = image.topic("t").partition(0);
        int newLeader = moved.leader();
        var result = decisions.alterPartition(image, AlterPartitionRequest.newBuilder().setBrokerId(newLeader)
                .setBrokerEpoch(newLeader).addPartitions(PartitionIsrChange.newBuilder()
                        .setTopicId(Uuids.toProto(topicId)).setPartitionId(0)
                        .setLeaderEpoch(moved.leaderEpoch() - 1).setPartitionEpoch(moved.partitionEpoch())
                        .addAllNewIsr(moved.isr())).build());
        assertError(ErrorCode.FENCED_LEADER_EPOCH, result.reply().getPartitions(0).getError(), "leader epoch");
    }

    @Test
    void nonLeaderIsRefusedAndToldWhoLeads() {
        var result = alter(follower(), follower(), change(p0.isr()).build());
        assertError(ErrorCode.NOT_LEADER_OR_FOLLOWER, result.reply().getPartitions(0).getError(),
                "not the leader of t-0", "broker " + p0.leader());
        assertTrue(result.records().isEmpty());
    }

    @Test
    void staleBrokerEpochIsRefusedForTheWholeRequest() {
        var result = alter(p0.leader(), 99, change(p0.isr()).build());
        assertError(ErrorCode.STALE_BROKER_EPOCH, result.reply().getError(), "epoch 99");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void ineligibleOrMalformedIsrsAreRefused() {
        int leader = p0.leader();
        int outsider = List.of(1, 2, 3, 4).stream().filter(b -> !p0.isReplica(b)).findFirst().orElseThrow();
        assertError(ErrorCode.INELIGIBLE_REPLICA, alter(leader, leader, change(List.of(leader, outsider)).build())
                .reply().getPartitions(0).getError(), "not one of its replicas");
        assertError(ErrorCode.INVALID_REQUEST, alter(leader, leader, change(List.of()).build()).reply()
                .getPartitions(0).getError(), "empty");
        assertError(ErrorCode.INVALID_REQUEST, alter(leader, leader, change(List.of(follower())).build()).reply()
                .getPartitions(0).getError(), "leaves out its leader");
        assertError(ErrorCode.INVALID_REQUEST, alter(leader, leader, change(List.of(leader, leader)).build()).reply()
                .getPartitions(0).getError(), "twice");

        // Shrink first, then try to add a fenced follower back.
        int dropped = p0.replicas().get(2);
        image = apply(image, alter(leader, leader, change(List.of(leader, follower())).build()).records());
        p0 = image.topic("t").partition(0);
        image = apply(image, decisions.fenceBrokers(image, List.of(dropped)).records());
        p0 = image.topic("t").partition(0);
        assertError(ErrorCode.INELIGIBLE_REPLICA, alter(leader, leader, change(List.of(leader, follower(), dropped))
                .build()).reply().getPartitions(0).getError(), "fenced");
    }

    @Test
    void unknownTopicOrPartitionIsReported() {
        int leader = p0.leader();
        var unknownTopic = alter(leader, leader, change(p0.isr()).setTopicId(Uuids.toProto(new UUID(1, 2))).build());
        assertEquals(ErrorCode.UNKNOWN_TOPIC_ID, unknownTopic.reply().getPartitions(0).getError().getCode());
        var unknownPartition = alter(leader, leader, change(p0.isr()).setPartitionId(7).build());
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, unknownPartition.reply().getPartitions(0).getError(),
                "no partition 7");
    }
}
