package io.raftmq.broker.kafka;

import io.raftmq.broker.Authorization;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.authorizer.AclAuthorizer;
import io.raftmq.metadata.image.AclsImage;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka handlers' side of the broker's {@link Authorization}: the request's principal, from
 * its client's address, as the {@link Authorization.Caller} the shared rules decide for. The rules
 * themselves (which operation on which resource a request needs) live in {@link Authorization},
 * which the gRPC services use too; this class only adapts a {@link KafkaRequest} to them and names
 * Kafka's refusals (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED). Each handler asks before it
 * changes anything.
 *
 * <p>Immutable; called on the connections' loops.
 */
final class KafkaAuthorization {
    /** The one CLUSTER resource's name. */
    static final String CLUSTER_NAME = Authorization.CLUSTER_NAME;

    private final Authorization rules;

    KafkaAuthorization(Authorization rules) {
        this.rules = rules;
    }

    /** @param authorizer null: the authorizer is off */
    KafkaAuthorization(AclAuthorizer authorizer, Supplier<AclsImage> acls) {
        this(new Authorization(authorizer, acls));
    }

    /** Everything allowed (the authorizer off). */
    static KafkaAuthorization allowAll() {
        return new KafkaAuthorization(Authorization.allowAll());
    }

    boolean enabled() {
        return rules.enabled();
    }

    /** The rules, to ask with {@link #caller}. */
    Authorization rules() {
        return rules;
    }

    boolean allowed(KafkaRequest request, AclOperation op, ResourceType type, String name) {
        return rules.allowed(caller(request), op, type, name);
    }

    boolean allowedOnCluster(KafkaRequest request, AclOperation op) {
        return rules.allowedOnCluster(caller(request), op);
    }

    boolean allowedOnTopic(KafkaRequest request, AclOperation op, String topic) {
        return rules.allowedOnTopic(caller(request), op, topic);
    }

    boolean allowedOnGroup(KafkaRequest request, AclOperation op, String group) {
        return rules.allowedOnGroup(caller(request), op, group);
    }

    /**
     * Of the operations in {@code supported} (a Kafka authorized-operations bit field: bit i is the
     * operation with code i), those the principal may do on the resource.
     */
    int authorizedOperations(KafkaRequest request, ResourceType type, String name, int supported) {
        return rules.authorizedOperations(caller(request), type, name, supported);
    }

    static ApiError topicDenied(KafkaRequest request, AclOperation op, String topic) {
        return Authorization.topicDenied(caller(request), op, topic);
    }

    static ApiError groupDenied(KafkaRequest request, AclOperation op, String group) {
        return Authorization.groupDenied(caller(request), op, group);
    }

    static ApiError clusterDenied(KafkaRequest request, AclOperation op) {
        return Authorization.clusterDenied(caller(request), op);
    }

    /** The request's caller; never a node (brokers do not talk Kafka to each other). */
    static Authorization.Caller caller(KafkaRequest request) {
        InetSocketAddress address = request.clientAddress();
        String host = address == null || address.getAddress() == null ? "" : address.getAddress().getHostAddress();
        return Authorization.Caller.client(request.principal(), host);
    }
}
