package io.raftmq.metadata.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersRequest.ElectionType;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.ElectionTopic;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class QuorumControllerTest {
    private final MockTime time = new MockTime();
    private LocalQuorum quorum;

    @AfterEach
    void tearDown() {
        if (quorum != null) {
            quorum.close();
            quorum.assertNoFaults();
        }
    }

    private LocalQuorum start(int voters) {
        return start(voters, 900);
    }

    private LocalQuorum start(int voters, long takeoverSessionMs) {
        return start(voters, takeoverSessionMs, 900);
    }

    private LocalQuorum start(int voters, long takeoverSessionMs, long connectionLossGraceMs) {
        quorum = new LocalQuorum(voters, time, 900, takeoverSessionMs, connectionLossGraceMs, 42, List.of());
        for (LocalQuorum.Voter v : quorum.voters) {
            time.addListener(v.controller::wakeup);
        }
        return quorum;
    }

    private static <T> T get(CompletableFuture<Committed<T>> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS).reply();
    }

    static RegisterBrokerRequest registration(int brokerId, UUID incarnation) {
        return RegisterBrokerRequest.newBuilder()
                .setBrokerId(brokerId)
                .setIncarnationId(Uuids.toProto(incarnation))
                .addEndpoints(LocalQuorum.endpoint(100 + brokerId))
                .build();
    }

    /** Registers brokers 1..n and unfences them by heartbeat; returns their epochs. */
    static long[] registerAndUnfence(QuorumController controller, LocalQuorum.Voter voter, int n) throws Exception {
        long[] epochs = new long[n + 1];
        for (int b = 1; b <= n; b++) {
            RegisterBrokerResponse reply = get(controller.registerBroker(registration(b, UUID.randomUUID())));
            assertEquals(ErrorCode.NONE, reply.getError().getCode(), reply.getError().getMessage());
            epochs[b] = reply.getBrokerEpoch();
        }
        for (int b = 1; b <= n; b++) {
            BrokerHeartbeatResponse hb = get(controller.brokerHeartbeat(heartbeat(b, epochs[b], voter)));
            assertEquals(ErrorCode.NONE, hb.getError().getCode(), hb.getError().getMessage());
            assertFalse(hb.getIsFenced(), "broker " + b + " still fenced");
        }
        return epochs;
    }

    static BrokerHeartbeatRequest heartbeat(int brokerId, long epoch, LocalQuorum.Voter voter) {
        return BrokerHeartbeatRequest.newBuilder()
                .setBrokerId(brokerId)
                .setBrokerEpoch(epoch)
                .setMetadataOffset(voter.image().offset())
                .build();
    }

    @Test
    void activeControllerCreatesTopicVisibleOnEveryVoter() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        registerAndUnfence(leader.controller, leader, 3);

        CreateTopicsResponse created = get(leader.controller.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName("orders").setNumPartitions(3).setReplicationFactor(3))
                .build()));
        assertEquals(ErrorCode.NONE, created.getTopics(0).getError().getCode());

        for (LocalQuorum.Voter v : quorum.voters) {
            await().atMost(Duration.ofSeconds(5)).until(() -> v.image().topic("orders") != null);
            TopicImage topic = v.image().topic("orders");
            assertEquals(3, topic.numPartitions());
            for (PartitionRegistration p : topic.partitions()) {
                assertEquals(3, p.replicas().size());
                assertEquals(p.replicas(), p.isr());
            }
            // Leaders spread over the three brokers.
            assertEquals(3, topic.partitions().stream().map(PartitionRegistration::leader).distinct().count());
        }
    }

    @Test
    void requestsBeyondTheQueueBoundFailAtOnceWithControllerBusy() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        registerAndUnfence(leader.controller, leader, 3);

        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        leader.log.holdAppends(gate);
        List<CompletableFuture<Committed<CreateTopicsResponse>>> accepted = new java.util.ArrayList<>();
        List<CompletableFuture<Committed<CreateTopicsResponse>>> refused = new java.util.ArrayList<>();
        try {
            // The first request holds the loop inside its append; at most MAX_QUEUED_REQUESTS wait behind it.
            for (int i = 0; i < QuorumController.MAX_QUEUED_REQUESTS + 10; i++) {
                CompletableFuture<Committed<CreateTopicsResponse>> f = leader.controller.createTopics(CreateTopicsRequest
                        .newBuilder().addTopics(CreatableTopic.newBuilder().setName("t" + i).setNumPartitions(1)
                                .setReplicationFactor(1)).build());
                (f.isCompletedExceptionally() ? refused : accepted).add(f);
            }
        } finally {
            gate.countDown();
            leader.log.holdAppends(null);
        }
        assertTrue(refused.size() >= 9, refused.size() + " requests refused past the bound");
        for (CompletableFuture<Committed<CreateTopicsResponse>> f : refused) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> f.get(1, TimeUnit.SECONDS));
            assertInstanceOf(ControllerBusyException.class, e.getCause());
        }
        // The ones that waited are decided once the loop is free again.
        for (CompletableFuture<Committed<CreateTopicsResponse>> f : accepted) {
            assertEquals(ErrorCode.NONE, get(f).getTopics(0).getError().getCode());
        }
    }

    @Test
    void nonLeaderAnswersNotControllerWithHint() throws Exception {
        start(3);
        quorum.cluster.electLeader(2);
        await().atMost(Duration.ofSeconds(5)).until(quorum.voter(2).controller::isActive);
        await().atMost(Duration.ofSeconds(5)).until(() -> quorum.voter(1).image().controller() != null);

        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> quorum.voter(1).controller.createTopics(CreateTopicsRequest.getDefaultInstance())
                        .get(5, TimeUnit.SECONDS));
        NotControllerException nce = assertInstanceOf(NotControllerException.class, e.getCause());
        assertEquals(2, nce.hint().getControllerId());
        assertEquals(LocalQuorum.endpoint(2), nce.hint().getEndpoint());

        ExecutionException election = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> quorum.voter(3).controller.electLeaders(ElectLeadersRequest.newBuilder()
                        .setElectionType(ElectionType.PREFERRED).build()).get(5, TimeUnit.SECONDS));
        NotControllerException electionNce = assertInstanceOf(NotControllerException.class, election.getCause());
        assertEquals(2, electionNce.hint().getControllerId());
    }

    @Test
    void electLeadersIsAnsweredOnceTheNewLeaderHasCommitted() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        registerAndUnfence(leader.controller, leader, 3);
        // Broker 4 registers but has not caught up: fenced, so it cannot be in a new partition's ISR.
        RegisterBrokerResponse four = get(leader.controller.registerBroker(registration(4, UUID.randomUUID())));
        CreateTopicsResponse created = get(leader.controller.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName("t").addAssignments(CreatableReplicaAssignment
                        .newBuilder().setPartitionIndex(0).addBrokerIds(4).addBrokerIds(1).addBrokerIds(2)))
                .build()));
        assertEquals(ErrorCode.NONE, created.getTopics(0).getError().getCode(),
                created.getTopics(0).getError().getMessage());
        PartitionRegistration p = leader.image().topic("t").partition(0);
        assertEquals(List.of(1, 2), p.isr());
        assertEquals(1, p.leader());
        // Broker 4 catches up and the leader takes it into the ISR; leadership stays with broker 1.
        assertFalse(get(leader.controller.brokerHeartbeat(heartbeat(4, four.getBrokerEpoch(), leader))).getIsFenced());
        UUID topicId = leader.image().topic("t").id();
        AlterPartitionResponse altered = get(leader.controller.alterPartition(AlterPartitionRequest.newBuilder()
                .setBrokerId(1).setBrokerEpoch(leader.image().broker(1).epoch())
                .addPartitions(PartitionIsrChange.newBuilder().setTopicId(Uuids.toProto(topicId))
                        .setPartitionId(0).setLeaderEpoch(p.leaderEpoch()).setPartitionEpoch(p.partitionEpoch())
                        .addAllNewIsr(List.of(1, 2, 4))).build()));
        assertEquals(ErrorCode.NONE, altered.getPartitions(0).getError().getCode());
        assertEquals(1, leader.image().topic("t").partition(0).leader());

        ElectLeadersRequest preferred = ElectLeadersRequest.newBuilder().setElectionType(ElectionType.PREFERRED)
                .addTopics(ElectionTopic.newBuilder().setTopic("t").addPartitionIds(0)).build();
        Committed<ElectLeadersResponse> elected = leader.controller.electLeaders(preferred).get(10, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, elected.reply().getResults(0).getError().getCode(),
                elected.reply().getResults(0).getError().getMessage());
        PartitionRegistration now = elected.image().topic("t").partition(0);
        assertEquals(4, now.leader(), "the committed image the reply comes with");
        assertEquals(p.leaderEpoch() + 1, now.leaderEpoch());
        assertTrue(leader.image().offset() >= elected.offset(), "answered after the batch committed");
        for (LocalQuorum.Voter v : quorum.voters) {
            await().atMost(Duration.ofSeconds(5)).until(() -> v.image().topic("t").partition(0).leader() == 4);
        }

        Committed<ElectLeadersResponse> again = leader.controller.electLeaders(preferred).get(10, TimeUnit.SECONDS);
        assertEquals(ErrorCode.ELECTION_NOT_NEEDED, again.reply().getResults(0).getError().getCode());
        assertEquals(elected.offset(), again.offset(), "nothing written");
    }

    @Test
    void theClusterIdIsChosenOnceAndKeptAcrossFailoverAndRestart() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        for (LocalQuorum.Voter v : quorum.voters) {
            await().atMost(Duration.ofSeconds(5)).until(() -> v.image().clusterId() != null);
        }
        String id = quorum.voter(1).image().clusterId();
        assertEquals(22, id.length(), id);
        for (LocalQuorum.Voter v : quorum.voters) {
            assertEquals(id, v.image().clusterId(), "node " + v.nodeId);
        }

        quorum.cluster.electLeader(3);
        LocalQuorum.Voter second = quorum.voter(3);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        await().atMost(Duration.ofSeconds(5)).until(() -> second.image().controller() != null
                && second.image().controller().controllerId() == 3);
        assertEquals(id, second.image().clusterId(), "the second controller's takeover batch has no new id");

        quorum.voter(1).log.takeSnapshot().get(10, TimeUnit.SECONDS);
        LocalQuorum.Voter restarted = quorum.restart(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> restarted.image().offset() >= second.image().offset());
        assertEquals(id, restarted.image().clusterId());
        quorum.assertNoFaults();
    }

    @Test
    void expiredSessionFencesBrokerAndMovesLeadership() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        long[] epochs = registerAndUnfence(leader.controller, leader, 3);
        get(leader.controller.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName("t").setNumPartitions(3).setReplicationFactor(3))
                .build()));

        // Brokers 1 and 3 keep heartbeating; broker 2 goes silent.
        for (int i = 0; i < 5; i++) {
            time.advanceMs(300);
            get(leader.controller.brokerHeartbeat(heartbeat(1, epochs[1], leader)));
            get(leader.controller.brokerHeartbeat(heartbeat(3, epochs[3], leader)));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> leader.image().broker(2).state() == BrokerState.FENCED);
        MetadataImage image = leader.image();
        assertEquals(BrokerState.UNFENCED, image.broker(1).state());
        for (PartitionRegistration p : image.topic("t").partitions()) {
            assertFalse(p.isInIsr(2), "broker 2 still in ISR " + p.isr());
            assertTrue(p.leader() == 1 || p.leader() == 3, "leader " + p.leader());
        }
    }

    @Test
    void aBrokerWhoseHeartbeatConnectionClosesIsFencedAfterTheGraceUnlessItHeartbeatsAgain() throws Exception {
        start(3, 900, 200);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        long[] epochs = registerAndUnfence(leader.controller, leader, 3);
        get(leader.controller.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName("t").setNumPartitions(3).setReplicationFactor(3))
                .build()));
        ClientConnection[] connections = new ClientConnection[4];
        for (int b = 1; b <= 3; b++) {
            connections[b] = new ClientConnection("127.0.0.1:" + (50_000 + b));
            get(leader.controller.brokerHeartbeat(heartbeat(b, epochs[b], leader), connections[b]));
        }

        // Brokers 2 and 3 lose their connections; a follower voter hears of it too and ignores it.
        for (int b = 2; b <= 3; b++) {
            connections[b].markClosed();
            leader.controller.connectionClosed(connections[b]);
            quorum.voter(2).controller.connectionClosed(connections[b]);
        }
        // Handled in order on the loop, so the closes are applied once this heartbeat is answered.
        get(leader.controller.brokerHeartbeat(heartbeat(1, epochs[1], leader), connections[1]));
        time.advanceMs(100);
        // Broker 3 is alive: it heartbeats again over a new connection within the grace.
        ClientConnection reconnected = new ClientConnection("127.0.0.1:50004");
        get(leader.controller.brokerHeartbeat(heartbeat(3, epochs[3], leader), reconnected));
        get(leader.controller.brokerHeartbeat(heartbeat(1, epochs[1], leader), connections[1]));
        assertEquals(BrokerState.UNFENCED, leader.image().broker(2).state(), "fenced before the grace ended");

        time.advanceMs(100);
        await().atMost(Duration.ofSeconds(5)).until(() -> leader.image().broker(2).state() == BrokerState.FENCED);
        MetadataImage image = leader.image();
        assertEquals(BrokerState.UNFENCED, image.broker(1).state());
        assertEquals(BrokerState.UNFENCED, image.broker(3).state());
        for (PartitionRegistration p : image.topic("t").partitions()) {
            assertFalse(p.isInIsr(2), "broker 2 still in ISR " + p.isr());
            assertTrue(p.leader() == 1 || p.leader() == 3, "leader " + p.leader());
        }
        // Broker 3's session is a full one again: it lives until 900 ms after its last heartbeat.
        time.advanceMs(650);
        get(leader.controller.brokerHeartbeat(heartbeat(1, epochs[1], leader), connections[1]));
        assertEquals(BrokerState.UNFENCED, leader.image().broker(3).state());
        assertEquals(BrokerState.UNFENCED, quorum.voter(2).image().broker(1).state());
    }

    @Test
    void aHeartbeatThatArrivesAfterItsConnectionClosedDoesNotUndoTheLoss() throws Exception {
        start(3, 900, 200);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter leader = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(leader.controller::isActive);
        long[] epochs = registerAndUnfence(leader.controller, leader, 2);
        ClientConnection dying = new ClientConnection("127.0.0.1:50002");
        get(leader.controller.brokerHeartbeat(heartbeat(2, epochs[2], leader), dying));

        dying.markClosed();
        leader.controller.connectionClosed(dying);
        // A heartbeat read off the connection before it closed, processed after the close.
        get(leader.controller.brokerHeartbeat(heartbeat(2, epochs[2], leader), dying));
        time.advanceMs(100);
        get(leader.controller.brokerHeartbeat(heartbeat(1, epochs[1], leader)));
        assertEquals(BrokerState.UNFENCED, leader.image().broker(2).state());
        time.advanceMs(100);
        await().atMost(Duration.ofSeconds(5)).until(() -> leader.image().broker(2).state() == BrokerState.FENCED);
        assertEquals(BrokerState.UNFENCED, leader.image().broker(1).state());
    }

    @Test
    void newControllerGrantsFreshSessionsAndKeepsMetadata() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter first = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(first.controller::isActive);
        long[] epochs = registerAndUnfence(first.controller, first, 3);

        quorum.cluster.electLeader(3);
        LocalQuorum.Voter second = quorum.voter(3);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        await().atMost(Duration.ofSeconds(5)).until(() -> !first.controller.isActive());
        // Just before the fresh sessions would expire, every broker heartbeats the new controller.
        time.advanceMs(800);
        for (int b = 1; b <= 3; b++) {
            BrokerHeartbeatResponse hb = get(second.controller.brokerHeartbeat(heartbeat(b, epochs[b], second)));
            assertEquals(ErrorCode.NONE, hb.getError().getCode());
            assertFalse(hb.getIsFenced());
        }
        CreateTopicsResponse created = get(second.controller.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName("after-failover").setReplicationFactor(3)).build()));
        assertEquals(ErrorCode.NONE, created.getTopics(0).getError().getCode(),
                created.getTopics(0).getError().getMessage());
        for (int b = 1; b <= 3; b++) {
            assertEquals(BrokerState.UNFENCED, second.image().broker(b).state());
        }
    }

    @Test
    void producerIdBlocksNeverRepeatAcrossControllerFailover() throws Exception {
        start(3);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter first = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(first.controller::isActive);
        long[] epochs = registerAndUnfence(first.controller, first, 2);
        AllocateProducerIdsResponse a = get(first.controller.allocateProducerIds(AllocateProducerIdsRequest
                .newBuilder().setBrokerId(1).setBrokerEpoch(epochs[1]).build()));
        AllocateProducerIdsResponse b = get(first.controller.allocateProducerIds(AllocateProducerIdsRequest
                .newBuilder().setBrokerId(2).setBrokerEpoch(epochs[2]).build()));
        assertEquals(a.getProducerIdStart() + a.getProducerIdLen(), b.getProducerIdStart());

        quorum.cluster.electLeader(3);
        LocalQuorum.Voter second = quorum.voter(3);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        AllocateProducerIdsResponse c = get(second.controller.allocateProducerIds(AllocateProducerIdsRequest
                .newBuilder().setBrokerId(1).setBrokerEpoch(epochs[1]).build()));
        assertEquals(ErrorCode.NONE, c.getError().getCode(), c.getError().getMessage());
        assertEquals(b.getProducerIdStart() + b.getProducerIdLen(), c.getProducerIdStart());
    }

    @Test
    void aControllerTakingOverFencesABrokerSilentForTheTakeoverSession() throws Exception {
        start(3, 450);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter first = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(first.controller::isActive);
        long[] epochs = registerAndUnfence(first.controller, first, 3);

        // Broker 1 died with the old controller; 2 and 3 find the new one within a heartbeat.
        quorum.cluster.electLeader(2);
        LocalQuorum.Voter second = quorum.voter(2);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        time.advanceMs(300);
        for (int b = 2; b <= 3; b++) {
            assertFalse(get(second.controller.brokerHeartbeat(heartbeat(b, epochs[b], second))).getIsFenced());
        }
        assertEquals(BrokerState.UNFENCED, second.image().broker(1).state(), "fenced before the takeover session");
        time.advanceMs(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> second.image().broker(1).state() == BrokerState.FENCED);
        // A heartbeat extends the others to a whole session, past the takeover one.
        assertEquals(BrokerState.UNFENCED, second.image().broker(2).state());
        assertEquals(BrokerState.UNFENCED, second.image().broker(3).state());
    }

    @Test
    void aControllerTakingOverFencesWithinTheGraceTheBrokerOfAPredecessorWhoseRaftConnectionsClosed()
            throws Exception {
        startWithNodeOneActiveAndItsBrokerRunning();

        // Node 1 is killed: its Raft connections to node 2 close; 100 ms later node 2 takes over.
        LocalQuorum.Voter second = quorum.voter(2);
        second.log.voterConnectionLost(1, time.monotonicMs());
        time.advanceMs(100);
        quorum.cluster.electLeader(2);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        assertEquals(BrokerState.UNFENCED, second.image().broker(1).state(), "fenced before the grace ended");
        time.advanceMs(100); // the grace (200 ms) has passed since the connections closed; the takeover session has not
        await().atMost(Duration.ofSeconds(5)).until(() -> second.image().broker(1).state() == BrokerState.FENCED);
    }

    @Test
    void aPredecessorWhoseRaftConnectionsAreOpenKeepsTheTakeoverSession() throws Exception {
        startWithNodeOneActiveAndItsBrokerRunning();

        // Node 1 paused or cut off: no connection closed. Only the takeover session (450 ms) applies.
        quorum.cluster.electLeader(2);
        LocalQuorum.Voter second = quorum.voter(2);
        await().atMost(Duration.ofSeconds(5)).until(second.controller::isActive);
        time.advanceMs(300);
        assertEquals(BrokerState.UNFENCED, second.image().broker(1).state(), "fenced before the takeover session");
        time.advanceMs(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> second.image().broker(1).state() == BrokerState.FENCED);
    }

    /**
     * Three voters and takeover sessions of 450 ms (grace 200 ms), node 1 the active controller and
     * broker 1 running in node 1's process (its gRPC endpoint is the one controller 1 registered).
     */
    private void startWithNodeOneActiveAndItsBrokerRunning() throws Exception {
        start(3, 450, 200);
        quorum.cluster.electLeader(1);
        LocalQuorum.Voter first = quorum.voter(1);
        await().atMost(Duration.ofSeconds(5)).until(first.controller::isActive);
        RegisterBrokerResponse one = get(first.controller.registerBroker(RegisterBrokerRequest.newBuilder()
                .setBrokerId(1).setIncarnationId(Uuids.toProto(UUID.randomUUID()))
                .addEndpoints(LocalQuorum.endpoint(1)).build()));
        assertFalse(get(first.controller.brokerHeartbeat(heartbeat(1, one.getBrokerEpoch(), first))).getIsFenced());
    }
}
