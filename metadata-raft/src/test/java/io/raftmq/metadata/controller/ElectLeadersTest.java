package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.assertError;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersRequest.ElectionType;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.ElectionResult;
import io.raftmq.protocol.controller.ElectionTopic;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ElectLeaders as a pure function of the image: Kafka's PREFERRED and UNCLEAN rules. */
class ElectLeadersTest {
    private final ControllerDecisions decisions = TestImages.decisions();

    private ControllerResult<ElectLeadersResponse> elect(MetadataImage image, ElectionType type, String topic,
            Integer... partitions) {
        return decisions.electLeaders(image, ElectLeadersRequest.newBuilder().setElectionType(type)
                .addTopics(ElectionTopic.newBuilder().setTopic(topic).addAllPartitionIds(List.of(partitions)))
                .build());
    }

    private ControllerResult<ElectLeadersResponse> electAll(MetadataImage image, ElectionType type) {
        return decisions.electLeaders(image, ElectLeadersRequest.newBuilder().setElectionType(type).build());
    }

    /** Three brokers; "t" with one partition on replicas [1, 2, 3] led by 2 (1 still in the ISR). */
    private MetadataImage ledByTwo() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 1, 3);
        TopicImage t = image.topic("t");
        assertEquals(List.of(1, 2, 3), t.partition(0).replicas());
        return apply(image, List.of(Records.partitionChange(t.id(), 0, 2, null)));
    }

    /** "t" with one partition on [1, 2, 3] that lost every broker: no leader, ISR [3] (the last to go). */
    private MetadataImage offline() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 1, 3);
        for (int broker = 1; broker <= 3; broker++) {
            image = apply(image, decisions.fenceBrokers(image, List.of(broker)).records());
        }
        PartitionRegistration p = image.topic("t").partition(0);
        assertEquals(PartitionRegistration.NO_LEADER, p.leader());
        assertEquals(List.of(3), p.isr());
        return image;
    }

    @Test
    void preferredElectionMovesLeadershipToTheFirstReplicaKeepingTheIsr() {
        MetadataImage image = ledByTwo();
        PartitionRegistration before = image.topic("t").partition(0);
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.PREFERRED, "t", 0);
        ElectionResult r = result.reply().getResults(0);
        assertEquals("t", r.getTopic());
        assertEquals(0, r.getPartitionId());
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
        assertEquals(1, result.records().size());
        PartitionRegistration after = apply(image, result.records()).topic("t").partition(0);
        assertEquals(1, after.leader());
        assertEquals(before.leaderEpoch() + 1, after.leaderEpoch());
        assertEquals(before.isr(), after.isr());
    }

    @Test
    void preferredElectionIsNotNeededWhenThePreferredReplicaLeads() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 1, 3);
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.PREFERRED, "t", 0);
        assertError(ErrorCode.ELECTION_NOT_NEEDED, result.reply().getResults(0).getError(), "t-0",
                "preferred replica, broker 1");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void preferredReplicaOutsideTheIsrIsNotAvailable() {
        MetadataImage image = ledByTwo();
        TopicImage t = image.topic("t");
        image = apply(image, List.of(Records.partitionChange(t.id(), 0, null, List.of(2, 3))));
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.PREFERRED, "t", 0);
        assertError(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, result.reply().getResults(0).getError(), "t-0",
                "broker 1", "not in its ISR [2, 3]", "leader: broker 2");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void preferredReplicaThatIsFencedOrShuttingDownIsNotAvailable() {
        // Only the broker's state changes (as between its fencing and the ISR change): still in the ISR.
        MetadataImage fenced = apply(ledByTwo(), List.of(Records.fenceBroker(1, 1)));
        assertError(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, elect(fenced, ElectionType.PREFERRED, "t", 0).reply()
                .getResults(0).getError(), "preferred replica of t-0, broker 1, is fenced");
        MetadataImage stopping = apply(ledByTwo(), List.of(Records.controlledShutdown(1, 1)));
        ControllerResult<ElectLeadersResponse> result = elect(stopping, ElectionType.PREFERRED, "t", 0);
        assertError(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, result.reply().getResults(0).getError(),
                "broker 1, is shutting down");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void uncleanElectionIsNotNeededForAPartitionWithALeader() {
        ControllerResult<ElectLeadersResponse> result = elect(ledByTwo(), ElectionType.UNCLEAN, "t", 0);
        assertError(ErrorCode.ELECTION_NOT_NEEDED, result.reply().getResults(0).getError(), "t-0",
                "has a leader, broker 2");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void uncleanElectionPrefersAnEligibleIsrMember() {
        // Broker 3, the ISR's last member, is back but no election has run for it yet.
        MetadataImage image = apply(offline(), List.of(Records.unfenceBroker(1, 1), Records.unfenceBroker(3, 3)));
        PartitionRegistration before = image.topic("t").partition(0);
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.UNCLEAN, "t", 0);
        assertEquals(ErrorCode.NONE, result.reply().getResults(0).getError().getCode());
        PartitionRegistration after = apply(image, result.records()).topic("t").partition(0);
        assertEquals(3, after.leader(), "the ISR member, although broker 1 comes first in replica order");
        assertEquals(List.of(3), after.isr());
        assertEquals(before.leaderEpoch() + 1, after.leaderEpoch());
    }

    @Test
    void uncleanElectionTakesTheFirstEligibleReplicaAndResetsTheIsrToIt() {
        MetadataImage image = apply(offline(), List.of(Records.unfenceBroker(2, 2), Records.unfenceBroker(1, 1)));
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.UNCLEAN, "t", 0);
        assertEquals(ErrorCode.NONE, result.reply().getResults(0).getError().getCode());
        PartitionRegistration after = apply(image, result.records()).topic("t").partition(0);
        assertEquals(1, after.leader(), "first in replica order among the eligible");
        assertEquals(List.of(1), after.isr());
        assertTrue(image.topic("t").config(TopicConfigs.UNCLEAN_LEADER_ELECTION_ENABLE).isEmpty(),
                "asked for explicitly, whatever the topic's unclean.leader.election.enable");
    }

    @Test
    void uncleanElectionWithoutAnEligibleReplicaNamesEachReplicasState() {
        MetadataImage image = apply(offline(), List.of(Records.unfenceBroker(2, 2)));
        image = apply(image, List.of(Records.controlledShutdown(2, 2)));
        ControllerResult<ElectLeadersResponse> result = elect(image, ElectionType.UNCLEAN, "t", 0);
        assertError(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, result.reply().getResults(0).getError(),
                "no replica of t-0 can lead", "broker 1 is fenced", "broker 2 is shutting down", "broker 3 is fenced");
        assertTrue(result.records().isEmpty());
    }

    @Test
    void unknownTopicsAndPartitionsAndRepeatsAreNamed() {
        MetadataImage image = ledByTwo();
        ControllerResult<ElectLeadersResponse> result = decisions.electLeaders(image, ElectLeadersRequest
                .newBuilder().setElectionType(ElectionType.PREFERRED)
                .addTopics(ElectionTopic.newBuilder().setTopic("nope").addPartitionIds(0))
                .addTopics(ElectionTopic.newBuilder().setTopic("t").addPartitionIds(7).addPartitionIds(0)
                        .addPartitionIds(0))
                .addTopics(ElectionTopic.newBuilder().setTopic("t"))
                .build());
        List<ElectionResult> results = result.reply().getResultsList();
        assertEquals(4, results.size(), "a topic without partition ids has no results");
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, results.get(0).getError(), "'nope' does not exist");
        assertError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, results.get(1).getError(), "no partition 7",
                "it has 1");
        assertEquals(7, results.get(1).getPartitionId());
        assertEquals(ErrorCode.NONE, results.get(2).getError().getCode());
        assertError(ErrorCode.INVALID_REQUEST, results.get(3).getError(), "t-0", "more than once");
        assertEquals(1, result.records().size(), "t-0 elected once");
        assertEquals(ErrorCode.NONE, result.reply().getError().getCode());
    }

    @Test
    void withoutPartitionsEveryPartitionIsTriedAndUnneededOnesAreLeftOut() {
        MetadataImage image = ledByTwo();
        image = withTopic(image, decisions, "balanced", 3, 2);
        image = withTopic(image, decisions, "stuck", 1, 3);
        TopicImage stuck = image.topic("stuck");
        int preferred = stuck.partition(0).replicas().get(0);
        int other = stuck.partition(0).replicas().get(1);
        image = apply(image, List.of(Records.partitionChange(stuck.id(), 0, other, List.of(other))));

        ControllerResult<ElectLeadersResponse> result = electAll(image, ElectionType.PREFERRED);
        List<String> reported = new ArrayList<>();
        for (ElectionResult r : result.reply().getResultsList()) {
            reported.add(r.getTopic() + "-" + r.getPartitionId() + ":" + r.getError().getCode());
        }
        assertEquals(List.of("stuck-0:PREFERRED_LEADER_NOT_AVAILABLE", "t-0:NONE"), reported);
        assertError(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, result.reply().getResults(0).getError(),
                "broker " + preferred, "not in its ISR [" + other + "]");
        MetadataImage after = apply(image, result.records());
        assertEquals(1, after.topic("t").partition(0).leader());
        assertTrue(electAll(after, ElectionType.UNCLEAN).reply().getResultsList().isEmpty(),
                "every partition has a leader: nothing to report");
    }

    @Test
    void anElectionTypeIsRequired() {
        ControllerResult<ElectLeadersResponse> result = decisions.electLeaders(ledByTwo(),
                ElectLeadersRequest.newBuilder().addTopics(ElectionTopic.newBuilder().setTopic("t")
                        .addPartitionIds(0)).build());
        assertError(ErrorCode.INVALID_REQUEST, result.reply().getError(), "election type", "PREFERRED or UNCLEAN");
        assertTrue(result.records().isEmpty());
        assertEquals(0, result.reply().getResultsCount());
    }
}
