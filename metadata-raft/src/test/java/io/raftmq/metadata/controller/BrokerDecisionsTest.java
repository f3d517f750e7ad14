package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.config;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BrokerDecisionsTest {
    private static final BrokerDecisions.SessionView NO_SESSIONS = (id, epoch, now) -> false;
    private static final BrokerDecisions.SessionView ALL_LIVE = (id, epoch, now) -> true;

    private final ControllerDecisions decisions = TestImages.decisions();

    private static RegisterBrokerRequest.Builder registration(int id, UUID incarnation) {
        return RegisterBrokerRequest.newBuilder()
                .setBrokerId(id)
                .setIncarnationId(Uuids.toProto(incarnation))
                .addEndpoints(Endpoint.newBuilder().setListener("grpc").setHost("host").setPort(9093));
    }

    private static BrokerHeartbeatRequest heartbeat(int id, long epoch, long offset, boolean shutDown) {
        return BrokerHeartbeatRequest.newBuilder().setBrokerId(id).setBrokerEpoch(epoch).setMetadataOffset(offset)
                .setWantShutDown(shutDown).build();
    }

    @Test
    void registrationAssignsAGreaterEpochAndStartsFenced() {
        MetadataImage image = unfencedBrokers(2);
        ControllerResult<RegisterBrokerResponse> result =
                decisions.registerBroker(image, NO_SESSIONS, registration(3, UUID.randomUUID()).build(), 0);
        assertEquals(ErrorCode.NONE, result.reply().getError().getCode());
        assertEquals(3, result.reply().getBrokerEpoch());
        MetadataImage after = apply(image, result.records());
        assertEquals(BrokerState.FENCED, after.broker(3).state());
        assertEquals(after.offset(), after.broker(3).registrationOffset());
    }

    @Test
    void retryWithSameIncarnationIsIdempotent() {
        UUID incarnation = UUID.randomUUID();
        ControllerResult<RegisterBrokerResponse> first =
                decisions.registerBroker(MetadataImage.EMPTY, NO_SESSIONS, registration(1, incarnation).build(), 0);
        MetadataImage image = apply(MetadataImage.EMPTY, first.records());
        ControllerResult<RegisterBrokerResponse> retry =
                decisions.registerBroker(image, ALL_LIVE, registration(1, incarnation).build(), 0);
        assertTrue(retry.records().isEmpty());
        assertEquals(first.reply().getBrokerEpoch(), retry.reply().getBrokerEpoch());
    }

    @Test
    void anotherIncarnationIsRefusedWhileTheOldSessionLives() {
        MetadataImage image = unfencedBrokers(1);
        ControllerResult<RegisterBrokerResponse> result =
                decisions.registerBroker(image, ALL_LIVE, registration(1, UUID.randomUUID()).build(), 0);
        assertEquals(ErrorCode.DUPLICATE_BROKER_REGISTRATION, result.reply().getError().getCode());
        assertTrue(result.reply().getError().getMessage().contains("broker id 1"));
        assertTrue(result.records().isEmpty());
    }

    @Test
    void restartedBrokerLeavesIsrsAndLeadershipsUntilItCatchesUp() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 3, 3);
        ControllerResult<RegisterBrokerResponse> result =
                decisions.registerBroker(image, NO_SESSIONS, registration(1, UUID.randomUUID()).build(), 0);
        assertEquals(4, result.reply().getBrokerEpoch());
        MetadataImage after = apply(image, result.records());
        assertEquals(BrokerState.FENCED, after.broker(1).state());
        for (PartitionRegistration p : after.topic("t").partitions()) {
            assertFalse(p.isInIsr(1), "ISR " + p.isr());
            assertTrue(p.leader() == 2 || p.leader() == 3);
        }
    }

    @Test
    void badRegistrationsAreRefused() {
        assertEquals(ErrorCode.INVALID_REQUEST, decisions.registerBroker(MetadataImage.EMPTY, NO_SESSIONS,
                registration(-1, UUID.randomUUID()).build(), 0).reply().getError().getCode());
        assertEquals(ErrorCode.INVALID_REQUEST, decisions.registerBroker(MetadataImage.EMPTY, NO_SESSIONS,
                registration(1, UUID.randomUUID()).clearIncarnationId().build(), 0).reply().getError().getCode());
        assertEquals(ErrorCode.INVALID_REQUEST, decisions.registerBroker(MetadataImage.EMPTY, NO_SESSIONS,
                registration(1, UUID.randomUUID()).clearEndpoints().build(), 0).reply().getError().getCode());
        assertEquals(ErrorCode.INVALID_REQUEST, decisions.registerBroker(MetadataImage.EMPTY, NO_SESSIONS,
                registration(1, UUID.randomUUID()).setEndpoints(0, Endpoint.newBuilder().setHost("h").setPort(0))
                        .build(), 0).reply().getError().getCode());
    }

    @Test
    void heartbeatUnfencesOnlyOnceCaughtUp() {
        MetadataImage image = apply(unfencedBrokers(2), List.of(TestImages.register(3, 3, "")));
        long registeredAt = image.broker(3).registrationOffset();

        ControllerResult<BrokerHeartbeatResponse> behind =
                decisions.brokerHeartbeat(image, heartbeat(3, 3, registeredAt - 1, false), Long.MAX_VALUE);
        assertTrue(behind.reply().getIsFenced());
        assertTrue(behind.records().isEmpty());

        ControllerResult<BrokerHeartbeatResponse> caughtUp =
                decisions.brokerHeartbeat(image, heartbeat(3, 3, registeredAt, false), Long.MAX_VALUE);
        assertFalse(caughtUp.reply().getIsFenced());
        assertEquals(BrokerState.UNFENCED, apply(image, caughtUp.records()).broker(3).state());
    }

    @Test
    void heartbeatWithWrongEpochOrUnknownBrokerIsRefused() {
        MetadataImage image = unfencedBrokers(1);
        var stale = decisions.brokerHeartbeat(image, heartbeat(1, 7, 100, false), Long.MAX_VALUE).reply();
        assertEquals(ErrorCode.STALE_BROKER_EPOCH, stale.getError().getCode());
        assertTrue(stale.getError().getMessage().contains("epoch 7") && stale.getError().getMessage().contains("1"));
        assertEquals(ErrorCode.BROKER_ID_NOT_REGISTERED,
                decisions.brokerHeartbeat(image, heartbeat(9, 1, 100, false), Long.MAX_VALUE).reply().getError()
                        .getCode());
    }

    @Test
    void fencingMovesLeadershipToTheNextLiveIsrMemberInOneBatch() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 3, 3);
        ControllerResult<Void> result = decisions.fenceBrokers(image, List.of(1));
        assertTrue(result.records().get(0).hasFenceBroker());
        MetadataImage after = apply(image, result.records());
        assertEquals(BrokerState.FENCED, after.broker(1).state());
        for (int i = 0; i < 3; i++) {
            PartitionRegistration before = image.topic("t").partition(i);
            PartitionRegistration now = after.topic("t").partition(i);
            assertFalse(now.isInIsr(1));
            if (before.leader() == 1) {
                int expected = before.replicas().stream().filter(r -> r != 1).findFirst().orElseThrow();
                assertEquals(expected, now.leader(), "next ISR member in replica order");
                assertEquals(before.leaderEpoch() + 1, now.leaderEpoch());
            } else {
                assertEquals(before.leader(), now.leader());
                assertEquals(before.leaderEpoch(), now.leaderEpoch());
            }
            assertEquals(before.partitionEpoch() + 1, now.partitionEpoch());
        }
    }

    @Test
    void lastIsrMemberFencedTakesPartitionOfflineUntilItReturns() {
        MetadataImage image = withTopic(unfencedBrokers(2), decisions, "t", 1, 2);
        int leader = image.topic("t").partition(0).leader();
        int follower = leader == 1 ? 2 : 1;
        image = apply(image, decisions.fenceBrokers(image, List.of(follower)).records());
        assertEquals(List.of(leader), image.topic("t").partition(0).isr());
        image = apply(image, decisions.fenceBrokers(image, List.of(leader)).records());
        PartitionRegistration offline = image.topic("t").partition(0);
        assertEquals(PartitionRegistration.NO_LEADER, offline.leader(), "no unclean election");
        assertEquals(List.of(leader), offline.isr(), "the ISR keeps its last member");

        // The out-of-sync follower returns first: still offline.
        long followerEpoch = image.broker(follower).epoch();
        image = apply(image, decisions.brokerHeartbeat(image, heartbeat(follower, followerEpoch, Long.MAX_VALUE - 1,
                false), Long.MAX_VALUE).records());
        assertEquals(PartitionRegistration.NO_LEADER, image.topic("t").partition(0).leader());
        // The last ISR member returns: it leads again, with a new leader epoch.
        long leaderEpoch = image.broker(leader).epoch();
        int epochBefore = image.topic("t").partition(0).leaderEpoch();
        image = apply(image, decisions.brokerHeartbeat(image, heartbeat(leader, leaderEpoch, Long.MAX_VALUE - 1,
                false), Long.MAX_VALUE).records());
        assertEquals(leader, image.topic("t").partition(0).leader());
        assertEquals(epochBefore + 1, image.topic("t").partition(0).leaderEpoch());
    }

    @Test
    void uncleanElectionOnlyWhenTheTopicAllowsIt() {
        MetadataImage image = withTopic(unfencedBrokers(2), decisions, "t", 1, 2,
                config("unclean.leader.election.enable", "true"));
        int leader = image.topic("t").partition(0).leader();
        int follower = leader == 1 ? 2 : 1;
        image = apply(image, decisions.fenceBrokers(image, List.of(follower)).records());
        image = apply(image, decisions.fenceBrokers(image, List.of(leader)).records());
        assertEquals(PartitionRegistration.NO_LEADER, image.topic("t").partition(0).leader());
        image = apply(image, decisions.brokerHeartbeat(image, heartbeat(follower, image.broker(follower).epoch(),
                Long.MAX_VALUE - 1, false), Long.MAX_VALUE).records());
        assertEquals(follower, image.topic("t").partition(0).leader());
        assertEquals(List.of(follower), image.topic("t").partition(0).isr());
    }

    @Test
    void severalExpiredBrokersAreFencedTogether() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 3, 3);
        MetadataImage after = apply(image, decisions.fenceBrokers(image, List.of(1, 2)).records());
        for (PartitionRegistration p : after.topic("t").partitions()) {
            assertEquals(3, p.leader());
            assertEquals(List.of(3), p.isr());
        }
        assertTrue(decisions.fenceBrokers(after, List.of(1, 2)).records().isEmpty(), "already fenced");
    }

    @Test
    void controlledShutdownMovesLeadershipsThenLetsTheBrokerStop() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 3, 3);
        ControllerResult<BrokerHeartbeatResponse> first =
                decisions.brokerHeartbeat(image, heartbeat(2, 2, image.offset(), true), image.offset());
        assertFalse(first.reply().getShouldShutDown());
        MetadataImage after = apply(image, first.records());
        assertEquals(BrokerState.CONTROLLED_SHUTDOWN, after.broker(2).state());
        for (PartitionRegistration p : after.topic("t").partitions()) {
            assertTrue(p.leader() != 2 && !p.isInIsr(2), p.toString());
        }
        // Until it has seen that metadata, it must keep going.
        assertFalse(decisions.brokerHeartbeat(after, heartbeat(2, 2, image.offset(), true), after.offset()).reply()
                .getShouldShutDown());
        assertTrue(decisions.brokerHeartbeat(after, heartbeat(2, 2, after.offset(), true), after.offset()).reply()
                .getShouldShutDown());
        // Not eligible for new partitions while shutting down.
        assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR, decisions.createTopics(after,
                io.raftmq.protocol.controller.CreateTopicsRequest.newBuilder().addTopics(
                        io.raftmq.protocol.controller.CreatableTopic.newBuilder().setName("u").setNumPartitions(1)
                                .setReplicationFactor(3)).build()).reply().getTopics(0).getError().getCode());
    }
}
