package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.GroupCoordinatorConfig;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.EndpointType;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Metadata (v0-13) and DescribeCluster (v0-2): which topics a request asks for, translated to
 * {@link BrokerApi#topics} (which auto-creates where allowed), and the answer built from this
 * broker's metadata image as Kafka clients see it ({@link KafkaClusterView}).
 *
 * <p>Authorization as Kafka's: a topic named in the request needs DESCRIBE (else
 * TOPIC_AUTHORIZATION_FAILED, whether or not it exists), and one it would auto-create CREATE on the
 * cluster or on the topic (else TOPIC_AUTHORIZATION_FAILED, not created); "every topic" lists the
 * topics the principal may DESCRIBE. Authorized operations, when asked for, are the principal's.
 * DescribeCluster needs no permission, as in Kafka.
 *
 * <p>Stateless apart from the API; called on connection event loops, never blocks (an
 * auto-creation completes the answer later, on the thread that applied the new metadata).
 */
final class MetadataHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    MetadataHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    CompletableFuture<KafkaResponse> metadata(KafkaRequest request) {
        MetadataRequestData data = (MetadataRequestData) request.body();
        short version = request.apiVersion();
        MetadataImage image = api.image();
        // v0: an empty list means every topic; from v1 null means every topic and empty none.
        boolean allTopics = data.topics() == null || (version == 0 && data.topics().isEmpty());
        List<MetadataResponseTopic> refused = new ArrayList<>();
        List<String> names = null;
        // Auto-creation is asked for from v4 and implied before; never for "every topic", nor for
        // topics asked by id (a name resolved from an id and deleted since must not be re-created).
        boolean byId = !allTopics && data.topics().stream().anyMatch(t -> !t.topicId().equals(Uuid.ZERO_UUID));
        boolean allowAutoCreate = !allTopics && !byId && (version < 4 || data.allowAutoTopicCreation());
        if (!allTopics) {
            Set<String> distinct = new LinkedHashSet<>(); // Kafka treats the list as a set
            for (MetadataRequestTopic t : data.topics()) {
                String name = nameOf(version, image, t, refused);
                if (name == null) {
                    continue;
                }
                if (!authz.rules().mayDescribeTopic(caller(request), name)) {
                    // As Kafka: whether it exists is not disclosed (nor its name, when asked by id).
                    boolean askedById = !t.topicId().equals(Uuid.ZERO_UUID);
                    refused.add(refusal(version, askedById ? null : name, askedById ? t.topicId() : Uuid.ZERO_UUID,
                            Errors.TOPIC_AUTHORIZATION_FAILED));
                    continue;
                }
                if (allowAutoCreate && api.config().autoCreateTopicsEnable() && image.topic(name) == null
                        && !name.equals(GroupCoordinatorConfig.OFFSETS_TOPIC) // never auto-created
                        && !authz.rules().mayCreateTopic(caller(request), name)) {
                    // It would be auto-created, and the principal may not create it.
                    refused.add(refusal(version, name, Uuid.ZERO_UUID, Errors.TOPIC_AUTHORIZATION_FAILED));
                    continue;
                }
                distinct.add(name);
            }
            names = List.copyOf(distinct);
        }
        boolean topicOperations = version >= 8 && data.includeTopicAuthorizedOperations();
        boolean clusterOperations = version >= 8 && version <= 10 && data.includeClusterAuthorizedOperations();
        return request.onLoop(api.topics(names, allowAutoCreate), lookups -> {
            MetadataImage now = api.image(); // includes what was auto-created
            MetadataResponseData response = new MetadataResponseData()
                    .setClusterId(KafkaClusterView.clusterId(now))
                    .setControllerId(KafkaClusterView.controllerId(now));
            for (KafkaClusterView.KafkaBroker b : KafkaClusterView.brokers(now, false)) {
                response.brokers().add(new MetadataResponseBroker()
                        .setNodeId(b.id())
                        .setHost(b.endpoint().getHost())
                        .setPort(b.endpoint().getPort())
                        .setRack(b.rack()));
            }
            for (MetadataResponseTopic t : refused) {
                response.topics().add(t);
            }
            for (BrokerApi.TopicLookup lookup : lookups) {
                if (allTopics && !authz.rules().mayDescribeTopic(caller(request), lookup.name())) {
                    continue; // every topic: every topic the principal may describe
                }
                MetadataResponseTopic t = topic(version, now, lookup);
                if (topicOperations) {
                    t.setTopicAuthorizedOperations(authz.authorizedOperations(request, ResourceType.TOPIC,
                            lookup.name(), KafkaClusterView.TOPIC_OPERATIONS));
                }
                response.topics().add(t);
            }
            if (clusterOperations) {
                response.setClusterAuthorizedOperations(authz.authorizedOperations(request, ResourceType.CLUSTER,
                        KafkaAuthorization.CLUSTER_NAME, KafkaClusterView.CLUSTER_OPERATIONS));
            }
            return KafkaResponse.send(response);
        });
    }

    /**
     * The name a requested topic stands for, or null after adding its refusal to {@code refused}:
     * a topic id (v12+; v10-11 carry the field but Kafka refuses ids there) resolved through the
     * image, UNKNOWN_TOPIC_ID when no topic has it.
     */
    private static String nameOf(short version, MetadataImage image, MetadataRequestTopic t,
            List<MetadataResponseTopic> refused) {
        Uuid id = t.topicId();
        if (id.equals(Uuid.ZERO_UUID)) {
            if (t.name() != null) {
                return t.name();
            }
            refused.add(refusal(version, null, Uuid.ZERO_UUID, Errors.INVALID_REQUEST));
            return null;
        }
        if (version < 12) {
            refused.add(refusal(version, t.name(), id, Errors.INVALID_REQUEST));
            return null;
        }
        TopicImage topic = image.topic(KafkaIds.fromKafka(id));
        if (topic == null) {
            refused.add(refusal(version, null, id, Errors.UNKNOWN_TOPIC_ID));
            return null;
        }
        return topic.name();
    }

    /** A topic answered with an error only; names are not nullable before v12. */
    private static MetadataResponseTopic refusal(short version, String name, Uuid id, Errors error) {
        return new MetadataResponseTopic()
                .setErrorCode(error.code())
                .setName(name == null && version < 12 ? "" : name)
                .setTopicId(id)
                .setIsInternal(false);
    }

    private static MetadataResponseTopic topic(short version, MetadataImage image, BrokerApi.TopicLookup lookup) {
        TopicImage topic = lookup.topic();
        MetadataResponseTopic t = new MetadataResponseTopic()
                .setName(lookup.name())
                .setIsInternal(KafkaClusterView.isInternal(lookup.name()));
        if (topic == null) {
            return t.setErrorCode(KafkaErrors.code(lookup.error())).setTopicId(Uuid.ZERO_UUID);
        }
        t.setErrorCode(Errors.NONE.code()).setTopicId(KafkaIds.toKafka(topic.id()));
        for (int i = 0; i < topic.numPartitions(); i++) {
            t.partitions().add(KafkaClusterView.partition(version, image, topic, i));
        }
        return t;
    }

    CompletableFuture<KafkaResponse> describeCluster(KafkaRequest request) {
        DescribeClusterRequestData data = (DescribeClusterRequestData) request.body();
        DescribeClusterResponseData response = describeCluster(request.apiVersion(), data, api.image());
        if (response.clusterAuthorizedOperations() != KafkaClusterView.OPERATIONS_NOT_ASKED) {
            response.setClusterAuthorizedOperations(authz.authorizedOperations(request, ResourceType.CLUSTER,
                    KafkaAuthorization.CLUSTER_NAME, KafkaClusterView.CLUSTER_OPERATIONS));
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    /**
     * Kafka's broker answer (AuthHelper.computeDescribeClusterResponse): brokers only; a request
     * for controllers is MISMATCHED_ENDPOINT_TYPE and an unknown endpoint type
     * UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST at v0, which cannot ask for either).
     */
    static DescribeClusterResponseData describeCluster(short version, DescribeClusterRequestData data,
            MetadataImage image) {
        EndpointType asked = EndpointType.fromId(data.endpointType());
        if (asked != EndpointType.BROKER) {
            Errors error = version == 0 ? Errors.INVALID_REQUEST
                    : asked == EndpointType.CONTROLLER ? Errors.MISMATCHED_ENDPOINT_TYPE
                    : Errors.UNSUPPORTED_ENDPOINT_TYPE;
            String message = asked == EndpointType.CONTROLLER
                    ? "this is a broker's Kafka listener and describes brokers; raftmq's controllers are not"
                            + " reachable over the Kafka protocol (use bootstrap.servers, not bootstrap.controllers)"
                    : String.format("unsupported endpoint type %d; 1 (brokers) is supported", data.endpointType());
            return new DescribeClusterResponseData()
                    .setErrorCode(error.code())
                    .setErrorMessage(message)
                    .setClusterId("");
        }
        boolean includeFenced = version >= 2 && data.includeFencedBrokers();
        String clusterId = KafkaClusterView.clusterId(image);
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(clusterId == null ? "" : clusterId)
                .setControllerId(KafkaClusterView.controllerId(image))
                .setEndpointType(EndpointType.BROKER.id());
        for (KafkaClusterView.KafkaBroker b : KafkaClusterView.brokers(image, includeFenced)) {
            response.brokers().add(new DescribeClusterBroker()
                    .setBrokerId(b.id())
                    .setHost(b.endpoint().getHost())
                    .setPort(b.endpoint().getPort())
                    .setRack(b.rack())
                    .setIsFenced(b.registration().isFenced()));
        }
        if (data.includeClusterAuthorizedOperations()) {
            response.setClusterAuthorizedOperations(KafkaClusterView.CLUSTER_OPERATIONS);
        }
        return response;
    }
}
