package io.raftmq.metadata.image;

import io.raftmq.common.Uuids;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.metadata.AccessControlEntryRecord;
import io.raftmq.protocol.metadata.BrokerControlledShutdownRecord;
import io.raftmq.protocol.metadata.ClusterIdRecord;
import io.raftmq.protocol.metadata.ConfigChangeRecord;
import io.raftmq.protocol.metadata.ConfigResourceType;
import io.raftmq.protocol.metadata.ControllerChangeRecord;
import io.raftmq.protocol.metadata.CreateTopicRecord;
import io.raftmq.protocol.metadata.DeleteTopicRecord;
import io.raftmq.protocol.metadata.FenceBrokerRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import io.raftmq.protocol.metadata.PartitionChangeRecord;
import io.raftmq.protocol.metadata.PartitionRecord;
import io.raftmq.protocol.metadata.ProducerIdsRecord;
import io.raftmq.protocol.metadata.RegisterBrokerRecord;
import io.raftmq.protocol.metadata.RemoveAccessControlEntryRecord;
import io.raftmq.protocol.metadata.RemoveUserScramCredentialRecord;
import io.raftmq.protocol.metadata.ScramMechanism;
import io.raftmq.protocol.metadata.UnfenceBrokerRecord;
import io.raftmq.protocol.metadata.UserScramCredentialRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.common.acl.AclBinding;

/**
 * Replays metadata records onto a base {@link MetadataImage} and produces the next image. This is
 * the only code that changes metadata state: the active controller's pending image, every voter's
 * committed image and every broker's copy are all built by it, so they agree.
 *
 * <p>Each record is checked against the state it applies to; a contradiction throws {@link
 * MetadataReplayException} naming both values, and the caller must stop the node (never skip).
 *
 * <p>Not thread-safe: one delta belongs to the thread that replays into it.
 */
public final class MetadataDelta {
    private final MetadataImage base;

    private final Map<Integer, BrokerRegistration> changedBrokers = new LinkedHashMap<>();
    private final Map<UUID, TopicBuilder> changedTopics = new LinkedHashMap<>();
    private final Set<UUID> deletedTopics = new LinkedHashSet<>();
    private ControllerRegistration controller;
    private boolean controllerChanged;
    private long nextProducerId;
    private String clusterId;
    /** The ACLs as changed by this delta, or null while unchanged (the base's apply). */
    private Map<UUID, AclBinding> acls;
    /** Users whose credentials the replayed records changed: their whole new set (empty: none left). */
    private final Map<String, Map<ScramMechanism, ScramCredentialData>> changedScramUsers = new LinkedHashMap<>();

    public MetadataDelta(MetadataImage base) {
        this.base = base;
        this.controller = base.controller();
        this.nextProducerId = base.nextProducerId();
        this.clusterId = base.clusterId();
    }

    /** Builds the image of a snapshot: its records replayed onto an empty image. */
    public static MetadataImage loadSnapshot(long offset, List<MetadataRecord> records) {
        MetadataDelta delta = new MetadataDelta(MetadataImage.EMPTY);
        for (MetadataRecord record : records) {
            delta.replay(offset, record);
        }
        return delta.apply(offset);
    }

    /** Replays {@code records} committed at {@code offset} onto {@code base}. */
    public static MetadataImage replayBatch(MetadataImage base, long offset, List<MetadataRecord> records) {
        MetadataDelta delta = new MetadataDelta(base);
        for (MetadataRecord record : records) {
            delta.replay(offset, record);
        }
        return delta.apply(offset);
    }

    public MetadataImage base() {
        return base;
    }

    /**
     * Applies one record, committed at {@code offset} (or {@link MetadataImage#PENDING_OFFSET}).
     *
     * @throws MetadataReplayException when the record contradicts the state
     */
    public void replay(long offset, MetadataRecord record) {
        switch (record.getRecordCase()) {
            case REGISTER_BROKER -> replay(offset, record.getRegisterBroker());
            case FENCE_BROKER -> replay(record.getFenceBroker());
            case UNFENCE_BROKER -> replay(record.getUnfenceBroker());
            case BROKER_CONTROLLED_SHUTDOWN -> replay(record.getBrokerControlledShutdown());
            case CREATE_TOPIC -> replay(record.getCreateTopic());
            case PARTITION -> replay(record.getPartition());
            case PARTITION_CHANGE -> replay(record.getPartitionChange());
            case DELETE_TOPIC -> replay(record.getDeleteTopic());
            case CONFIG_CHANGE -> replay(record.getConfigChange());
            case CONTROLLER_CHANGE -> replay(record.getControllerChange());
            case PRODUCER_IDS -> replay(record.getProducerIds());
            case CLUSTER_ID -> replay(record.getClusterId());
            case ACCESS_CONTROL_ENTRY -> replay(record.getAccessControlEntry());
            case REMOVE_ACCESS_CONTROL_ENTRY -> replay(record.getRemoveAccessControlEntry());
            case USER_SCRAM_CREDENTIAL -> replay(record.getUserScramCredential());
            case REMOVE_USER_SCRAM_CREDENTIAL -> replay(record.getRemoveUserScramCredential());
            case RECORD_NOT_SET -> throw new MetadataReplayException(
                    "metadata record at offset " + offset + " has no record set (written by a newer version?)");
        }
    }

    /** The image with every replayed record, at {@code offset}. */
    public MetadataImage apply(long offset) {
        Map<Integer, BrokerRegistration> brokers = new HashMap<>(base.brokers());
        brokers.putAll(changedBrokers);
        Map<UUID, TopicImage> topics = new HashMap<>(base.topicsById());
        Map<String, UUID> names = new HashMap<>(base.topicIdsByName());
        for (UUID deleted : deletedTopics) {
            TopicImage old = topics.remove(deleted);
            if (old != null) {
                names.remove(old.name());
            }
        }
        for (TopicBuilder topic : changedTopics.values()) {
            topics.put(topic.id, topic.build());
            names.put(topic.name, topic.id);
        }
        AclsImage aclsImage = acls == null ? base.acls() : new AclsImage(acls);
        Map<String, Map<ScramMechanism, ScramCredentialData>> scram = new HashMap<>(base.scramCredentials());
        changedScramUsers.forEach((user, credentials) -> {
            if (credentials.isEmpty()) {
                scram.remove(user);
            } else {
                scram.put(user, Collections.unmodifiableMap(new EnumMap<>(credentials)));
            }
        });
        return new MetadataImage(offset, brokers, topics, names, controller, nextProducerId, clusterId, aclsImage,
                scram);
    }

    /** Ids of brokers registered or changed by the replayed records. */
    public Set<Integer> changedBrokerIds() {
        return Collections.unmodifiableSet(changedBrokers.keySet());
    }

    /** Ids of topics created or changed (not deleted) by the replayed records. */
    public Set<UUID> changedTopicIds() {
        return Collections.unmodifiableSet(changedTopics.keySet());
    }

    /** Ids of topics of the base image deleted by the replayed records. */
    public Set<UUID> deletedTopicIds() {
        Set<UUID> out = new HashSet<>(deletedTopics);
        out.retainAll(base.topicsById().keySet());
        return out;
    }

    public boolean controllerChanged() {
        return controllerChanged;
    }

    /** Whether the replayed records added or removed ACLs. */
    public boolean aclsChanged() {
        return acls != null;
    }

    // ---- the current state, as of the records replayed so far ----

    /** The broker as of the records replayed so far, or null. */
    public BrokerRegistration broker(int brokerId) {
        BrokerRegistration changed = changedBrokers.get(brokerId);
        return changed != null ? changed : base.broker(brokerId);
    }

    private TopicBuilder topicForChange(UUID topicId, String what) {
        TopicBuilder changed = changedTopics.get(topicId);
        if (changed != null) {
            return changed;
        }
        TopicImage existing = deletedTopics.contains(topicId) ? null : base.topic(topicId);
        if (existing == null) {
            throw new MetadataReplayException(what + " for unknown topic id " + topicId);
        }
        TopicBuilder builder = new TopicBuilder(existing);
        changedTopics.put(topicId, builder);
        return builder;
    }

    private UUID topicIdByName(String name) {
        for (TopicBuilder topic : changedTopics.values()) {
            if (topic.name.equals(name)) {
                return topic.id;
            }
        }
        UUID id = base.topicIdsByName().get(name);
        return id == null || deletedTopics.contains(id) ? null : id;
    }

    // ---- replay, one method per record type ----

    private void replay(long offset, RegisterBrokerRecord r) {
        BrokerRegistration existing = broker(r.getBrokerId());
        if (existing != null && r.getBrokerEpoch() <= existing.epoch()) {
            throw new MetadataReplayException("broker " + r.getBrokerId() + " registered with epoch "
                    + r.getBrokerEpoch() + ", not above its previous epoch " + existing.epoch());
        }
        long registrationOffset = r.getRegistrationOffset() != 0 ? r.getRegistrationOffset() : offset;
        changedBrokers.put(r.getBrokerId(), new BrokerRegistration(
                r.getBrokerId(),
                r.getBrokerEpoch(),
                Uuids.fromProto(r.getIncarnationId()),
                r.getEndpointsList(),
                r.getRack(),
                BrokerState.FENCED,
                registrationOffset));
    }

    private BrokerRegistration brokerAtEpoch(int brokerId, long epoch, String what) {
        BrokerRegistration broker = broker(brokerId);
        if (broker == null) {
            throw new MetadataReplayException(what + " for unregistered broker " + brokerId);
        }
        if (broker.epoch() != epoch) {
            throw new MetadataReplayException(what + " for broker " + brokerId + " at epoch " + epoch
                    + ", but its registration has epoch " + broker.epoch());
        }
        return broker;
    }

    private void replay(FenceBrokerRecord r) {
        BrokerRegistration broker = brokerAtEpoch(r.getBrokerId(), r.getBrokerEpoch(), "FenceBroker");
        changedBrokers.put(broker.id(), broker.withState(BrokerState.FENCED));
    }

    private void replay(UnfenceBrokerRecord r) {
        BrokerRegistration broker = brokerAtEpoch(r.getBrokerId(), r.getBrokerEpoch(), "UnfenceBroker");
        changedBrokers.put(broker.id(), broker.withState(BrokerState.UNFENCED));
    }

    private void replay(BrokerControlledShutdownRecord r) {
        BrokerRegistration broker = brokerAtEpoch(r.getBrokerId(), r.getBrokerEpoch(), "BrokerControlledShutdown");
        changedBrokers.put(broker.id(), broker.withState(BrokerState.CONTROLLED_SHUTDOWN));
    }

    private void replay(CreateTopicRecord r) {
        UUID id = Uuids.fromProto(r.getTopicId());
        if (id.equals(Uuids.ZERO)) {
            throw new MetadataReplayException("CreateTopic '" + r.getName() + "' has the zero topic id");
        }
        UUID existingByName = topicIdByName(r.getName());
        if (existingByName != null) {
            throw new MetadataReplayException("CreateTopic '" + r.getName() + "' (" + id
                    + "), but a topic with that name exists: " + existingByName);
        }
        if (changedTopics.containsKey(id) || (base.topic(id) != null && !deletedTopics.contains(id))) {
            throw new MetadataReplayException("CreateTopic '" + r.getName() + "' with id " + id + " that is in use");
        }
        TreeMap<String, String> configs = new TreeMap<>();
        for (ConfigEntry entry : r.getConfigsList()) {
            configs.put(entry.getKey(), entry.getValue());
        }
        changedTopics.put(id, new TopicBuilder(r.getName(), id, configs, new ArrayList<>()));
    }

    private void replay(PartitionRecord r) {
        UUID topicId = Uuids.fromProto(r.getTopicId());
        TopicBuilder topic = topicForChange(topicId, "PartitionRecord " + r.getPartitionId());
        if (r.getPartitionId() != topic.partitions.size()) {
            throw new MetadataReplayException("PartitionRecord for partition " + r.getPartitionId() + " of topic '"
                    + topic.name + "', but the next partition id is " + topic.partitions.size());
        }
        PartitionRegistration partition = new PartitionRegistration(
                r.getReplicasList(), r.getIsrList(), r.getLeader(), r.getLeaderEpoch(), r.getPartitionEpoch());
        checkPartition(topic.name, r.getPartitionId(), partition, true);
        topic.partitions.add(partition);
    }

    private void replay(PartitionChangeRecord r) {
        UUID topicId = Uuids.fromProto(r.getTopicId());
        TopicBuilder topic = topicForChange(topicId, "PartitionChange of partition " + r.getPartitionId());
        int id = r.getPartitionId();
        if (id < 0 || id >= topic.partitions.size()) {
            throw new MetadataReplayException("PartitionChange for partition " + id + " of topic '" + topic.name
                    + "', which has " + topic.partitions.size() + " partitions");
        }
        PartitionRegistration old = topic.partitions.get(id);
        List<Integer> isr = r.hasIsr() ? r.getIsr().getBrokerIdsList() : old.isr();
        int leader = r.hasLeader() ? r.getLeader() : old.leader();
        int leaderEpoch = r.hasLeader() ? old.leaderEpoch() + 1 : old.leaderEpoch();
        PartitionRegistration changed =
                new PartitionRegistration(old.replicas(), isr, leader, leaderEpoch, old.partitionEpoch() + 1);
        checkPartition(topic.name, id, changed, false);
        topic.partitions.set(id, changed);
    }

    private void checkPartition(String topic, int id, PartitionRegistration p, boolean checkBrokers) {
        String where = "partition " + topic + "-" + id;
        if (p.replicas().isEmpty()) {
            throw new MetadataReplayException(where + " has no replicas");
        }
        if (new HashSet<>(p.replicas()).size() != p.replicas().size()) {
            throw new MetadataReplayException(where + " lists a replica twice: " + p.replicas());
        }
        if (p.isr().isEmpty()) {
            throw new MetadataReplayException(where + " has an empty ISR");
        }
        if (new HashSet<>(p.isr()).size() != p.isr().size() || !p.replicas().containsAll(p.isr())) {
            throw new MetadataReplayException(where + " has ISR " + p.isr() + " that is not a subset of replicas "
                    + p.replicas());
        }
        if (p.leader() != PartitionRegistration.NO_LEADER && !p.isr().contains(p.leader())) {
            throw new MetadataReplayException(where + " has leader " + p.leader() + " outside its ISR " + p.isr());
        }
        if (checkBrokers) {
            for (int replica : p.replicas()) {
                if (broker(replica) == null) {
                    throw new MetadataReplayException(where + " has a replica on unregistered broker " + replica);
                }
            }
        }
    }

    private void replay(DeleteTopicRecord r) {
        UUID id = Uuids.fromProto(r.getTopicId());
        boolean changed = changedTopics.remove(id) != null;
        boolean inBase = base.topic(id) != null && !deletedTopics.contains(id);
        if (!changed && !inBase) {
            throw new MetadataReplayException("DeleteTopic for unknown topic id " + id);
        }
        deletedTopics.add(id);
    }

    private void replay(ConfigChangeRecord r) {
        if (r.getResourceType() != ConfigResourceType.CONFIG_RESOURCE_TYPE_TOPIC) {
            throw new MetadataReplayException("ConfigChange for unsupported resource type " + r.getResourceType());
        }
        UUID id = topicIdByName(r.getResourceName());
        if (id == null) {
            throw new MetadataReplayException("ConfigChange " + r.getKey() + " for unknown topic '"
                    + r.getResourceName() + "'");
        }
        TopicBuilder topic = topicForChange(id, "ConfigChange " + r.getKey());
        if (r.hasValue()) {
            topic.configs.put(r.getKey(), r.getValue());
        } else {
            topic.configs.remove(r.getKey());
        }
    }

    private void replay(ControllerChangeRecord r) {
        if (controller != null && r.getControllerEpoch() <= controller.controllerEpoch()) {
            throw new MetadataReplayException("controller " + r.getControllerId() + " announced epoch "
                    + r.getControllerEpoch() + ", not above the last announced epoch " + controller.controllerEpoch());
        }
        controller = new ControllerRegistration(r.getControllerId(), r.getControllerEpoch(), r.getEndpoint());
        controllerChanged = true;
    }

    private void replay(ProducerIdsRecord r) {
        if (r.getNextProducerId() <= nextProducerId) {
            throw new MetadataReplayException("ProducerIds for broker " + r.getBrokerId() + " moves the next producer"
                    + " id to " + r.getNextProducerId() + ", not above the current " + nextProducerId);
        }
        nextProducerId = r.getNextProducerId();
    }

    private void replay(ClusterIdRecord r) {
        if (r.getClusterId().isEmpty()) {
            throw new MetadataReplayException("ClusterIdRecord with an empty cluster id");
        }
        if (clusterId != null && !clusterId.equals(r.getClusterId())) {
            throw new MetadataReplayException("ClusterIdRecord sets cluster id " + r.getClusterId()
                    + ", but the cluster id is already " + clusterId + " (it never changes)");
        }
        clusterId = r.getClusterId();
    }

    private Map<UUID, AclBinding> aclsForChange() {
        if (acls == null) {
            acls = new HashMap<>(base.acls().byId());
        }
        return acls;
    }

    private void replay(AccessControlEntryRecord r) {
        UUID id = Uuids.fromProto(r.getId());
        if (id.equals(Uuids.ZERO)) {
            throw new MetadataReplayException("AccessControlEntry " + r.getAcl() + " has the zero id");
        }
        AclBinding binding;
        try {
            binding = Acls.toBinding(r.getAcl());
        } catch (IllegalArgumentException e) {
            throw new MetadataReplayException("AccessControlEntry " + id + " is not a valid ACL: " + e.getMessage());
        }
        if (binding.isUnknown()) {
            throw new MetadataReplayException("AccessControlEntry " + id + " has a value this version does not know: "
                    + binding);
        }
        Map<UUID, AclBinding> current = aclsForChange();
        AclBinding existing = current.get(id);
        if (existing != null) {
            throw new MetadataReplayException("AccessControlEntry " + id + " (" + binding + ") with an id in use by "
                    + existing);
        }
        current.put(id, binding);
    }

    private void replay(RemoveAccessControlEntryRecord r) {
        UUID id = Uuids.fromProto(r.getId());
        if (aclsForChange().remove(id) == null) {
            throw new MetadataReplayException("RemoveAccessControlEntry for unknown ACL id " + id);
        }
    }

    /** The user's credentials as of the records replayed so far, to change (a copy of the base's). */
    private Map<ScramMechanism, ScramCredentialData> scramUserForChange(String user) {
        return changedScramUsers.computeIfAbsent(user, u -> {
            Map<ScramMechanism, ScramCredentialData> copy = new EnumMap<>(ScramMechanism.class);
            copy.putAll(base.scramCredentials(u));
            return copy;
        });
    }

    private void replay(UserScramCredentialRecord r) {
        if (r.getName().isEmpty()) {
            throw new MetadataReplayException("UserScramCredential with an empty user name");
        }
        if (r.getMechanism() != ScramMechanism.SCRAM_SHA_256 && r.getMechanism() != ScramMechanism.SCRAM_SHA_512) {
            throw new MetadataReplayException("UserScramCredential for user '" + r.getName()
                    + "' with unknown mechanism " + r.getMechanism());
        }
        if (r.getIterations() <= 0 || r.getSalt().isEmpty() || r.getStoredKey().isEmpty()
                || r.getServerKey().isEmpty()) {
            throw new MetadataReplayException("UserScramCredential " + r.getMechanism() + " for user '" + r.getName()
                    + "' lacks its salt, keys or iterations (" + r.getIterations() + ")");
        }
        scramUserForChange(r.getName()).put(r.getMechanism(), new ScramCredentialData(r.getSalt().toByteArray(),
                r.getStoredKey().toByteArray(), r.getServerKey().toByteArray(), r.getIterations()));
    }

    private void replay(RemoveUserScramCredentialRecord r) {
        if (scramUserForChange(r.getName()).remove(r.getMechanism()) == null) {
            throw new MetadataReplayException("RemoveUserScramCredential " + r.getMechanism() + " for user '"
                    + r.getName() + "', who has no such credential");
        }
    }

    /** A topic being changed by this delta: mutable copies of its parts. */
    private static final class TopicBuilder {
        final String name;
        final UUID id;
        final TreeMap<String, String> configs;
        final List<PartitionRegistration> partitions;

        TopicBuilder(String name, UUID id, TreeMap<String, String> configs, List<PartitionRegistration> partitions) {
            this.name = name;
            this.id = id;
            this.configs = configs;
            this.partitions = partitions;
        }

        TopicBuilder(TopicImage image) {
            this(image.name(), image.id(), new TreeMap<>(image.configs()), new ArrayList<>(image.partitions()));
        }

        TopicImage build() {
            return new TopicImage(name, id, configs, partitions);
        }
    }
}
