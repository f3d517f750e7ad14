package io.raftmq.broker.kafka;

import io.raftmq.broker.sasl.SaslServers;
import io.raftmq.broker.sasl.ScramCredentials;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLSession;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SaslAuthenticationContext;

/**
 * The SASL exchange of one connection on a SASL_PLAINTEXT or SASL_SSL listener, in Kafka's order
 * and with Kafka's answers (its {@code SaslServerAuthenticator}): at most one ApiVersions, then a
 * SaslHandshake naming an enabled mechanism, then the mechanism's tokens, either in SaslAuthenticate
 * requests (handshake v1) or as bare size-prefixed tokens (handshake v0, old clients). The tokens
 * are evaluated by kafka-clients' own SASL servers ({@link SaslServers}, shared with the gRPC
 * port's SASL_SSL). Any other request before the exchange completes
 * ends it: the connection closes (after an ILLEGAL_SASL_STATE answer once SaslAuthenticate framing
 * was agreed, silently before, as Kafka does); a failed authentication is answered
 * (UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED) and the connection closes.
 *
 * <pre>
 *   HANDSHAKE_OR_VERSIONS -ApiVersions-> HANDSHAKE -SaslHandshake-> AUTHENTICATE -tokens done-> COMPLETE
 *   HANDSHAKE_OR_VERSIONS -SaslHandshake-> AUTHENTICATE
 *   any but COMPLETE -(wrong request, bad mechanism, bad credentials)-> FAILED
 * </pre>
 *
 * <p>Owned by the connection's event loop, like the connection.
 */
final class SaslAuthenticator {
    /** Kafka's sasl.server.max.receive.size: the largest frame read before authentication. */
    static final int MAX_RECEIVE_BYTES = 524_288;

    enum State { HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE, COMPLETE, FAILED }

    /**
     * What the connection does with one frame: nothing but answer ApiVersions ({@code
     * apiVersions}), write {@code answer} (to the request {@code correlationId} of {@code key} at
     * {@code version}, or a bare token), and close after it when {@code failure} is set.
     */
    record Outcome(boolean apiVersions, KafkaResponse answer, int correlationId, ApiKeys key, short version,
            String failure) {

        static Outcome answerApiVersions() {
            return new Outcome(true, null, -1, ApiKeys.API_VERSIONS, (short) 0, null);
        }

        static Outcome answer(RequestHeader header, ApiMessage body) {
            return new Outcome(false, KafkaResponse.send(body), header.correlationId(), header.apiKey(),
                    header.apiVersion(), null);
        }

        static Outcome token(byte[] token) {
            return new Outcome(false, token == null ? null : new KafkaResponse.SaslToken(token), -1,
                    ApiKeys.SASL_AUTHENTICATE, (short) 0, null);
        }

        static Outcome fail(String why) {
            return new Outcome(false, null, -1, ApiKeys.SASL_HANDSHAKE, (short) 0, why);
        }

        Outcome failing(String why) {
            return new Outcome(apiVersions, answer, correlationId, key, version, why);
        }
    }

    private final ListenerSecurity security;
    private final ScramCredentials credentials;
    private final InetAddress clientAddress;
    private final Supplier<Optional<SSLSession>> tlsSession;
    private State state = State.HANDSHAKE_OR_VERSIONS;
    private SaslServer server;
    private String mechanism;
    /** Handshake v1+: tokens come in SaslAuthenticate requests; v0: bare. */
    private boolean kafkaFraming;
    private KafkaPrincipal principal;

    /** @param tlsSession the connection's TLS session (SASL_SSL), empty otherwise */
    SaslAuthenticator(ListenerSecurity security, ScramCredentials credentials, InetAddress clientAddress,
            Supplier<Optional<SSLSession>> tlsSession) {
        this.security = security;
        this.credentials = credentials;
        this.clientAddress = clientAddress;
        this.tlsSession = tlsSession;
    }

    /**
     * Kafka's answer (its KafkaApis') to SaslHandshake or SaslAuthenticate on a listener without
     * SASL or after authentication: ILLEGAL_SASL_STATE.
     */
    static ApiMessage outOfTurnAnswer(ApiKeys key) {
        return key == ApiKeys.SASL_HANDSHAKE
                ? new SaslHandshakeResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                : new SaslAuthenticateResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                        .setErrorMessage("SaslAuthenticate request received after successful authentication");
    }

    boolean isComplete() {
        return state == State.COMPLETE;
    }

    /** Who authenticated: User:name once {@link #isComplete()}. */
    KafkaPrincipal principal() {
        return principal;
    }

    /** The mechanism the client chose, or null before its handshake. */
    String mechanism() {
        return mechanism;
    }

    /** Takes one frame received before the exchange completed. */
    Outcome onFrame(byte[] frame) {
        Outcome outcome = switch (state) {
            case HANDSHAKE_OR_VERSIONS, HANDSHAKE -> handshakeOrVersions(frame);
            case AUTHENTICATE -> kafkaFraming ? authenticateRequest(frame) : bareToken(frame);
            case COMPLETE, FAILED -> throw new IllegalStateException("a frame after the SASL exchange ended ("
                    + state + ")");
        };
        if (outcome.failure() != null) {
            state = State.FAILED;
            if (server != null) {
                dispose();
            }
        }
        return outcome;
    }

    private Outcome handshakeOrVersions(byte[] frame) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        RequestHeader header;
        try {
            header = RequestHeader.parse(buffer);
        } catch (RuntimeException e) {
            // Kafka takes a first frame that is no Kafka request as a GSSAPI token; not served here.
            return Outcome.fail("the first frame is not a Kafka request and GSSAPI is not enabled ("
                    + e.getMessage() + ")");
        }
        ApiKeys key = header.apiKey();
        if (key == ApiKeys.API_VERSIONS) {
            if (state != State.HANDSHAKE_OR_VERSIONS) {
                return Outcome.fail("a second ApiVersions request during the SASL handshake");
            }
            if (ApiKeys.API_VERSIONS.isVersionSupported(header.apiVersion())) {
                state = State.HANDSHAKE;
            }
            return Outcome.answerApiVersions();
        }
        if (key != ApiKeys.SASL_HANDSHAKE) {
            return Outcome.fail("Unexpected Kafka request of type " + key + " during SASL handshake.");
        }
        if (!key.isVersionSupported(header.apiVersion())) {
            return Outcome.fail("SaslHandshake version " + header.apiVersion() + " is not supported");
        }
        SaslHandshakeRequestData request;
        try {
            request = new SaslHandshakeRequestData(new ByteBufferAccessor(buffer), header.apiVersion());
        } catch (RuntimeException e) {
            return Outcome.fail("cannot parse a SaslHandshake v" + header.apiVersion() + " request: " + e);
        }
        String requested = request.mechanism();
        SaslHandshakeResponseData answer = new SaslHandshakeResponseData().setMechanisms(security.saslMechanisms());
        if (!security.saslMechanisms().contains(requested)) {
            return Outcome.answer(header, answer.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()))
                    .failing("Unsupported SASL mechanism " + requested);
        }
        server = SaslServers.create(requested, credentials);
        mechanism = requested;
        kafkaFraming = header.apiVersion() >= 1;
        state = State.AUTHENTICATE;
        return Outcome.answer(header, answer.setErrorCode(Errors.NONE.code()));
    }

    private Outcome authenticateRequest(byte[] frame) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        RequestHeader header;
        try {
            header = RequestHeader.parse(buffer);
        } catch (RuntimeException e) {
            return Outcome.fail("cannot parse a request header during SASL authentication: " + e.getMessage());
        }
        ApiKeys key = header.apiKey();
        short version = header.apiVersion();
        if (key != ApiKeys.SASL_AUTHENTICATE) {
            String why = "Unexpected Kafka request of type " + key + " during SASL authentication.";
            ApiMessage error;
            try {
                error = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(buffer)).request
                        .getErrorResponse(0, new IllegalSaslStateException(why)).data();
            } catch (RuntimeException e) {
                return Outcome.fail(why);
            }
            return Outcome.answer(header, error).failing(why);
        }
        if (!key.isVersionSupported(version)) {
            return Outcome.fail("SaslAuthenticate version " + version + " is not supported");
        }
        SaslAuthenticateRequestData request;
        try {
            request = new SaslAuthenticateRequestData(new ByteBufferAccessor(buffer), version);
        } catch (RuntimeException e) {
            return Outcome.fail("cannot parse a SaslAuthenticate v" + version + " request: " + e);
        }
        SaslAuthenticateResponseData answer = new SaslAuthenticateResponseData();
        try {
            byte[] token = server.evaluateResponse(request.authBytes().clone());
            complete();
            return Outcome.answer(header, answer.setErrorCode(Errors.NONE.code())
                    .setAuthBytes(token == null ? new byte[0] : token).setSessionLifetimeMs(0));
        } catch (SaslAuthenticationException e) {
            return Outcome.answer(header, answer.setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                    .setErrorMessage(e.getMessage())).failing(e.getMessage());
        } catch (SaslException e) {
            // As Kafka: the server's own message may tell whether the user exists; the client
            // is told only that the credentials are invalid.
            String message = "Authentication failed during authentication due to invalid credentials with SASL"
                    + " mechanism " + mechanism;
            return Outcome.answer(header, answer.setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                    .setErrorMessage(message)).failing(message + " (" + e.getMessage() + ")");
        } catch (AuthenticationException e) {
            return Outcome.fail(e.getMessage());
        }
    }

    private Outcome bareToken(byte[] frame) {
        try {
            byte[] token = server.evaluateResponse(frame);
            complete();
            return Outcome.token(token);
        } catch (SaslException | AuthenticationException e) {
            return Outcome.fail("SASL " + mechanism + " authentication (handshake v0) failed: " + e.getMessage());
        }
    }

    /** Moves to COMPLETE once the server has seen every token it needs. */
    private void complete() {
        if (!server.isComplete()) {
            return;
        }
        principal = security.principals().build(new SaslAuthenticationContext(server, security.protocol(),
                clientAddress, security.protocol().name, tlsSession.get()));
        state = State.COMPLETE;
        dispose();
    }

    private void dispose() {
        try {
            server.dispose();
        } catch (SaslException e) {
            // Nothing held that matters: the servers only clear their fields.
        }
    }
}
