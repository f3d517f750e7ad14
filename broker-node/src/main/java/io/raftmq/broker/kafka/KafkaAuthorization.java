package io.raftmq.broker.kafka;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.authorizer.AclAuthorizer;
import io.raftmq.metadata.image.AclsImage;
import io.raftmq.protocol.common.ErrorCode;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The authorization checks of the Kafka handlers: whether the request's principal, from its
 * client's address, may do an operation on a resource, by the {@link AclAuthorizer} over this
 * broker's current ACLs. With the authorizer off ({@code authorizer.enabled=false}) everything is
 * allowed, as in Kafka without an authorizer. Each handler asks what Kafka's KafkaApis asks for
 * the same request, before it changes anything, and answers a refusal with Kafka's
 * TOPIC_/GROUP_/CLUSTER_/TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 *
 * <p>Immutable; the ACLs are read from the image on each call. Called on the connections' loops.
 */
final class KafkaAuthorization {
    /** The one CLUSTER resource's name. */
    static final String CLUSTER_NAME = "kafka-cluster";

    private final AclAuthorizer authorizer;
    private final Supplier<AclsImage> acls;

    /** @param authorizer null: the authorizer is off */
    KafkaAuthorization(AclAuthorizer authorizer, Supplier<AclsImage> acls) {
        this.authorizer = authorizer;
        this.acls = acls;
    }

    /** Everything allowed (the authorizer off). */
    static KafkaAuthorization allowAll() {
        return new KafkaAuthorization(null, () -> AclsImage.EMPTY);
    }

    boolean enabled() {
        return authorizer != null;
    }

    boolean allowed(KafkaRequest request, AclOperation op, ResourceType type, String name) {
        return authorizer == null
                || authorizer.authorize(acls.get(), request.principal(), host(request), op, type, name);
    }

    boolean allowedOnCluster(KafkaRequest request, AclOperation op) {
        return allowed(request, op, ResourceType.CLUSTER, CLUSTER_NAME);
    }

    boolean allowedOnTopic(KafkaRequest request, AclOperation op, String topic) {
        return allowed(request, op, ResourceType.TOPIC, topic);
    }

    boolean allowedOnGroup(KafkaRequest request, AclOperation op, String group) {
        return allowed(request, op, ResourceType.GROUP, group);
    }

    /** Whether the principal may do {@code op} on at least one resource of {@code type}. */
    boolean allowedOnSome(KafkaRequest request, AclOperation op, ResourceType type) {
        return authorizer == null
                || authorizer.authorizeByResourceType(acls.get(), request.principal(), host(request), op, type);
    }

    /**
     * Of the operations in {@code supported} (a Kafka authorized-operations bit field: bit i is the
     * operation with code i), those the principal may do on the resource.
     */
    int authorizedOperations(KafkaRequest request, ResourceType type, String name, int supported) {
        if (authorizer == null) {
            return supported;
        }
        int out = 0;
        for (int code = 0; code < Integer.SIZE - 1; code++) {
            if ((supported & (1 << code)) != 0 && allowed(request, AclOperation.fromCode((byte) code), type, name)) {
                out |= 1 << code;
            }
        }
        return out;
    }

    static ApiError topicDenied(KafkaRequest request, AclOperation op, String topic) {
        return ApiError.of(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "%s may not %s topic '%s'", request.principal(),
                op, topic);
    }

    static ApiError groupDenied(KafkaRequest request, AclOperation op, String group) {
        return ApiError.of(ErrorCode.GROUP_AUTHORIZATION_FAILED, "%s may not %s group '%s'", request.principal(),
                op, group);
    }

    static ApiError clusterDenied(KafkaRequest request, AclOperation op) {
        return ApiError.of(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "%s may not %s the cluster", request.principal(),
                op);
    }

    private static String host(KafkaRequest request) {
        InetSocketAddress address = request.clientAddress();
        return address == null || address.getAddress() == null ? "" : address.getAddress().getHostAddress();
    }
}
