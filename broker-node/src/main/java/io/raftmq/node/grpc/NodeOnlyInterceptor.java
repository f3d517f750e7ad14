package io.raftmq.node.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.rpc.SaslSessionHeaders;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The gate of a secured gRPC port: puts the caller's principal, and whether it is a node's, in the
 * call's Context ({@link GrpcPrincipal}) and lets a node-only method ({@link NodeOnlyMethods})
 * through only for a caller that proved it is a node and, when the request names a broker id (a
 * heartbeat's broker_id, a replica fetch's replica_id), only for that node. Anything else is
 * answered PERMISSION_DENIED, naming the method and the principal, before the service sees the
 * request, so nothing changes.
 *
 * <p>On a TLS port (SSL, SASL_SSL) a node proves itself with its verified certificate ({@code
 * CN=node-<id>}; the TLS layer has already checked the chain to the truststore's CA, and the server
 * requests a client certificate, so a node always shows its own; a client may show one).
 *
 * <p>On a SASL port (built with {@link GrpcSessions}) a caller without a node certificate is who
 * its {@code raftmq-session} header's token says ({@code User:<SASL user>}; a client certificate
 * counts for nothing, as on Kafka's SASL_SSL); without a token only SaslAuthenticate is served, and
 * any other client call is closed UNAUTHENTICATED naming the method, with the trailer {@link
 * SaslSessionHeaders#REFUSAL} = {@link SaslSessionHeaders#REQUIRED}; a token the node does not know
 * (expired, or issued before a restart) gets {@link SaslSessionHeaders#UNKNOWN_SESSION} instead, so
 * the client authenticates again and retries. On SASL_PLAINTEXT there are no certificates: a node
 * proves itself by authenticating as {@code node-<id>} with the cluster's node secret, so node-only
 * calls need a session too, and the session's caller says which node it is.
 *
 * <p>Runs on the transport thread, before the call moves to the handler pool: it does no I/O.
 * Stateless per server; each call's refusal flag is confined to that call's (serialized) callbacks.
 */
public final class NodeOnlyInterceptor implements ServerInterceptor {
    private static final String SASL_AUTHENTICATE = AuthenticationGrpc.getSaslAuthenticateMethod().getFullMethodName();

    private final NodeOnlyMethods methods;
    /** The SASL sessions of a SASL port; null on an SSL port. */
    private final GrpcSessions sessions;
    /** SASL_PLAINTEXT: nodes are known by their sessions (no certificates). */
    private final boolean nodesBySession;

    NodeOnlyInterceptor(NodeOnlyMethods methods, GrpcSessions sessions, boolean nodesBySession) {
        this.methods = methods;
        this.sessions = sessions;
        this.nodesBySession = nodesBySession;
    }

    /** For an SSL port, with the standard list of node-only methods. */
    public static NodeOnlyInterceptor standard() {
        return new NodeOnlyInterceptor(NodeOnlyMethods.standard(), null, false);
    }

    /** For a SASL_SSL port whose sessions are {@code sessions}. */
    public static NodeOnlyInterceptor sasl(GrpcSessions sessions) {
        return new NodeOnlyInterceptor(NodeOnlyMethods.standard(), sessions, false);
    }

    /** For a SASL_PLAINTEXT port whose sessions (nodes' included) are {@code sessions}. */
    public static NodeOnlyInterceptor saslPlaintext(GrpcSessions sessions) {
        return new NodeOnlyInterceptor(NodeOnlyMethods.standard(), sessions, true);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        X509Certificate peer = peerCertificate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        KafkaPrincipal principal = GrpcPrincipal.of(peer);
        Optional<Integer> certifiedNode = peer == null ? Optional.empty() : NodeTls.nodeIdOf(peer);
        int nodeId = certifiedNode.orElse(GrpcSessions.Caller.NOT_A_NODE);
        String method = call.getMethodDescriptor().getFullMethodName();
        boolean clientMethod = methods.isClientMethod(method);
        if (sessions != null && certifiedNode.isEmpty() && !method.equals(SASL_AUTHENTICATE)
                && (clientMethod || nodesBySession)) {
            String token = headers.get(SaslSessionHeaders.SESSION);
            Optional<GrpcSessions.Caller> caller = token == null ? Optional.empty() : sessions.callerOf(token);
            if (caller.isEmpty()) {
                Metadata trailers = new Metadata();
                trailers.put(SaslSessionHeaders.REFUSAL, token == null ? SaslSessionHeaders.REQUIRED
                        : SaslSessionHeaders.UNKNOWN_SESSION);
                call.close(Status.UNAUTHENTICATED.withDescription(token == null
                        ? method + " needs SASL authentication on this " + (nodesBySession ? "SASL_PLAINTEXT"
                                : "SASL_SSL") + " port: authenticate with " + SASL_AUTHENTICATE
                                + " and send its session token in the " + SaslSessionHeaders.SESSION.name()
                                + " header"
                        : method + ": the session token is unknown to this node or has expired; authenticate again"
                                + " with " + SASL_AUTHENTICATE), trailers);
                return new ServerCall.Listener<>() {};
            }
            principal = caller.get().principal();
            nodeId = caller.get().nodeId();
        } else if (sessions != null && certifiedNode.isEmpty()) {
            // SaslAuthenticate itself, or (SASL_SSL) a node-only method, refused below: no certificate user.
            principal = KafkaPrincipal.ANONYMOUS;
        }
        boolean node = nodeId != GrpcSessions.Caller.NOT_A_NODE;
        Context context = node ? GrpcPrincipal.withNode(Context.current(), principal)
                : GrpcPrincipal.withPrincipal(Context.current(), principal);
        if (clientMethod) {
            return Contexts.interceptCall(context, call, headers, next);
        }
        if (!node) {
            call.close(Status.PERMISSION_DENIED.withDescription(method + " is for cluster nodes only ("
                    + (nodesBySession ? "the SASL user node-<id> with the cluster's grpc.sasl.node.secret"
                            : "a certificate with CN=node-<id>") + "); the caller is " + principal), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return new ClaimCheck<>(Contexts.interceptCall(context, call, headers, next), call, method, nodeId,
                principal);
    }

    private static X509Certificate peerCertificate(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? x509 : null;
        } catch (SSLPeerUnverifiedException noCertificate) {
            return null;
        }
    }

    /**
     * Passes each request of a node-only call on only if the broker id it names (if any) is the
     * caller's node id; closes the call PERMISSION_DENIED at the first that is not. Callbacks of
     * one call are serialized by gRPC, so {@code refused} needs no lock.
     */
    private final class ClaimCheck<Q, R> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
        private final ServerCall<Q, R> call;
        private final String method;
        private final int nodeId;
        private final KafkaPrincipal principal;
        private boolean refused;

        ClaimCheck(ServerCall.Listener<Q> delegate, ServerCall<Q, R> call, String method, int nodeId,
                KafkaPrincipal principal) {
            super(delegate);
            this.call = call;
            this.method = method;
            this.nodeId = nodeId;
            this.principal = principal;
        }

        @Override
        public void onMessage(Q message) {
            if (refused) {
                return;
            }
            int claimed = methods.claimedNodeId(method, message);
            if (claimed != NodeOnlyMethods.NO_CLAIM && claimed != nodeId) {
                refused = true;
                call.close(Status.PERMISSION_DENIED.withDescription(method + " claims broker " + claimed
                        + ", but the caller is " + principal + " (node " + nodeId + ")"), new Metadata());
                return;
            }
            super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
            if (!refused) {
                super.onHalfClose();
            }
        }
    }
}
