package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.common.Endpoint;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AllocateProducerIdsResponse;
import io.raftmq.protocol.controller.AlterConfigsRequest;
import io.raftmq.protocol.controller.AlterConfigsResponse;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.CreateAclsRequest;
import io.raftmq.protocol.controller.CreateAclsResponse;
import io.raftmq.protocol.controller.DeleteAclsRequest;
import io.raftmq.protocol.controller.DeleteAclsResponse;
import io.raftmq.protocol.controller.AlterPartitionResponse;
import io.raftmq.protocol.controller.AlterUserScramCredentialsRequest;
import io.raftmq.protocol.controller.AlterUserScramCredentialsResponse;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatResponse;
import io.raftmq.protocol.controller.CreatePartitionsRequest;
import io.raftmq.protocol.controller.CreatePartitionsResponse;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DeleteTopicsRequest;
import io.raftmq.protocol.controller.DeleteTopicsResponse;
import io.raftmq.protocol.controller.ElectLeadersRequest;
import io.raftmq.protocol.controller.ElectLeadersResponse;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.RegisterBrokerResponse;
import io.raftmq.protocol.metadata.ClusterIdRecord;
import io.raftmq.protocol.metadata.ControllerChangeRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Every decision the active controller makes, as a pure function {@code (image, request, nowMs) ->
 * (records, reply)}: no I/O, no clock, no threads, no state of its own beyond the injected defaults
 * and id sources. The caller commits the records and sends the reply after they commit.
 *
 * <p>{@code image} is the active controller's pending image (committed state plus its own batches
 * in flight), so consecutive decisions see each other's effects. Thread-safe (immutable).
 */
public final class ControllerDecisions {
    private final TopicDecisions topics;
    private final AclDecisions acls;
    private final Supplier<UUID> clusterIds;

    /**
     * @param defaultPartitions partitions of a topic created without a count (num.partitions)
     * @param defaultReplicationFactor replication factor of a topic created without one
     *     (default.replication.factor), capped at the number of eligible brokers
     * @param topicIds source of new topic ids (and ACL ids)
     * @param clusterIds source of the cluster id, asked once in the cluster's life ({@link
     *     ClusterIds#random} in production)
     */
    public ControllerDecisions(int defaultPartitions, int defaultReplicationFactor, Supplier<UUID> topicIds,
            Supplier<UUID> clusterIds) {
        this(defaultPartitions, defaultReplicationFactor, TopicLimits.DEFAULTS, topicIds, clusterIds);
    }

    /** @param limits bounds on the partitions topic commands may add */
    public ControllerDecisions(int defaultPartitions, int defaultReplicationFactor, TopicLimits limits,
            Supplier<UUID> topicIds, Supplier<UUID> clusterIds) {
        this.topics = new TopicDecisions(defaultPartitions, defaultReplicationFactor, limits, topicIds);
        this.acls = new AclDecisions(topicIds);
        this.clusterIds = clusterIds;
    }

    /**
     * The batch a new active controller appends first in its term: its announcement
     * (ControllerChangeRecord) and, when {@code committed} has no cluster id yet, a new one. The
     * image is the committed one, which holds every batch of earlier terms (the metadata log only
     * reports the leadership once they are applied), so an id is never chosen twice.
     */
    public ControllerResult<Void> takeover(MetadataImage committed, int nodeId, long epoch, Endpoint endpoint) {
        List<MetadataRecord> records = new ArrayList<>(2);
        records.add(MetadataRecord.newBuilder().setControllerChange(ControllerChangeRecord.newBuilder()
                .setControllerId(nodeId)
                .setControllerEpoch(epoch)
                .setEndpoint(endpoint)).build());
        if (committed.clusterId() == null) {
            records.add(MetadataRecord.newBuilder().setClusterId(ClusterIdRecord.newBuilder()
                    .setClusterId(ClusterIds.format(clusterIds.get()))).build());
        }
        return ControllerResult.of(records, null);
    }

    /** @param nowMs the controller's monotonic clock, for the session check */
    public ControllerResult<RegisterBrokerResponse> registerBroker(
            MetadataImage image, BrokerDecisions.SessionView sessions, RegisterBrokerRequest request, long nowMs) {
        return BrokerDecisions.registerBroker(image, sessions, request, nowMs);
    }

    /**
     * @param caughtUpOffset the metadata offset a broker in controlled shutdown must have applied
     *     before it may stop ({@link Long#MAX_VALUE} while batches are in flight)
     */
    public ControllerResult<BrokerHeartbeatResponse> brokerHeartbeat(
            MetadataImage image, BrokerHeartbeatRequest request, long caughtUpOffset) {
        return BrokerDecisions.brokerHeartbeat(image, request, caughtUpOffset);
    }

    public ControllerResult<Void> fenceBrokers(MetadataImage image, Collection<Integer> brokerIds) {
        return BrokerDecisions.fenceBrokers(image, brokerIds);
    }

    /** Moves leaderships back to preferred replicas where a broker's share exceeds the imbalance (Kafka's rule). */
    public ControllerResult<Void> electPreferredLeaders(MetadataImage image, int imbalancePercentage) {
        return ControllerResult.of(PartitionElection.electPreferredLeaders(image, imbalancePercentage), null);
    }

    /** ElectLeaders: PREFERRED or UNCLEAN elections an administrator asks for ({@link ElectionDecisions}). */
    public ControllerResult<ElectLeadersResponse> electLeaders(MetadataImage image, ElectLeadersRequest request) {
        return ElectionDecisions.electLeaders(image, request);
    }

    public ControllerResult<AlterPartitionResponse> alterPartition(MetadataImage image, AlterPartitionRequest request) {
        return PartitionDecisions.alterPartition(image, request);
    }

    public ControllerResult<CreateTopicsResponse> createTopics(MetadataImage image, CreateTopicsRequest request) {
        return topics.createTopics(image, request);
    }

    public ControllerResult<DeleteTopicsResponse> deleteTopics(MetadataImage image, DeleteTopicsRequest request) {
        return topics.deleteTopics(image, request);
    }

    public ControllerResult<CreatePartitionsResponse> createPartitions(
            MetadataImage image, CreatePartitionsRequest request) {
        return topics.createPartitions(image, request);
    }

    public ControllerResult<AllocateProducerIdsResponse> allocateProducerIds(MetadataImage image,
            AllocateProducerIdsRequest request) {
        return ProducerIdDecisions.allocateProducerIds(image, request);
    }

    public ControllerResult<AlterConfigsResponse> alterConfigs(MetadataImage image, AlterConfigsRequest request) {
        return topics.alterConfigs(image, request);
    }

    /** CreateAcls: each valid ACL added unless it exists ({@link AclDecisions}). */
    public ControllerResult<CreateAclsResponse> createAcls(MetadataImage image, CreateAclsRequest request) {
        return acls.createAcls(image, request);
    }

    /** DeleteAcls: every ACL a filter matches removed, and reported per filter ({@link AclDecisions}). */
    public ControllerResult<DeleteAclsResponse> deleteAcls(MetadataImage image, DeleteAclsRequest request) {
        return acls.deleteAcls(image, request);
    }

    /** Sets and deletes users' SCRAM credentials ({@link ScramCredentialDecisions}). */
    public ControllerResult<AlterUserScramCredentialsResponse> alterUserScramCredentials(MetadataImage image,
            AlterUserScramCredentialsRequest request) {
        return ScramCredentialDecisions.alter(image, request);
    }
}
