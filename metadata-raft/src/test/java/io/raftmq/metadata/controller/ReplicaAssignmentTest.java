package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.config;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableReplicaAssignment;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreatePartitionsTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.ReplicaAssignment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Manual replica assignment on CreateTopics and CreatePartitions (Kafka's --replica-assignment rules). */
class ReplicaAssignmentTest {
    private final ControllerDecisions decisions = TestImages.decisions();
    private final MetadataImage threeBrokers = unfencedBrokers(3);

    /** A topic whose partition i has replicas {@code lists[i]}. */
    private static CreatableTopic.Builder assigned(String name, List<?>... lists) {
        CreatableTopic.Builder topic = CreatableTopic.newBuilder().setName(name);
        for (int i = 0; i < lists.length; i++) {
            topic.addAssignments(assignment(i, lists[i]));
        }
        return topic;
    }

    private static CreatableReplicaAssignment assignment(int partition, List<?> brokers) {
        CreatableReplicaAssignment.Builder a = CreatableReplicaAssignment.newBuilder().setPartitionIndex(partition);
        brokers.forEach(b -> a.addBrokerIds((Integer) b));
        return a.build();
    }

    private ControllerResult<CreateTopicsResponse> create(MetadataImage image, CreatableTopic.Builder... topics) {
        CreateTopicsRequest.Builder request = CreateTopicsRequest.newBuilder();
        for (CreatableTopic.Builder t : topics) {
            request.addTopics(t);
        }
        return decisions.createTopics(image, request.build());
    }

    private Error createError(MetadataImage image, CreatableTopic.Builder topic) {
        ControllerResult<CreateTopicsResponse> result = create(image, topic);
        assertTrue(result.records().isEmpty(), "a refused topic writes nothing");
        return result.reply().getTopics(0).getError();
    }

    @Test
    void partitionsGetTheListedReplicasInTheListedOrder() {
        CreatableTopic.Builder topic = CreatableTopic.newBuilder().setName("m")
                .addAssignments(assignment(2, List.of(1, 2)))
                .addAssignments(assignment(0, List.of(3, 1)))
                .addAssignments(assignment(1, List.of(2, 3)));
        ControllerResult<CreateTopicsResponse> result = create(threeBrokers, topic);
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode(),
                result.reply().getTopics(0).getError().getMessage());
        assertEquals(3, result.reply().getTopics(0).getNumPartitions());
        assertEquals(2, result.reply().getTopics(0).getReplicationFactor());
        TopicImage m = apply(threeBrokers, result.records()).topic("m");
        assertEquals(List.of(List.of(3, 1), List.of(2, 3), List.of(1, 2)),
                m.partitions().stream().map(PartitionRegistration::replicas).toList());
        for (PartitionRegistration p : m.partitions()) {
            assertEquals(p.replicas(), p.isr());
            assertEquals(p.replicas().get(0), p.leader());
            assertEquals(0, p.leaderEpoch());
        }
    }

    @Test
    void theIsrIsTheEligibleReplicasAndTheFirstOfThemLeads() {
        MetadataImage image = apply(threeBrokers, List.of(Records.fenceBroker(3, 3), Records.controlledShutdown(2, 2)));
        ControllerResult<CreateTopicsResponse> result = create(image, assigned("m", List.of(3, 2, 1)));
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        PartitionRegistration p = apply(image, result.records()).topic("m").partition(0);
        assertEquals(List.of(3, 2, 1), p.replicas());
        assertEquals(List.of(1), p.isr());
        assertEquals(1, p.leader());
    }

    @Test
    void aPartitionWithoutAnEligibleReplicaIsRefused() {
        MetadataImage image = apply(threeBrokers, List.of(Records.fenceBroker(3, 3), Records.controlledShutdown(2, 2)));
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(image, assigned("m", List.of(1, 2),
                List.of(3, 2))), "partition 1 of topic 'm'", "no eligible replica", "broker 3 is fenced",
                "broker 2 is shutting down");
    }

    @Test
    void partitionCountAndReplicationFactorMustBeAbsentWithAnAssignment() {
        assertError(ErrorCode.INVALID_REQUEST, createError(threeBrokers, assigned("m", List.of(1))
                .setNumPartitions(1).setReplicationFactor(1)), "num_partitions and replication_factor must be absent",
                "num_partitions 1 and replication_factor 1");
        assertError(ErrorCode.INVALID_REQUEST, createError(threeBrokers, assigned("m", List.of(1))
                .setReplicationFactor(1)), "gives replication_factor 1");
        assertError(ErrorCode.INVALID_REQUEST, createError(threeBrokers, assigned("m", List.of(1))
                .setNumPartitions(1)), "gives num_partitions 1");
    }

    @Test
    void partitionIndicesAreZeroToNMinusOneEachOnce() {
        CreatableTopic.Builder gap = CreatableTopic.newBuilder().setName("m")
                .addAssignments(assignment(0, List.of(1))).addAssignments(assignment(2, List.of(2)));
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, gap), "partition 2",
                "2 assignments", "0..1");
        CreatableTopic.Builder negative = CreatableTopic.newBuilder().setName("m")
                .addAssignments(assignment(-1, List.of(1)));
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, negative), "partition -1");
        CreatableTopic.Builder twice = CreatableTopic.newBuilder().setName("m")
                .addAssignments(assignment(1, List.of(1))).addAssignments(assignment(1, List.of(2)));
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, twice), "partition 1",
                "more than once");
    }

    @Test
    void replicaListsAreNonEmptyWithoutRepeatsAndOfOneLength() {
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, assigned("m", List.of(1),
                List.of())), "partition 1 of topic 'm' has an empty replica list");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, assigned("m",
                List.of(1, 2, 1))), "partition 0 of topic 'm' lists broker 1 twice: [1, 2, 1]");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, assigned("m", List.of(1, 2),
                List.of(2, 3), List.of(3))), "partition 2 of topic 'm' has 1 replicas [3]", "partition 0 has 2");
    }

    @Test
    void everyListedBrokerIsRegistered() {
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, createError(threeBrokers, assigned("m", List.of(1, 2),
                List.of(2, 3), List.of(7, 1))),
                "partition 2 of topic 'm' lists broker 7, which is not registered (brokers 1, 2, 3)");
    }

    @Test
    void minInsyncReplicasIsCheckedAgainstTheAssignedReplicationFactor() {
        assertError(ErrorCode.INVALID_CONFIG, createError(threeBrokers, assigned("m", List.of(1, 2))
                .addConfigs(config("min.insync.replicas", "3"))), "min.insync.replicas=3", "replication factor 2");
        assertEquals(ErrorCode.NONE, create(threeBrokers, assigned("m", List.of(1, 2))
                .addConfigs(config("min.insync.replicas", "2"))).reply().getTopics(0).getError().getCode());
    }

    @Test
    void validateOnlyChecksTheAssignmentAndWritesNothing() {
        ControllerResult<CreateTopicsResponse> ok = decisions.createTopics(threeBrokers, CreateTopicsRequest
                .newBuilder().addTopics(assigned("m", List.of(1, 2), List.of(2, 3))).setValidateOnly(true).build());
        assertEquals(ErrorCode.NONE, ok.reply().getTopics(0).getError().getCode());
        assertEquals(2, ok.reply().getTopics(0).getNumPartitions());
        assertTrue(ok.records().isEmpty());
        ControllerResult<CreateTopicsResponse> bad = decisions.createTopics(threeBrokers, CreateTopicsRequest
                .newBuilder().addTopics(assigned("m", List.of(9))).setValidateOnly(true).build());
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, bad.reply().getTopics(0).getError(), "broker 9");
    }

    @Test
    void placementLaterInTheSameRequestCountsAssignedPartitions() {
        ControllerResult<CreateTopicsResponse> result = create(threeBrokers, assigned("m", List.of(1), List.of(1)),
                CreatableTopic.newBuilder().setName("placed").setNumPartitions(1).setReplicationFactor(1));
        TopicImage placed = apply(threeBrokers, result.records()).topic("placed");
        assertEquals(List.of(2), placed.partition(0).replicas(), "broker 1 already leads two partitions");
    }

    // ---- CreatePartitions ----

    private ControllerResult<CreatePartitionsResponse> addPartitions(MetadataImage image, String name, int count,
            List<?>... lists) {
        CreatePartitionsTopic.Builder topic = CreatePartitionsTopic.newBuilder().setName(name).setCount(count);
        for (List<?> list : lists) {
            ReplicaAssignment.Builder a = ReplicaAssignment.newBuilder();
            list.forEach(b -> a.addBrokerIds((Integer) b));
            topic.addAssignments(a);
        }
        return decisions.createPartitions(image, CreatePartitionsRequest.newBuilder().addTopics(topic).build());
    }

    private Error addError(MetadataImage image, String name, int count, List<?>... lists) {
        ControllerResult<CreatePartitionsResponse> result = addPartitions(image, name, count, lists);
        assertTrue(result.records().isEmpty(), "a refused topic writes nothing");
        return result.reply().getTopics(0).getError();
    }

    @Test
    void newPartitionsGetTheListedReplicas() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 2, 2);
        ControllerResult<CreatePartitionsResponse> result = addPartitions(image, "t", 4, List.of(3, 1),
                List.of(2, 3));
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode(),
                result.reply().getTopics(0).getError().getMessage());
        TopicImage t = apply(image, result.records()).topic("t");
        assertEquals(List.of(3, 1), t.partition(2).replicas());
        assertEquals(3, t.partition(2).leader());
        assertEquals(List.of(2, 3), t.partition(3).replicas());
        assertEquals(List.of(2, 3), t.partition(3).isr());
    }

    @Test
    void oneListPerNewPartition() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 2, 2);
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 4, List.of(1, 2)),
                "from 2 to 4 partitions (2 new)", "gives 1 replica lists");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 3, List.of(1, 2), List.of(2, 3)),
                "(1 new)", "gives 2");
    }

    @Test
    void newPartitionsKeepTheTopicsReplicationFactor() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 2, 2);
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 4, List.of(1, 2), List.of(1, 2, 3)),
                "partition 3 of topic 't' has 3 replicas [1, 2, 3]", "the topic's replication factor is 2");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 3, List.of(2, 2)),
                "partition 2 of topic 't' lists broker 2 twice");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 3, List.of(2, 8)),
                "lists broker 8, which is not registered (brokers 1, 2, 3)");
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(image, "t", 3, List.of()), "empty replica list");
        MetadataImage twoFenced = apply(image, List.of(Records.fenceBroker(1, 1), Records.fenceBroker(2, 2)));
        assertError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, addError(twoFenced, "t", 3, List.of(1, 2)),
                "partition 2 of topic 't' has no eligible replica", "broker 1 is fenced", "broker 2 is fenced");
    }

    @Test
    void anAssignmentNeedsOnlyOneEligibleReplicaNotAllLiveBrokers() {
        MetadataImage image = withTopic(threeBrokers, decisions, "rf3", 1, 3);
        image = apply(image, decisions.fenceBrokers(image, List.of(3)).records());
        assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR, addPartitions(image, "rf3", 2).reply().getTopics(0)
                .getError().getCode(), "the placer needs three live brokers");
        ControllerResult<CreatePartitionsResponse> manual = addPartitions(image, "rf3", 2, List.of(3, 2, 1));
        assertEquals(ErrorCode.NONE, manual.reply().getTopics(0).getError().getCode());
        PartitionRegistration p = apply(image, manual.records()).topic("rf3").partition(1);
        assertEquals(List.of(2, 1), p.isr());
        assertEquals(2, p.leader());
    }

    @Test
    void validateOnlyAddsNoPartition() {
        MetadataImage image = withTopic(threeBrokers, decisions, "t", 1, 2);
        ControllerResult<CreatePartitionsResponse> result = decisions.createPartitions(image, CreatePartitionsRequest
                .newBuilder().setValidateOnly(true).addTopics(CreatePartitionsTopic.newBuilder().setName("t")
                        .setCount(2).addAssignments(ReplicaAssignment.newBuilder().addBrokerIds(3).addBrokerIds(1)))
                .build());
        assertEquals(ErrorCode.NONE, result.reply().getTopics(0).getError().getCode());
        assertTrue(result.records().isEmpty());
    }
}
