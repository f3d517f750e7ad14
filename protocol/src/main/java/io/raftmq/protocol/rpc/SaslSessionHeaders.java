package io.raftmq.protocol.rpc;

import io.grpc.Metadata;

/**
 * The gRPC metadata of SASL sessions on a SASL_SSL gRPC port (raftmq/broker/v1/sasl.proto): the
 * header a client sends its session token in, and the trailer a node sets when it refuses a call
 * UNAUTHENTICATED, saying whether the caller never authenticated ({@link #REQUIRED}) or sent a
 * token the node does not know or no longer accepts ({@link #UNKNOWN_SESSION}: it expired, or the
 * node restarted; authenticate again and retry). Constants only.
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
}
