package io.raftmq.broker.kafka;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.common.ErrorCode;

/**
 * Our errors as Kafka's: {@link ErrorCode}'s numbers are Kafka's error codes, so a code passes
 * through unchanged, and the message (where the version has a field for it) is ours, naming the
 * problem. Stateless.
 */
final class KafkaErrors {
    private KafkaErrors() {}

    /** Kafka's error code for {@code error}. */
    static short code(ApiError error) {
        return code(error.code());
    }

    static short code(ErrorCode code) {
        return (short) code.getNumber();
    }

    /** The message for a response's error-message field: null on success, as Kafka sends it. */
    static String message(ApiError error) {
        return error.isSuccess() ? null : error.message();
    }
}
