package io.raftmq.metadata.image;

import io.raftmq.protocol.metadata.ScramMechanism;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The cluster's metadata at one offset of the metadata log: the cluster id, brokers, topics with
 * their partitions, the last announced controller, and the users' SCRAM credentials. Immutable: readers hold a reference and need no
 * lock; a change produces a new image through {@link MetadataDelta}.
 *
 * @param offset the metadata offset of the last batch replayed into this image, {@code -1} for
 *     none, or {@link #PENDING_OFFSET} for the active controller's image that includes batches not
 *     committed yet
 * @param brokers registered brokers by id
 * @param topicsById topics by id
 * @param topicIdsByName topic ids by name
 * @param controller the last ControllerChangeRecord, or null before the first one
 * @param nextProducerId the first producer id no broker has been given yet (0 before any)
 * @param clusterId the cluster's id (Kafka's 22-character base64 form), or null before the first
 *     active controller's ClusterIdRecord; once set it never changes
 * @param acls the cluster's ACLs
 * @param scramCredentials each user's SCRAM credentials by mechanism; a user without any is absent
 */
public record MetadataImage(
        long offset,
        Map<Integer, BrokerRegistration> brokers,
        Map<UUID, TopicImage> topicsById,
        Map<String, UUID> topicIdsByName,
        ControllerRegistration controller,
        long nextProducerId,
        String clusterId,
        AclsImage acls,
        Map<String, Map<ScramMechanism, ScramCredentialData>> scramCredentials) {

    /** Offset of state not committed yet. Larger than every real offset. */
    public static final long PENDING_OFFSET = Long.MAX_VALUE;

    public static final MetadataImage EMPTY = new MetadataImage(-1, Map.of(), Map.of(), Map.of(), null, 0, null,
            AclsImage.EMPTY, Map.of());

    public MetadataImage {
        brokers = Map.copyOf(brokers);
        topicsById = Map.copyOf(topicsById);
        topicIdsByName = Map.copyOf(topicIdsByName);
        acls = acls == null ? AclsImage.EMPTY : acls;
        scramCredentials = Map.copyOf(scramCredentials);
    }

    /** An image without ACLs or SCRAM credentials. */
    public MetadataImage(long offset, Map<Integer, BrokerRegistration> brokers, Map<UUID, TopicImage> topicsById,
            Map<String, UUID> topicIdsByName, ControllerRegistration controller, long nextProducerId,
            String clusterId) {
        this(offset, brokers, topicsById, topicIdsByName, controller, nextProducerId, clusterId, AclsImage.EMPTY,
                Map.of());
    }

    /** The user's SCRAM credentials by mechanism; empty when the user has none. */
    public Map<ScramMechanism, ScramCredentialData> scramCredentials(String user) {
        return scramCredentials.getOrDefault(user, Map.of());
    }

    /** Users with a SCRAM credential, sorted, each with its credentials by mechanism. */
    public SortedMap<String, Map<ScramMechanism, ScramCredentialData>> scramUsersSorted() {
        return new TreeMap<>(scramCredentials);
    }

    /** The broker, or null when no broker with this id ever registered. */
    public BrokerRegistration broker(int brokerId) {
        return brokers.get(brokerId);
    }

    public TopicImage topic(UUID topicId) {
        return topicsById.get(topicId);
    }

    /** The topic, or null when no topic has this name. */
    public TopicImage topic(String name) {
        UUID id = topicIdsByName.get(name);
        return id == null ? null : topicsById.get(id);
    }

    /** Brokers sorted by id. */
    public List<BrokerRegistration> brokersSorted() {
        return brokers.values().stream().sorted(Comparator.comparingInt(BrokerRegistration::id)).toList();
    }

    /** Topics sorted by name. */
    public List<TopicImage> topicsSorted() {
        return topicsById.values().stream().sorted(Comparator.comparing(TopicImage::name)).toList();
    }

    /** Brokers that may lead partitions and be in ISRs, sorted by id. */
    public List<BrokerRegistration> eligibleBrokers() {
        return brokersSorted().stream().filter(b -> b.state().isEligible()).toList();
    }

    public boolean isEligible(int brokerId) {
        BrokerRegistration broker = brokers.get(brokerId);
        return broker != null && broker.state().isEligible();
    }

    /** The highest broker epoch ever assigned (brokers are never removed), 0 when none. */
    public long highestBrokerEpoch() {
        long highest = 0;
        for (BrokerRegistration b : brokers.values()) {
            highest = Math.max(highest, b.epoch());
        }
        return highest;
    }

    public Collection<TopicImage> topics() {
        return topicsById.values();
    }

    /** This image with another offset (the active controller's pending image, or a snapshot load). */
    public MetadataImage withOffset(long newOffset) {
        return new MetadataImage(newOffset, brokers, topicsById, topicIdsByName, controller, nextProducerId,
                clusterId, acls, scramCredentials);
    }

    @Override
    public String toString() {
        return "MetadataImage(offset=" + offset + ", clusterId=" + clusterId + ", brokers=" + brokers.size()
                + ", topics=" + topicsById.size() + ", acls=" + acls.size() + ", scramUsers=" + scramCredentials.size()
                + ")";
    }
}
