package io.raftmq.metadata.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.raftmq.common.MockTime;
import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.AlterConfigOp;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResource;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersRequest.ElectionType;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.ElectionTopic;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.metadata.ConfigResourceType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random request sequences, clock advances, leader changes, snapshots and voter restarts against
 * three voters on the in-memory metadata log. Every batch committed on every voter must keep the
 * {@link MetadataInvariants}; at the end every voter must hold the identical image.
 *
 * <p>The seed is printed on failure; rerun one with {@code -Draftmq.test.seed=N}.
 */
@Timeout(300)
class ControllerRandomizedTest {
    private static final int STEPS = 500;
    private static final int RUNS = 4;
    private static final String[] NAMES = {"orders", "events", "a.b", "a_b", "logs", "metrics", "bad name", "",
        "..", "x".repeat(250)};

    @Test
    void randomRequestSequencesLeaveEveryVoterWithTheSameImage() {
        Long fixed = Long.getLong("raftmq.test.seed");
        long base = fixed != null ? fixed : new Random().nextLong();
        int runs = fixed != null ? 1 : RUNS;
        for (int run = 0; run < runs; run++) {
            long seed = base + run;
            try {
                new Run(seed).execute();
            } catch (Throwable t) {
                throw new AssertionError("randomized controller test failed with seed " + seed
                        + " (rerun with -Draftmq.test.seed=" + seed + ")", t);
            }
        }
    }

    private static final class Run {
        private final Random random;
        private final MockTime time = new MockTime();
        private final LocalQuorum quorum;
        private final Map<Integer, UUID> incarnations = new HashMap<>();
        private final MetadataInvariants invariants = new MetadataInvariants();

        private final long seed;

        Run(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            this.quorum = new LocalQuorum(3, time, 900, seed, List.of(invariants));
            for (LocalQuorum.Voter v : quorum.voters) {
                time.addListener(v.controller::wakeup);
            }
        }

        void execute() throws Exception {
            try {
                electRandomLeader();
                for (int step = 0; step < STEPS; step++) {
                    step();
                    invariants.assertHeld();
                }
                long end = quorum.cluster.endOffset();
                for (LocalQuorum.Voter v : quorum.voters) {
                    await().pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(20)).until(() -> v.log.deliveredOffset() >= end);
                }
                MetadataImage reference = quorum.voter(1).image();
                for (LocalQuorum.Voter v : quorum.voters) {
                    assertEquals(reference, v.image(), "image of node " + v.nodeId + " differs from node 1's");
                }
                quorum.assertNoFaults();
                invariants.assertHeld();
                assertNotNull(reference.clusterId(), "the first controller chose a cluster id");
                long offline = reference.topics().stream().flatMap(t -> t.partitions().stream())
                        .filter(p -> !p.hasLeader()).count();
                System.out.printf("seed %d: %d log positions, %d brokers (%d unfenced), %d topics, %d partitions"
                                + " offline, leader epoch %d%n", seed, end, reference.brokers().size(),
                        reference.eligibleBrokers().size(), reference.topics().size(), offline,
                        quorum.cluster.leader().epoch());
            } finally {
                quorum.close();
            }
        }

        private LocalQuorum.Voter leader() {
            int id = quorum.cluster.leader().leaderId();
            return id < 0 ? null : quorum.voter(id);
        }

        private void electRandomLeader() {
            int id = 1 + random.nextInt(3);
            quorum.cluster.electLeader(id);
            LocalQuorum.Voter v = quorum.voter(id);
            await().pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(10)).until(v.controller::isActive);
        }

        /** Sends to the leader (mostly) or another voter; NOT_CONTROLLER is an expected outcome. */
        private QuorumController target() {
            LocalQuorum.Voter leader = leader();
            if (leader == null || random.nextInt(10) == 0) {
                return quorum.voter(1 + random.nextInt(3)).controller;
            }
            return leader.controller;
        }

        private <T> T answer(CompletableFuture<Committed<T>> future) throws Exception {
            Committed<T> committed = committed(future);
            return committed == null ? null : committed.reply();
        }

        /** The committed answer, or null for NOT_CONTROLLER or a busy controller. */
        private <T> Committed<T> committed(CompletableFuture<Committed<T>> future) throws Exception {
            try {
                return future.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NotControllerException || e.getCause() instanceof ControllerBusyException) {
                    return null;
                }
                throw e;
            }
        }

        private void step() throws Exception {
            int dice = random.nextInt(100);
            if (dice < 14) {
                createTopic();
            } else if (dice < 20) {
                createPartitions();
            } else if (dice < 24) {
                deleteTopic();
            } else if (dice < 28) {
                alterConfig();
            } else if (dice < 36) {
                registerBroker();
            } else if (dice < 58) {
                heartbeat();
            } else if (dice < 62) {
                electLeaders();
            } else if (dice < 74) {
                alterPartition();
            } else if (dice < 86) {
                time.advanceMs(50 + random.nextInt(600));
                // Let any fencing the controller decided commit before the next check.
                awaitQuiet();
            } else if (dice < 92) {
                electRandomLeader();
            } else if (dice < 96) {
                LocalQuorum.Voter v = quorum.voter(1 + random.nextInt(3));
                v.log.takeSnapshot().get(10, TimeUnit.SECONDS);
            } else {
                quorum.restart(1 + random.nextInt(3));
                if (leader() == null) {
                    electRandomLeader();
                }
            }
        }

        private void awaitQuiet() {
            long end = quorum.cluster.endOffset();
            LocalQuorum.Voter leader = leader();
            if (leader != null) {
                await().pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(10)).until(() -> leader.log.deliveredOffset() >= end);
            }
        }

        private MetadataImage leaderImage() {
            LocalQuorum.Voter leader = leader();
            return leader == null ? MetadataImage.EMPTY : leader.image();
        }

        private String anyName() {
            return NAMES[random.nextInt(NAMES.length)];
        }

        private void createTopic() throws Exception {
            CreatableTopic.Builder topic = CreatableTopic.newBuilder().setName(anyName());
            if (random.nextInt(5) == 0) {
                // A manual assignment, over brokers that may be fenced or not registered.
                int replicationFactor = 1 + random.nextInt(3);
                for (int p = 0, n = 1 + random.nextInt(3); p < n; p++) {
                    CreatableReplicaAssignment.Builder a =
                            CreatableReplicaAssignment.newBuilder().setPartitionIndex(p);
                    for (int r = 0; r < replicationFactor; r++) {
                        a.addBrokerIds(1 + random.nextInt(6));
                    }
                    topic.addAssignments(a);
                }
            } else {
                if (random.nextInt(4) > 0) {
                    topic.setNumPartitions(random.nextInt(5));
                }
                if (random.nextInt(4) > 0) {
                    topic.setReplicationFactor(random.nextInt(5));
                }
            }
            if (random.nextInt(3) == 0) {
                topic.addConfigs(ConfigEntry.newBuilder().setKey(random.nextBoolean() ? "min.insync.replicas"
                        : "unclean.leader.election.enable").setValue(random.nextBoolean() ? "2" : "true"));
            }
            answer(target().createTopics(CreateTopicsRequest.newBuilder().addTopics(topic)
                    .setValidateOnly(random.nextInt(10) == 0).build()));
        }

        private void createPartitions() throws Exception {
            TopicImage topic = randomTopic();
            String name = topic == null ? anyName() : topic.name();
            int count = (topic == null ? 1 : topic.numPartitions()) + random.nextInt(4) - 1;
            answer(target().createPartitions(CreatePartitionsRequest.newBuilder().addTopics(
                    CreatePartitionsTopic.newBuilder().setName(name).setCount(count)).build()));
        }

        private void electLeaders() throws Exception {
            ElectionType type = random.nextBoolean() ? ElectionType.PREFERRED : ElectionType.UNCLEAN;
            ElectLeadersRequest.Builder request = ElectLeadersRequest.newBuilder().setElectionType(type);
            TopicImage topic = randomTopic();
            if (topic != null && random.nextInt(3) > 0) {
                ElectionTopic.Builder listed = ElectionTopic.newBuilder().setTopic(topic.name());
                for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
                    listed.addPartitionIds(random.nextInt(topic.numPartitions() + 1));
                }
                request.addTopics(listed);
            }
            Committed<ElectLeadersResponse> answer = committed(target().electLeaders(request.build()));
            if (answer != null && type == ElectionType.UNCLEAN && answer.reply().getResultsList().stream()
                    .anyMatch(r -> r.getError().getCode() == ErrorCode.NONE)) {
                invariants.allowUncleanElectionsAt(answer.offset());
            }
        }

        private void deleteTopic() throws Exception {
            TopicImage topic = randomTopic();
            DeleteTopicsRequest.Builder request = DeleteTopicsRequest.newBuilder();
            if (topic != null && random.nextBoolean()) {
                request.addTopicIds(Uuids.toProto(topic.id()));
            } else {
                request.addNames(topic == null ? anyName() : topic.name());
            }
            answer(target().deleteTopics(request.build()));
        }

        private void alterConfig() throws Exception {
            TopicImage topic = randomTopic();
            String[] keys = {"retention.ms", "min.insync.replicas", "bogus", "unclean.leader.election.enable"};
            String[] values = {"1000", "2", "-5", "true", "false"};
            answer(target().alterConfigs(AlterConfigsRequest.newBuilder().addResources(AlterConfigsResource
                    .newBuilder().setResourceType(ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC)
                    .setResourceName(topic == null ? anyName() : topic.name())
                    .addOps(AlterConfigOp.newBuilder()
                            .setOp(random.nextInt(4) == 0 ? AlterConfigOp.OpType.DELETE : AlterConfigOp.OpType.SET)
                            .setKey(keys[random.nextInt(keys.length)])
                            .setValue(values[random.nextInt(values.length)]))).build()));
        }

        private void registerBroker() throws Exception {
            int id = 1 + random.nextInt(5);
            UUID incarnation = incarnations.get(id);
            if (incarnation == null || random.nextInt(3) == 0) {
                incarnation = new UUID(random.nextLong(), random.nextLong());
                incarnations.put(id, incarnation);
            }
            answer(target().registerBroker(RegisterBrokerRequest.newBuilder().setBrokerId(id)
                    .setIncarnationId(Uuids.toProto(incarnation))
                    .addEndpoints(LocalQuorum.endpoint(100 + id)).setRack(random.nextBoolean() ? "r1" : "r2")
                    .build()));
        }

        private void heartbeat() throws Exception {
            MetadataImage image = leaderImage();
            List<BrokerRegistration> brokers = image.brokersSorted();
            if (brokers.isEmpty()) {
                return;
            }
            BrokerRegistration broker = brokers.get(random.nextInt(brokers.size()));
            long epoch = random.nextInt(20) == 0 ? broker.epoch() - 1 : broker.epoch();
            answer(target().brokerHeartbeat(BrokerHeartbeatRequest.newBuilder().setBrokerId(broker.id())
                    .setBrokerEpoch(epoch)
                    .setMetadataOffset(random.nextInt(5) == 0 ? 0 : image.offset())
                    .setWantShutDown(random.nextInt(25) == 0)
                    .build()));
        }

        private void alterPartition() throws Exception {
            MetadataImage image = leaderImage();
            TopicImage topic = randomTopic();
            if (topic == null || topic.numPartitions() == 0) {
                return;
            }
            int id = random.nextInt(topic.numPartitions());
            PartitionRegistration p = topic.partition(id);
            int sender = random.nextInt(5) == 0 ? p.replicas().get(random.nextInt(p.replicas().size())) : p.leader();
            BrokerRegistration broker = image.broker(sender);
            if (broker == null) {
                return;
            }
            List<Integer> isr = new ArrayList<>();
            for (int replica : p.replicas()) {
                if (replica == sender || random.nextBoolean()) {
                    isr.add(replica);
                }
            }
            answer(target().alterPartition(AlterPartitionRequest.newBuilder().setBrokerId(sender)
                    .setBrokerEpoch(broker.epoch())
                    .addPartitions(PartitionIsrChange.newBuilder().setTopicId(Uuids.toProto(topic.id()))
                            .setPartitionId(id)
                            .setLeaderEpoch(p.leaderEpoch() - (random.nextInt(10) == 0 ? 1 : 0))
                            .setPartitionEpoch(p.partitionEpoch() - (random.nextInt(10) == 0 ? 1 : 0))
                            .addAllNewIsr(isr)).build()));
        }

        private TopicImage randomTopic() {
            List<TopicImage> topics = leaderImage().topicsSorted();
            return topics.isEmpty() ? null : topics.get(random.nextInt(topics.size()));
        }

    }
}
