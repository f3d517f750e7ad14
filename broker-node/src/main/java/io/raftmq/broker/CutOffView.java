package io.raftmq.broker;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a broker whose lease expired (no answer from the controller for longer than its session
 * allows) tells clients about the cluster: its metadata may be stale in every respect, so it
 * vouches for no leader. Every partition is answered without a leader (LEADER_NOT_AVAILABLE, at
 * the leader epoch it knows, so that clients keep what they learned elsewhere), and this broker is
 * listed as fenced, as the controller will have it by the time the metadata could say so.
 * Clients then ask another broker.
 *
 * <p>Stateless; any thread. Built per request while the lease is expired (one pass over the
 * image), never otherwise.
 */
final class CutOffView {
    private CutOffView() {}

    /** {@code image} as a broker {@code brokerId} cut off from the controller may describe it. */
    static MetadataImage of(MetadataImage image, int brokerId) {
        Map<Integer, BrokerRegistration> brokers = new HashMap<>(image.brokers());
        BrokerRegistration self = brokers.get(brokerId);
        if (self != null && self.state() != BrokerState.FENCED) {
            brokers.put(brokerId, self.withState(BrokerState.FENCED));
        }
        Map<UUID, TopicImage> topics = new HashMap<>(image.topicsById().size() * 2);
        for (TopicImage topic : image.topics()) {
            List<PartitionRegistration> partitions = new ArrayList<>(topic.numPartitions());
            for (int i = 0; i < topic.numPartitions(); i++) {
                PartitionRegistration p = topic.partition(i);
                partitions.add(new PartitionRegistration(p.replicas(), p.isr(), PartitionRegistration.NO_LEADER,
                        p.leaderEpoch(), p.partitionEpoch()));
            }
            topics.put(topic.id(), new TopicImage(topic.name(), topic.id(), topic.configs(), partitions));
        }
        return new MetadataImage(image.offset(), brokers, topics, image.topicIdsByName(), image.controller(),
                image.nextProducerId(), image.clusterId(), image.acls(), image.scramCredentials());
    }
}
