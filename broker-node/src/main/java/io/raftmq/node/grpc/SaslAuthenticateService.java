package io.raftmq.node.grpc;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftmq.broker.sasl.SaslServers;
import io.raftmq.broker.sasl.ScramCredentials;
import io.raftmq.protocol.broker.AuthenticationGrpc;
import io.raftmq.protocol.broker.SaslAuthenticateRequest;
import io.raftmq.protocol.broker.SaslAuthenticateResponse;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMessages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Authentication service of a SASL gRPC port (SASL_SSL, SASL_PLAINTEXT): one SaslAuthenticate
 * stream is one SASL exchange, its tokens evaluated by kafka-clients' SASL servers ({@link
 * SaslServers}, the Kafka listener's) against the SCRAM credentials of the node's metadata (and, on
 * SASL_PLAINTEXT, the nodes' own users, {@link io.raftmq.broker.sasl.NodeUsers}). On success the
 * answer carries a session token from {@link GrpcSessions}, for a node's caller when the user was a
 * node's; a failure is answered with its error and ends the stream, and nothing is stored.
 *
 * <pre>
 *   MECHANISM -first message (enabled mechanism, token)-> TOKENS -server complete-> DONE (token issued)
 *   any -(unknown mechanism, bad credentials, over a bound, timer)-> DONE (error answered)
 * </pre>
 *
 * <p>Bounds: {@link #MAX_TOKEN_BYTES} per token, {@link #MAX_CLIENT_MESSAGES} client messages, and
 * {@link #MAX_EXCHANGE_MS} from the stream's start (a timer on {@code timer} ends it).
 *
 * <p>Each exchange's state is guarded by the exchange's monitor: gRPC delivers the client's
 * messages one at a time on its handler pool, and the timer fires on the timer's thread.
 */
public final class SaslAuthenticateService extends AuthenticationGrpc.AuthenticationImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(SaslAuthenticateService.class);
    /** Kafka's SCRAM and PLAIN tokens are under 1 KiB; this leaves room for long names and passwords. */
    static final int MAX_TOKEN_BYTES = 16 * 1024;
    /** SCRAM needs two client messages, PLAIN one. */
    static final int MAX_CLIENT_MESSAGES = 3;
    static final long MAX_EXCHANGE_MS = 30_000;

    private final int nodeId;
    private final List<String> mechanisms;
    private final ScramCredentials credentials;
    private final GrpcSessions sessions;
    private final ScheduledExecutorService timer;

    /**
     * @param mechanisms the enabled mechanisms (sasl.enabled.mechanisms), each one of
     *     {@link SaslServers#SUPPORTED_MECHANISMS}
     * @param timer ends exchanges that run over {@link #MAX_EXCHANGE_MS}; owned by the caller
     */
    public SaslAuthenticateService(int nodeId, List<String> mechanisms, ScramCredentials credentials,
            GrpcSessions sessions, ScheduledExecutorService timer) {
        this.nodeId = nodeId;
        this.mechanisms = List.copyOf(mechanisms);
        this.credentials = credentials;
        this.sessions = sessions;
        this.timer = timer;
    }

    @Override
    public StreamObserver<SaslAuthenticateRequest> saslAuthenticate(
            StreamObserver<SaslAuthenticateResponse> responses) {
        Exchange exchange = new Exchange((ServerCallStreamObserver<SaslAuthenticateResponse>) responses);
        exchange.start();
        return exchange;
    }

    /** One client's exchange; every method holds its monitor. */
    private final class Exchange implements StreamObserver<SaslAuthenticateRequest> {
        private final ServerCallStreamObserver<SaslAuthenticateResponse> responses;
        private ScheduledFuture<?> deadline;
        private SaslServer server;
        private String mechanism;
        private String user = "(unknown)";
        private int received;
        private boolean done;

        Exchange(ServerCallStreamObserver<SaslAuthenticateResponse> responses) {
            this.responses = responses;
        }

        synchronized void start() {
            deadline = timer.schedule(() -> fail(ErrorCode.REQUEST_TIMED_OUT, "the SASL exchange did not complete"
                    + " within " + MAX_EXCHANGE_MS + " ms"), MAX_EXCHANGE_MS, TimeUnit.MILLISECONDS);
            responses.setOnCancelHandler(this::end);
        }

        @Override
        public synchronized void onNext(SaslAuthenticateRequest request) {
            if (done) {
                return;
            }
            received++;
            if (received > MAX_CLIENT_MESSAGES) {
                fail(ErrorCode.ILLEGAL_SASL_STATE, "more than " + MAX_CLIENT_MESSAGES + " client messages in one"
                        + " SASL exchange");
                return;
            }
            if (request.getToken().size() > MAX_TOKEN_BYTES) {
                fail(ErrorCode.INVALID_REQUEST, "a SASL token of " + request.getToken().size() + " bytes; at most "
                        + MAX_TOKEN_BYTES);
                return;
            }
            byte[] token = request.getToken().toByteArray();
            if (server == null) {
                if (!begin(request.getMechanism(), token)) {
                    return;
                }
            } else if (!request.getMechanism().isEmpty()) {
                fail(ErrorCode.ILLEGAL_SASL_STATE, "only the first message of a SASL exchange names the mechanism;"
                        + " message " + received + " names " + request.getMechanism());
                return;
            }
            byte[] challenge;
            try {
                challenge = server.evaluateResponse(token);
            } catch (SaslException | AuthenticationException e) {
                // As the Kafka listener: the client is not told whether the user or the password was wrong.
                LOG.info("[node {}] SASL {} authentication on the gRPC port failed for user {}: {}", nodeId,
                        mechanism, user, e.getMessage());
                fail(ErrorCode.SASL_AUTHENTICATION_FAILED, "authentication failed for user " + user);
                return;
            }
            SaslAuthenticateResponse.Builder answer = SaslAuthenticateResponse.newBuilder()
                    .setError(Error.newBuilder().setCode(ErrorCode.NONE))
                    .setToken(challenge == null ? ByteString.EMPTY : ByteString.copyFrom(challenge));
            if (!server.isComplete()) {
                responses.onNext(answer.build());
                return;
            }
            String authenticated = server.getAuthorizationID();
            KafkaPrincipal principal = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, authenticated);
            GrpcSessions.Caller caller = new GrpcSessions.Caller(principal,
                    credentials.nodeOf(authenticated).orElse(GrpcSessions.Caller.NOT_A_NODE));
            responses.onNext(answer.setComplete(true).setSessionToken(sessions.issue(caller))
                    .setSessionLifetimeMs(sessions.lifetimeMs()).build());
            LOG.debug("[node {}] {} authenticated with {} on the gRPC port", nodeId, principal, mechanism);
            end();
            responses.onCompleted();
        }

        /** Starts the mechanism's server; false (after failing the exchange) when it is not enabled. */
        private boolean begin(String requested, byte[] firstToken) {
            if (!mechanisms.contains(requested)) {
                String why = requested.isEmpty() ? "the first message of a SASL exchange must name a mechanism"
                        : "SASL mechanism " + requested + " is not enabled on node " + nodeId;
                answerAndEnd(SaslAuthenticateResponse.newBuilder().setError(Error.newBuilder()
                        .setCode(ErrorCode.UNSUPPORTED_SASL_MECHANISM)
                        .setMessage(why + "; the enabled mechanisms are " + mechanisms))
                        .addAllEnabledMechanisms(mechanisms).build());
                return false;
            }
            mechanism = requested;
            user = userOf(requested, firstToken);
            server = SaslServers.create(requested, credentials);
            return true;
        }

        @Override
        public synchronized void onError(Throwable t) {
            end();
        }

        @Override
        public synchronized void onCompleted() {
            if (!done) {
                fail(ErrorCode.ILLEGAL_SASL_STATE, "the client ended the SASL exchange before it completed");
            }
        }

        private synchronized void fail(ErrorCode code, String message) {
            if (done) {
                return;
            }
            answerAndEnd(SaslAuthenticateResponse.newBuilder()
                    .setError(Error.newBuilder().setCode(code).setMessage(message)).build());
        }

        private void answerAndEnd(SaslAuthenticateResponse answer) {
            end();
            if (!responses.isCancelled()) {
                responses.onNext(answer);
                responses.onCompleted();
            }
        }

        /** Marks the exchange over and frees what it holds. */
        private synchronized void end() {
            if (done) {
                return;
            }
            done = true;
            if (deadline != null) {
                deadline.cancel(false);
            }
            if (server != null) {
                try {
                    server.dispose();
                } catch (SaslException e) {
                    // Nothing held that matters: the servers only clear their fields.
                }
            }
        }
    }

    /**
     * The user a mechanism's first client token names, for the failure message and log; "(unknown)"
     * when the token cannot be read (the SASL server then refuses it anyway).
     */
    static String userOf(String mechanism, byte[] firstToken) {
        try {
            if (mechanism.equals(SaslServers.PLAIN)) {
                // RFC 4616: [authzid] NUL authcid NUL passwd
                String[] parts = new String(firstToken, StandardCharsets.UTF_8).split("\u0000", -1);
                return parts.length == 3 && !parts[1].isEmpty() ? parts[1] : "(unknown)";
            }
            return ScramFormatter.username(new ScramMessages.ClientFirstMessage(firstToken).saslName());
        } catch (SaslException | RuntimeException e) {
            return "(unknown)";
        }
    }
}
