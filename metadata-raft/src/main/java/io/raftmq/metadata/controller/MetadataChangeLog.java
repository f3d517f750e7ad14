package io.raftmq.metadata.controller;

import io.raftmq.common.Uuids;
import io.raftmq.metadata.image.Acls;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionChangeRecord;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per committed metadata state change, written by the active controller (so the
 * cluster logs each change once): broker registered, fenced, unfenced, shutting down; topic
 * created or deleted; partitions added; leader elected; ISR shrunk or expanded; config changed;
 * cluster id set; ACL added or removed.
 */
final class MetadataChangeLog {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataChangeLog.class);

    private MetadataChangeLog() {}

    static void logCommitted(int nodeId, MetadataImage before, List<MetadataRecord> records, MetadataImage after) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        int newPartitions = 0;
        UUID newPartitionsTopic = null;
        for (MetadataRecord record : records) {
            if (record.hasPartition()) {
                UUID topicId = Uuids.fromProto(record.getPartition().getTopicId());
                if (newPartitionsTopic != null && !newPartitionsTopic.equals(topicId)) {
                    logNewPartitions(nodeId, before, after, newPartitionsTopic, newPartitions);
                    newPartitions = 0;
                }
                newPartitionsTopic = topicId;
                newPartitions++;
                continue;
            }
            String line = describe(before, after, record);
            if (line != null) {
                LOG.info("[node {}] {} (offset {})", nodeId, line, after.offset());
            }
        }
        if (newPartitionsTopic != null) {
            logNewPartitions(nodeId, before, after, newPartitionsTopic, newPartitions);
        }
    }

    private static void logNewPartitions(int nodeId, MetadataImage before, MetadataImage after, UUID topicId, int n) {
        TopicImage topic = after.topic(topicId);
        if (topic == null) {
            return;
        }
        boolean created = before.topic(topicId) == null;
        LOG.info("[node {}] {} '{}': {} partitions, replication factor {} (offset {})", nodeId,
                created ? "created topic" : "added " + n + " partitions to topic", topic.name(),
                topic.numPartitions(), topic.replicationFactor(), after.offset());
    }

    private static String describe(MetadataImage before, MetadataImage after, MetadataRecord record) {
        return switch (record.getRecordCase()) {
            case REGISTER_BROKER -> "broker " + record.getRegisterBroker().getBrokerId() + " registered at epoch "
                    + record.getRegisterBroker().getBrokerEpoch() + "; fenced until it catches up";
            case FENCE_BROKER -> "broker " + record.getFenceBroker().getBrokerId() + " fenced";
            case UNFENCE_BROKER -> "broker " + record.getUnfenceBroker().getBrokerId() + " unfenced";
            case BROKER_CONTROLLED_SHUTDOWN -> "broker " + record.getBrokerControlledShutdown().getBrokerId()
                    + " began a controlled shutdown";
            case DELETE_TOPIC -> {
                TopicImage topic = before.topic(Uuids.fromProto(record.getDeleteTopic().getTopicId()));
                yield "deleted topic '" + (topic == null ? "?" : topic.name()) + "'";
            }
            case CONFIG_CHANGE -> "topic '" + record.getConfigChange().getResourceName() + "' config "
                    + record.getConfigChange().getKey()
                    + (record.getConfigChange().hasValue() ? " set to " + record.getConfigChange().getValue()
                            : " reset to default");
            case CONTROLLER_CHANGE -> "node " + record.getControllerChange().getControllerId()
                    + " announced itself active controller at epoch "
                    + record.getControllerChange().getControllerEpoch();
            case PARTITION_CHANGE -> describeChange(before, after, record.getPartitionChange());
            case PRODUCER_IDS -> "producer ids " + before.nextProducerId() + ".."
                    + (record.getProducerIds().getNextProducerId() - 1) + " given to broker "
                    + record.getProducerIds().getBrokerId();
            case CLUSTER_ID -> "cluster id set to " + record.getClusterId().getClusterId();
            case ACCESS_CONTROL_ENTRY -> "ACL " + Uuids.fromProto(record.getAccessControlEntry().getId()) + " added: "
                    + Acls.toBinding(record.getAccessControlEntry().getAcl());
            case REMOVE_ACCESS_CONTROL_ENTRY -> {
                UUID id = Uuids.fromProto(record.getRemoveAccessControlEntry().getId());
                yield "ACL " + id + " removed: " + before.acls().byId().get(id);
            }
            case USER_SCRAM_CREDENTIAL -> "user '" + record.getUserScramCredential().getName() + "' "
                    + mechanismName(record.getUserScramCredential().getMechanism()) + " credential set ("
                    + record.getUserScramCredential().getIterations() + " iterations)";
            case REMOVE_USER_SCRAM_CREDENTIAL -> "user '" + record.getRemoveUserScramCredential().getName() + "' "
                    + mechanismName(record.getRemoveUserScramCredential().getMechanism()) + " credential deleted";
            case CREATE_TOPIC, PARTITION, RECORD_NOT_SET -> null;
        };
    }

    private static String describeChange(MetadataImage before, MetadataImage after, PartitionChangeRecord change) {
        UUID topicId = Uuids.fromProto(change.getTopicId());
        TopicImage topicBefore = before.topic(topicId);
        TopicImage topicAfter = after.topic(topicId);
        if (topicAfter == null) {
            return null;
        }
        PartitionRegistration old = topicBefore == null ? null : topicBefore.partition(change.getPartitionId());
        PartitionRegistration now = topicAfter.partition(change.getPartitionId());
        StringBuilder line = new StringBuilder("partition ").append(topicAfter.name()).append('-')
                .append(change.getPartitionId()).append(':');
        if (change.hasLeader()) {
            line.append(" leader ").append(old == null ? "?" : leaderName(old.leader())).append(" -> ")
                    .append(leaderName(now.leader())).append(" (leader epoch ").append(now.leaderEpoch()).append(')');
        }
        if (change.hasIsr()) {
            String kind = old == null ? "changed" : now.isr().size() < old.isr().size() ? "shrunk"
                    : now.isr().size() > old.isr().size() ? "expanded" : "changed";
            line.append(" ISR ").append(kind).append(' ').append(old == null ? "?" : old.isr()).append(" -> ")
                    .append(now.isr());
        }
        return line.toString();
    }

    /** Kafka's name of a mechanism: SCRAM-SHA-256. */
    static String mechanismName(ScramMechanism mechanism) {
        return mechanism.name().replace('_', '-');
    }

    private static String leaderName(int leader) {
        return leader == PartitionRegistration.NO_LEADER ? "none" : String.valueOf(leader);
    }
}
