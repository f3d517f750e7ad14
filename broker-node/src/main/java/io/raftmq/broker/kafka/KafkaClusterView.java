package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import io.raftmq.metadata.controller.TopicNames;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.common.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * The cluster as Kafka clients see it through this listener, from one metadata image: the brokers
 * they can reach (those registered with a "kafka" endpoint), the id they send controller-bound
 * requests to, each partition's leader and error as a Metadata answer reports them, and the
 * authorized-operation bit fields. Kafka's own rules for these (KRaftMetadataCache, AuthHelper)
 * are followed here; which partitions have a leader and which replicas are offline come from
 * {@link BrokerApi}.
 *
 * <p>Stateless; any thread.
 */
final class KafkaClusterView {
    /** "Not asked for": the schema default of every authorized-operations field. */
    static final int OPERATIONS_NOT_ASKED = Integer.MIN_VALUE;

    /**
     * A topic's operations as Kafka answers them without an authorizer (every operation the
     * resource type supports: AclEntry.supportedOperations(TOPIC)); raftmq has no ACLs.
     */
    static final int TOPIC_OPERATIONS = bitField(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
            AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);

    /** The cluster's operations without an authorizer (AclEntry.supportedOperations(CLUSTER)). */
    static final int CLUSTER_OPERATIONS = bitField(AclOperation.CREATE, AclOperation.CLUSTER_ACTION,
            AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE,
            AclOperation.ALTER, AclOperation.DESCRIBE);

    /** A group's operations without an authorizer (AclEntry.supportedOperations(GROUP)). */
    static final int GROUP_OPERATIONS = bitField(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE,
            AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);

    /** A broker Kafka clients can reach, with its Kafka endpoint. */
    record KafkaBroker(BrokerRegistration registration, Endpoint endpoint) {
        int id() {
            return registration.id();
        }

        /** The rack, or null when none is set (Kafka's "no rack"). */
        String rack() {
            return registration.rack().isEmpty() ? null : registration.rack();
        }
    }

    private KafkaClusterView() {}

    /**
     * The cluster id (chosen once by the first active controller), or null before it is known:
     * Metadata v2+ sends null as "unknown"; DescribeCluster, whose field is not nullable, sends "".
     */
    static String clusterId(MetadataImage image) {
        return image.clusterId();
    }

    /**
     * Brokers registered with a Kafka endpoint, sorted by id: the unfenced ones (Kafka's alive
     * brokers, which includes those in controlled shutdown), or every one when {@code includeFenced}.
     */
    static List<KafkaBroker> brokers(MetadataImage image, boolean includeFenced) {
        List<KafkaBroker> out = new ArrayList<>();
        for (BrokerRegistration b : image.brokersSorted()) {
            if (b.isFenced() && !includeFenced) {
                continue;
            }
            KafkaIds.kafkaEndpoint(b).ifPresent(e -> out.add(new KafkaBroker(b, e)));
        }
        return out;
    }

    /**
     * The id Kafka clients send controller-bound requests to (any broker forwards them): the
     * active controller when clients can reach it as a broker, else the lowest-id reachable
     * broker (Kafka's KRaft brokers answer a random alive broker: clients never reach a
     * controller), else -1. Always an id of {@link #brokers(MetadataImage, boolean)}: a client
     * that cannot find the id among the brokers waits for it.
     */
    static int controllerId(MetadataImage image) {
        List<KafkaBroker> reachable = brokers(image, false);
        ControllerRegistration controller = image.controller();
        if (controller != null && reachable.stream().anyMatch(b -> b.id() == controller.controllerId())) {
            return controller.controllerId();
        }
        return reachable.isEmpty() ? -1 : reachable.get(0).id();
    }

    static boolean isInternal(String topic) {
        return TopicNames.isInternal(topic);
    }

    /**
     * Partition {@code index} of {@code topic} as a Metadata answer at {@code version} reports it.
     * Beyond {@link BrokerApi#partitionError}: a leader clients cannot reach over Kafka (no Kafka
     * endpoint) is reported as leader -1 with LISTENER_NOT_FOUND from v6 (LEADER_NOT_AVAILABLE
     * before, and for a leader the image does not know); v0 lists only reachable replicas and
     * in-sync replicas and says REPLICA_NOT_AVAILABLE when it left one out (KRaftMetadataCache).
     */
    static MetadataResponsePartition partition(short version, MetadataImage image, TopicImage topic, int index) {
        PartitionRegistration p = topic.partition(index);
        short error = KafkaErrors.code(BrokerApi.partitionError(topic, index, p));
        int leader = p.leader();
        if (p.hasLeader() && KafkaIds.kafkaEndpoint(image.broker(leader)).isEmpty()) {
            error = image.broker(leader) != null && version >= 6 ? Errors.LISTENER_NOT_FOUND.code()
                    : Errors.LEADER_NOT_AVAILABLE.code();
            leader = -1;
        }
        List<Integer> replicas = p.replicas();
        List<Integer> isr = p.isr();
        if (version == 0) {
            replicas = reachable(image, replicas);
            isr = reachable(image, isr);
            if (error == Errors.NONE.code()
                    && (replicas.size() < p.replicas().size() || isr.size() < p.isr().size())) {
                error = Errors.REPLICA_NOT_AVAILABLE.code();
            }
        }
        return new MetadataResponsePartition()
                .setErrorCode(error)
                .setPartitionIndex(index)
                .setLeaderId(leader)
                .setLeaderEpoch(p.leaderEpoch())
                .setReplicaNodes(new ArrayList<>(replicas))
                .setIsrNodes(new ArrayList<>(isr))
                .setOfflineReplicas(BrokerApi.offlineReplicas(image, p));
    }

    /** The ids among {@code ids} of unfenced brokers with a Kafka endpoint. */
    private static List<Integer> reachable(MetadataImage image, List<Integer> ids) {
        return ids.stream().filter(id -> {
            BrokerRegistration b = image.broker(id);
            return b != null && !b.isFenced() && KafkaIds.kafkaEndpoint(b).isPresent();
        }).toList();
    }

    private static int bitField(AclOperation... operations) {
        Set<Byte> codes = Stream.of(operations).map(AclOperation::code).collect(Collectors.toSet());
        return Utils.to32BitField(codes);
    }
}
