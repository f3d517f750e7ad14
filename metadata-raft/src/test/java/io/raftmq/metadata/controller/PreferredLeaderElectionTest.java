package io.raftmq.metadata.controller;

import static io.raftmq.metadata.controller.TestImages.apply;
import static io.raftmq.metadata.controller.TestImages.unfencedBrokers;
import static io.raftmq.metadata.controller.TestImages.withTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kafka's automatic leader rebalance as a pure function of the image. */
class PreferredLeaderElectionTest {
    private final ControllerDecisions decisions = TestImages.decisions();

    /** Three brokers, a topic whose partitions broker 1 prefers some of; broker 1 failed and came back. */
    private MetadataImage afterBrokerOneReturned(int partitions, boolean backInIsr) {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", partitions, 3);
        image = apply(image, decisions.fenceBrokers(image, List.of(1)).records());
        image = apply(image, List.of(Records.unfenceBroker(1, image.broker(1).epoch())));
        if (backInIsr) {
            TopicImage topic = image.topic("t");
            List<io.raftmq.protocol.metadata.MetadataRecord> rejoin = new ArrayList<>();
            for (int id = 0; id < partitions; id++) {
                List<Integer> isr = new ArrayList<>(topic.partitions().get(id).isr());
                isr.add(1);
                rejoin.add(Records.partitionChange(topic.id(), id, null, isr));
            }
            image = apply(image, rejoin);
        }
        return image;
    }

    @Test
    void aBalancedClusterIsLeftAlone() {
        MetadataImage image = withTopic(unfencedBrokers(3), decisions, "t", 6, 3);
        for (PartitionRegistration p : image.topic("t").partitions()) {
            assertEquals(p.replicas().get(0), p.leader(), "placement makes the first replica the leader");
        }
        assertTrue(decisions.electPreferredLeaders(image, 10).records().isEmpty());
    }

    @Test
    void leadershipMovesBackToAPreferredReplicaInTheIsr() {
        MetadataImage image = afterBrokerOneReturned(6, true);
        List<Integer> moved = new ArrayList<>();
        for (int id = 0; id < 6; id++) {
            PartitionRegistration p = image.topic("t").partitions().get(id);
            if (p.replicas().get(0) == 1) {
                assertNotEquals(1, p.leader(), "the failover moved it away");
                moved.add(id);
            }
        }
        assertTrue(!moved.isEmpty(), "broker 1 is preferred somewhere");
        ControllerResult<Void> result = decisions.electPreferredLeaders(image, 10);
        assertEquals(moved.size(), result.records().size());
        MetadataImage after = apply(image, result.records());
        for (int id = 0; id < 6; id++) {
            PartitionRegistration before = image.topic("t").partitions().get(id);
            PartitionRegistration now = after.topic("t").partitions().get(id);
            if (moved.contains(id)) {
                assertEquals(1, now.leader());
                assertEquals(before.leaderEpoch() + 1, now.leaderEpoch(), "a leader change fences the old leader");
                assertEquals(before.isr(), now.isr(), "the ISR is not touched");
            } else {
                assertEquals(before, now);
            }
        }
        assertTrue(decisions.electPreferredLeaders(after, 10).records().isEmpty(), "balanced now");
    }

    @Test
    void aPreferredReplicaOutsideTheIsrDoesNotTakeOver() {
        MetadataImage image = afterBrokerOneReturned(6, false);
        assertTrue(decisions.electPreferredLeaders(image, 10).records().isEmpty(),
                "it would lead without the records it missed");
    }

    @Test
    void aFencedPreferredReplicaDoesNotTakeOver() {
        MetadataImage image = afterBrokerOneReturned(6, true);
        image = apply(image, List.of(Records.fenceBroker(1, image.broker(1).epoch())));
        assertTrue(decisions.electPreferredLeaders(image, 10).records().isEmpty());
    }

    @Test
    void anImbalanceWithinThePercentageIsTolerated() {
        MetadataImage image = afterBrokerOneReturned(6, true);
        // Broker 1 prefers 2 of 6 partitions and leads none of them: 100 % imbalance.
        assertTrue(decisions.electPreferredLeaders(image, 99).records().size() > 0);
        assertTrue(decisions.electPreferredLeaders(image, 100).records().isEmpty());
    }
}
