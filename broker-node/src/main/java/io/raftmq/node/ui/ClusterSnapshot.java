package io.raftmq.node.ui;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.log.Voter;
import io.raftmq.protocol.common.Endpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster as one node's applied metadata shows it, as the web view's JSON ({@code GET
 * /api/cluster}, the {@code cluster} event): the metadata quorum (voters, the quorum leader and
 * its epoch as far as this node knows, the active controller and its epoch), brokers (state,
 * endpoints, rack, partitions led), topics and their partitions (leader, leader epoch, replicas,
 * ISR; under-replicated and leaderless flagged). Only what a client could ask for (describe
 * cluster, metadata); no configuration values or credentials.
 *
 * <p>Stateless; any thread.
 */
final class ClusterSnapshot {
    private ClusterSnapshot() {}

    /**
     * @param voters the metadata quorum's voters as this node's config names them (empty on a
     *     broker-only node)
     * @param quorumLeader the quorum leader this node's controller role knows, or null (broker only)
     */
    static JsonObject of(int nodeId, MetadataImage image, List<Voter> voters, LeaderAndEpoch quorumLeader,
            long nowMs) {
        JsonObject out = new JsonObject();
        out.addProperty("node", nodeId);
        out.addProperty("timeMs", nowMs);
        out.addProperty("metadataOffset", image.offset());
        out.addProperty("clusterId", image.clusterId());
        out.add("quorum", quorum(image, voters, quorumLeader));
        Map<Integer, Integer> led = new HashMap<>();
        JsonArray topics = new JsonArray();
        for (TopicImage t : image.topicsSorted()) {
            JsonObject topic = new JsonObject();
            topic.addProperty("name", t.name());
            topic.addProperty("id", t.id().toString());
            JsonArray partitions = new JsonArray();
            for (int p = 0; p < t.numPartitions(); p++) {
                PartitionRegistration r = t.partition(p);
                if (r.hasLeader()) {
                    led.merge(r.leader(), 1, Integer::sum);
                }
                JsonObject partition = new JsonObject();
                partition.addProperty("partition", p);
                partition.addProperty("leader", r.leader());
                partition.addProperty("leaderEpoch", r.leaderEpoch());
                partition.add("replicas", ints(r.replicas()));
                partition.add("isr", ints(r.isr()));
                partition.addProperty("underReplicated", r.isr().size() < r.replicas().size());
                partition.addProperty("leaderless", !r.hasLeader());
                partitions.add(partition);
            }
            topic.add("partitions", partitions);
            topics.add(topic);
        }
        JsonArray brokers = new JsonArray();
        for (BrokerRegistration b : image.brokersSorted()) {
            JsonObject broker = new JsonObject();
            broker.addProperty("id", b.id());
            broker.addProperty("state", switch (b.state()) {
                case UNFENCED -> "running";
                case FENCED -> "fenced";
                case CONTROLLED_SHUTDOWN -> "shutting down";
            });
            broker.addProperty("epoch", b.epoch());
            broker.addProperty("rack", b.rack());
            JsonObject endpoints = new JsonObject();
            for (Endpoint e : b.endpoints()) {
                endpoints.addProperty(e.getListener(), e.getHost() + ":" + e.getPort());
            }
            broker.add("endpoints", endpoints);
            broker.addProperty("partitionsLed", led.getOrDefault(b.id(), 0));
            brokers.add(broker);
        }
        out.add("brokers", brokers);
        out.add("topics", topics);
        return out;
    }

    private static JsonObject quorum(MetadataImage image, List<Voter> voters, LeaderAndEpoch quorumLeader) {
        JsonObject quorum = new JsonObject();
        ControllerRegistration controller = image.controller();
        int leader = quorumLeader != null && quorumLeader.hasLeader() ? quorumLeader.leaderId()
                : controller == null ? -1 : controller.controllerId();
        quorum.addProperty("leader", leader);
        quorum.addProperty("epoch", quorumLeader != null ? quorumLeader.epoch() : -1);
        quorum.addProperty("activeController", controller == null ? -1 : controller.controllerId());
        quorum.addProperty("controllerEpoch", controller == null ? -1 : controller.controllerEpoch());
        JsonArray list = new JsonArray();
        for (Voter v : voters) {
            JsonObject voter = new JsonObject();
            voter.addProperty("id", v.nodeId());
            voter.addProperty("address", v.address());
            voter.addProperty("role", v.nodeId() == leader ? "leader" : leader < 0 ? "unknown" : "follower");
            list.add(voter);
        }
        quorum.add("voters", list);
        return quorum;
    }

    static JsonArray ints(List<Integer> values) {
        JsonArray out = new JsonArray();
        values.forEach(out::add);
        return out;
    }
}
