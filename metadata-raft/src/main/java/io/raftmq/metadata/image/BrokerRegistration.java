package io.raftmq.metadata.image;

import io.raftmq.protocol.common.Endpoint;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A registered broker as the metadata image knows it. Immutable.
 *
 * @param id the broker id (node.id)
 * @param epoch assigned at registration; greater than every epoch assigned before it
 * @param incarnationId random per broker process start
 * @param endpoints where the broker is reached
 * @param rack failure domain for placement, empty when not set
 * @param state fenced, unfenced or in controlled shutdown
 * @param registrationOffset metadata offset of the registration; {@link MetadataImage#PENDING_OFFSET}
 *     while the registration is not committed yet (only in the active controller's pending image)
 */
public record BrokerRegistration(
        int id,
        long epoch,
        UUID incarnationId,
        List<Endpoint> endpoints,
        String rack,
        BrokerState state,
        long registrationOffset) {

    /** Listener name of the endpoint for raftmq's gRPC services (clients, replication, controller). */
    public static final String GRPC_LISTENER = "grpc";
    /** Listener name of the endpoint of the broker's Kafka wire-protocol listener, for Kafka clients. */
    public static final String KAFKA_LISTENER = "kafka";
    /** Listener name of the endpoint of the node's HTTP server (health, metrics, the web view). */
    public static final String HTTP_LISTENER = "http";

    public BrokerRegistration {
        endpoints = List.copyOf(endpoints);
        rack = rack == null ? "" : rack;
    }

    public BrokerRegistration withState(BrokerState newState) {
        return new BrokerRegistration(id, epoch, incarnationId, endpoints, rack, newState, registrationOffset);
    }

    public boolean isFenced() {
        return state == BrokerState.FENCED;
    }

    public Optional<Endpoint> endpoint(String listener) {
        return endpoints.stream().filter(e -> e.getListener().equals(listener)).findFirst();
    }
}
