package io.raftmq.protocol.rpc;

import io.grpc.Metadata;
import io.grpc.Status;

/**
 * The gRPC metadata of SASL sessions on a SASL gRPC port (SASL_SSL, SASL_PLAINTEXT;
 * raftmq/broker/v1/sasl.proto): the header a client sends its session token in, and the trailer a node sets when it refuses a call
 * UNAUTHENTICATED, saying whether the caller never authenticated ({@link #REQUIRED}) or sent a
 * token the node does not know or no longer accepts ({@link #UNKNOWN_SESSION}: it expired, or the
 * node restarted; authenticate again and retry). Stateless.
 */
public final class SaslSessionHeaders {
    /** Request header: the session token SaslAuthenticate issued. */
    public static final Metadata.Key<String> SESSION = Metadata.Key.of("raftmq-session",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Trailer of an UNAUTHENTICATED refusal: {@link #REQUIRED} or {@link #UNKNOWN_SESSION}. */
    public static final Metadata.Key<String> REFUSAL = Metadata.Key.of("raftmq-auth-refusal",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final String REQUIRED = "authentication-required";
    public static final String UNKNOWN_SESSION = "unknown-session";

    private SaslSessionHeaders() {}

    /**
     * Whether {@code failure} is a call refused for a session token the node no longer knows: retry
     * (the caller's {@link SaslSession} authenticates again first).
     */
    public static boolean isUnknownSession(Throwable failure) {
        Metadata trailers = Status.trailersFromThrowable(failure);
        return Status.fromThrowable(failure).getCode() == Status.Code.UNAUTHENTICATED && trailers != null
                && UNKNOWN_SESSION.equals(trailers.get(REFUSAL));
    }
}
