package io.raftmq.broker.kafka;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.protocol.common.Endpoint;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.common.Uuid;

/**
 * Conversions between our metadata and Kafka's wire types: topic ids (java.util.UUID and Kafka's
 * Uuid carry the same 128 bits) and the Kafka endpoint a broker registers. Stateless.
 */
final class KafkaIds {
    private KafkaIds() {}

    static Uuid toKafka(UUID id) {
        return id == null ? Uuid.ZERO_UUID : new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    static UUID fromKafka(Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    /** Where Kafka clients reach {@code broker}, or empty when its Kafka listener is off. */
    static Optional<Endpoint> kafkaEndpoint(BrokerRegistration broker) {
        return broker == null ? Optional.empty() : broker.endpoint(BrokerRegistration.KAFKA_LISTENER);
    }
}
