package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.metadata.authorizer.AclAuthorizer;
import io.raftmq.metadata.image.AclsImage;
import io.raftmq.protocol.common.ErrorCode;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The broker's authorization rules, the one place both front ends (the Kafka listener's handlers
 * through {@code KafkaAuthorization}, and the Broker and GroupCoordinator gRPC services) ask
 * "may this caller do this": which operation on which resource each request needs, as Kafka's
 * KafkaApis asks it, decided by the {@link AclAuthorizer} over this broker's current ACLs.
 *
 * <p>With the authorizer off ({@code authorizer.enabled=false}) everything is allowed, as in Kafka
 * without an authorizer. A {@link Caller#node() node} (a caller that proved with its certificate
 * to be a cluster node, {@code CN=node-<id>} on a TLS gRPC port) is allowed everything, as Kafka's
 * brokers are super users: what brokers forward to each other is not subject to ACLs.
 *
 * <p>Immutable; the ACLs are read from the image on each call. Thread-safe.
 */
public final class Authorization {
    /** The one CLUSTER resource's name. */
    public static final String CLUSTER_NAME = "kafka-cluster";

    /**
     * Who asks: the principal, the client's IP address ("" when unknown) and whether it is a cluster
     * node authenticated by its certificate.
     */
    public record Caller(KafkaPrincipal principal, String host, boolean node) {
        /** A caller that is not a node. */
        public static Caller client(KafkaPrincipal principal, String host) {
            return new Caller(principal, host, false);
        }

        @Override
        public String toString() {
            return principal.toString();
        }
    }

    private final AclAuthorizer authorizer;
    private final Supplier<AclsImage> acls;

    /** @param authorizer null: the authorizer is off */
    public Authorization(AclAuthorizer authorizer, Supplier<AclsImage> acls) {
        this.authorizer = authorizer;
        this.acls = acls;
    }

    /** Everything allowed (the authorizer off). */
    public static Authorization allowAll() {
        return new Authorization(null, () -> AclsImage.EMPTY);
    }

    public boolean enabled() {
        return authorizer != null;
    }

    // ---- the primitive checks ----

    public boolean allowed(Caller caller, AclOperation op, ResourceType type, String name) {
        return authorizer == null || caller.node()
                || authorizer.authorize(acls.get(), caller.principal(), caller.host(), op, type, name);
    }

    public boolean allowedOnCluster(Caller caller, AclOperation op) {
        return allowed(caller, op, ResourceType.CLUSTER, CLUSTER_NAME);
    }

    public boolean allowedOnTopic(Caller caller, AclOperation op, String topic) {
        return allowed(caller, op, ResourceType.TOPIC, topic);
    }

    public boolean allowedOnGroup(Caller caller, AclOperation op, String group) {
        return allowed(caller, op, ResourceType.GROUP, group);
    }

    /** Whether the caller may do {@code op} on at least one resource of {@code type}. */
    public boolean allowedOnSome(Caller caller, AclOperation op, ResourceType type) {
        return authorizer == null || caller.node()
                || authorizer.authorizeByResourceType(acls.get(), caller.principal(), caller.host(), op, type);
    }

    /**
     * Of the operations in {@code supported} (a Kafka authorized-operations bit field: bit i is the
     * operation with code i), those the caller may do on the resource.
     */
    public int authorizedOperations(Caller caller, ResourceType type, String name, int supported) {
        int out = 0;
        for (int code = 0; code < Integer.SIZE - 1; code++) {
            if ((supported & (1 << code)) != 0 && allowed(caller, AclOperation.fromCode((byte) code), type, name)) {
                out |= 1 << code;
            }
        }
        return out;
    }

    // ---- the rules: what each request needs ----

    /** Produce to a topic: WRITE on it. */
    public boolean mayProduce(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.WRITE, topic);
    }

    /** Fetch from a topic (as a consumer): READ on it. */
    public boolean mayFetch(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.READ, topic);
    }

    /**
     * See a topic (metadata, list offsets, describe, offsets of a group on it): DESCRIBE on it
     * (implied by READ, WRITE, DELETE and ALTER).
     */
    public boolean mayDescribeTopic(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.DESCRIBE, topic);
    }

    /** Create a topic: CREATE on the cluster, or on the topic. */
    public boolean mayCreateTopic(Caller caller, String topic) {
        return allowedOnCluster(caller, AclOperation.CREATE) || allowedOnTopic(caller, AclOperation.CREATE, topic);
    }

    /** Delete a topic: DELETE on it. */
    public boolean mayDeleteTopic(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.DELETE, topic);
    }

    /** Add partitions to a topic: ALTER on it. */
    public boolean mayAlterTopic(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.ALTER, topic);
    }

    /**
     * Read or change configs ({@code op} DESCRIBE_CONFIGS or ALTER_CONFIGS): on the topic for a
     * topic's, on the cluster for a broker's ({@code topic} null).
     */
    public boolean mayConfigs(Caller caller, AclOperation op, String topic) {
        return topic == null ? allowedOnCluster(caller, op) : allowedOnTopic(caller, op, topic);
    }

    /** Elect partition leaders: ALTER on the cluster. */
    public boolean mayElectLeaders(Caller caller) {
        return allowedOnCluster(caller, AclOperation.ALTER);
    }

    /** Create or delete ACLs: ALTER on the cluster. */
    public boolean mayAlterAcls(Caller caller) {
        return allowedOnCluster(caller, AclOperation.ALTER);
    }

    /** List ACLs: DESCRIBE on the cluster. */
    public boolean mayDescribeAcls(Caller caller) {
        return allowedOnCluster(caller, AclOperation.DESCRIBE);
    }

    /** Change SCRAM credentials: ALTER on the cluster. */
    public boolean mayAlterScramCredentials(Caller caller) {
        return allowedOnCluster(caller, AclOperation.ALTER);
    }

    /** List SCRAM credentials: DESCRIBE on the cluster. */
    public boolean mayDescribeScramCredentials(Caller caller) {
        return allowedOnCluster(caller, AclOperation.DESCRIBE);
    }

    /** Take part in a group (join, sync, heartbeat, leave, commit offsets): READ on the group. */
    public boolean mayUseGroup(Caller caller, String group) {
        return allowedOnGroup(caller, AclOperation.READ, group);
    }

    /** Commit an offset of a topic (beside READ on the group), or delete one: READ on the topic. */
    public boolean mayCommitOffset(Caller caller, String topic) {
        return allowedOnTopic(caller, AclOperation.READ, topic);
    }

    /** Find a group's coordinator, describe it or fetch its offsets: DESCRIBE on the group. */
    public boolean mayDescribeGroup(Caller caller, String group) {
        return allowedOnGroup(caller, AclOperation.DESCRIBE, group);
    }

    /** See a group in a listing: DESCRIBE on the cluster (every group) or on the group. */
    public boolean mayListGroup(Caller caller, String group) {
        return allowedOnCluster(caller, AclOperation.DESCRIBE) || mayDescribeGroup(caller, group);
    }

    /** Delete a group, or offsets of it: DELETE on the group. */
    public boolean mayDeleteGroup(Caller caller, String group) {
        return allowedOnGroup(caller, AclOperation.DELETE, group);
    }

    /**
     * Get an idempotent producer id (no transactional id): IDEMPOTENT_WRITE on the cluster, or WRITE
     * on at least one topic.
     */
    public boolean mayInitIdempotentProducer(Caller caller) {
        return allowedOnCluster(caller, AclOperation.IDEMPOTENT_WRITE)
                || allowedOnSome(caller, AclOperation.WRITE, ResourceType.TOPIC);
    }

    // ---- refusals ----

    public static ApiError topicDenied(Caller caller, AclOperation op, String topic) {
        return ApiError.of(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "%s may not %s topic '%s'", caller, op, topic);
    }

    public static ApiError groupDenied(Caller caller, AclOperation op, String group) {
        return ApiError.of(ErrorCode.GROUP_AUTHORIZATION_FAILED, "%s may not %s group '%s'", caller, op, group);
    }

    public static ApiError clusterDenied(Caller caller, AclOperation op) {
        return ApiError.of(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "%s may not %s the cluster", caller, op);
    }
}
