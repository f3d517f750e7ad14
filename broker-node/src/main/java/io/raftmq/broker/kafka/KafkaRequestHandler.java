package io.raftmq.broker.kafka;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;

/**
 * The broker's Kafka APIs, as the listener's connections call them. The connection parses the
 * header and body, answers ApiVersions (from {@link #apis()}), SaslHandshake and SaslAuthenticate
 * itself, refuses what {@link #apis()}
 * does not list as Kafka does (the connection is closed), and hands every other request here.
 *
 * <p>Callers' obligations: call {@link #handle} on the connection's event-loop thread, in the
 * order the connection's requests arrived (a producer's pipelined batches are appended in the
 * order sent), and write the answers in that order, whatever order their futures complete in.
 * Implementations must not block: they complete the future later (long polls, acks=all, admin
 * calls forwarded to the controller) from any thread.
 */
interface KafkaRequestHandler {

    /**
     * Every API key this broker serves, with the versions it serves: what ApiVersions advertises,
     * and the only requests {@link #handle} is given. Constant for the listener's lifetime (read
     * once, when it is built). Each range must lie within the versions kafka-clients defines as
     * stable for its key, each key listed once. ApiVersions may be left out: the listener answers
     * it itself and advertises its own range for it (0 to the newest kafka-clients knows).
     */
    List<ApiVersion> apis();

    /**
     * Handles a request whose key and version are among {@link #apis()} (never ApiVersions or SASL). A
     * future that fails is answered by the connection as an unexpected error: it logs the cause
     * and closes the connection (once the answers before it are written). If the connection
     * closes first, the future's outcome is ignored when it comes; the future is not cancelled.
     */
    CompletableFuture<KafkaResponse> handle(KafkaRequest request);
}
