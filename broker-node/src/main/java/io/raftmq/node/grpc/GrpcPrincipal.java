package io.raftmq.node.grpc;

import io.grpc.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.cert.X509Certificate;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

/**
 * Who made the gRPC call being served: the principal of the client certificate the caller showed
 * on a TLS gRPC port ({@code User:<subject DN>}, as Kafka's default {@code ssl.principal.mapping.rules}
 * map it, e.g. {@code User:CN=alice}), or {@link KafkaPrincipal#ANONYMOUS} without one (plaintext, or
 * TLS without a client certificate); on a SASL port, {@code User:<SASL user>} of the call's
 * session token (on SASL_SSL a node's certificate still names a node). Set in the call's {@link Context} by {@link NodeOnlyInterceptor};
 * read with {@link #current()} on any thread the call's handlers run on.
 */
public final class GrpcPrincipal {
    private static final Context.Key<KafkaPrincipal> KEY = Context.keyWithDefault("raftmq-principal",
            KafkaPrincipal.ANONYMOUS);
    private static final Context.Key<Boolean> NODE = Context.keyWithDefault("raftmq-node-caller", false);
    private static final SslPrincipalMapper KAFKA_DEFAULT_MAPPING = SslPrincipalMapper.fromRules("DEFAULT");

    private GrpcPrincipal() {}

    /** The principal of the call whose Context is current; ANONYMOUS outside a call or without a certificate. */
    public static KafkaPrincipal current() {
        return KEY.get();
    }

    /**
     * Whether the caller proved it is a cluster node (a verified certificate {@code CN=node-<id>}, or on
     * SASL_PLAINTEXT a session of the user {@code node-<id>} with the node secret): nodes are
     * implicitly super users on the gRPC port (what brokers forward to each other is not subject to
     * ACLs), as Kafka's broker principals are through {@code super.users}.
     */
    public static boolean isNode() {
        return NODE.get();
    }

    /** {@code context} with {@code principal} as the call's principal. */
    static Context withPrincipal(Context context, KafkaPrincipal principal) {
        return context.withValue(KEY, principal);
    }

    /** {@code context} with {@code principal}, a node's, as the call's principal. */
    static Context withNode(Context context, KafkaPrincipal principal) {
        return context.withValue(KEY, principal).withValue(NODE, true);
    }

    /** The principal a verified client certificate stands for; ANONYMOUS for null (no certificate). */
    static KafkaPrincipal of(X509Certificate certificate) {
        if (certificate == null) {
            return KafkaPrincipal.ANONYMOUS;
        }
        try {
            return new KafkaPrincipal(KafkaPrincipal.USER_TYPE,
                    KAFKA_DEFAULT_MAPPING.getName(certificate.getSubjectX500Principal().getName()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + certificate.getSubjectX500Principal() + " to a principal", e);
        }
    }
}
