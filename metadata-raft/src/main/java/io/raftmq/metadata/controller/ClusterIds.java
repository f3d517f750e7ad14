package io.raftmq.metadata.controller;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.UUID;

/**
 * Cluster ids in Kafka's format: the 16 bytes of a UUID (most significant half first) in URL-safe
 * base64 without padding, 22 characters — what {@code org.apache.kafka.common.Uuid.toString()}
 * prints, so Kafka clients and tools show them as they show a Kafka cluster's id.
 */
public final class ClusterIds {
    private ClusterIds() {}

    /** {@code id} in Kafka's string form. */
    public static String format(UUID id) {
        ByteBuffer bytes = ByteBuffer.allocate(16);
        bytes.putLong(id.getMostSignificantBits());
        bytes.putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    }

    /**
     * A new random id under Kafka's rules for {@code Uuid.randomUuid()}: a type 4 UUID that is
     * neither 0 nor 1 (reserved in Kafka) and whose string form does not start with '-' (it would
     * read as an option on a command line). The production id source; tests inject their own.
     */
    public static UUID random() {
        while (true) {
            UUID id = UUID.randomUUID();
            boolean reserved = id.getMostSignificantBits() == 0 && (id.getLeastSignificantBits() >>> 1) == 0;
            if (!reserved && !format(id).startsWith("-")) {
                return id;
            }
        }
    }
}
