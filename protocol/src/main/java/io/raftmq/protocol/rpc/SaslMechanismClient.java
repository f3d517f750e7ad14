package io.raftmq.protocol.rpc;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The client side of one SASL exchange: the first token, the answer to each server challenge, and
 * the check of the server's last token. PLAIN is one token (RFC 4616); SCRAM-SHA-256/512 (RFC 5802,
 * 7677) is the ongres SCRAM client, which also verifies the server's signature (the node proves it
 * knows the user's credential). One instance per exchange; its calls are serialized by the exchange.
 */
abstract class SaslMechanismClient {

    /** This side refused the exchange (a malformed or unproven server token). */
    static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final ErrorCode code;

        Refusal(ErrorCode code, String message, Throwable cause) {
            super(message, cause);
            this.code = code;
        }
    }

    static SaslMechanismClient of(SaslLogin login) {
        return login.mechanism().equals(SaslLogin.PLAIN) ? new Plain(login) : new Scram(login);
    }

    /** The token the first message carries. */
    abstract byte[] firstToken();

    /**
     * The client's answer to a server challenge of an exchange that is not complete yet.
     *
     * @throws Refusal when the challenge is malformed or out of order
     */
    abstract byte[] respond(byte[] challenge);

    /**
     * Checks the server's token of the completing answer.
     *
     * @throws Refusal when the server did not prove it knows the credential
     */
    abstract void complete(byte[] finalToken);

    private static final class Plain extends SaslMechanismClient {
        private final SaslLogin login;

        Plain(SaslLogin login) {
            this.login = login;
        }

        @Override
        byte[] firstToken() {
            // authzid (empty) NUL authcid NUL password
            return ("\u0000" + login.username() + "\u0000" + login.password()).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] respond(byte[] challenge) {
            throw new Refusal(ErrorCode.ILLEGAL_SASL_STATE, "the server sent a PLAIN challenge; PLAIN has none", null);
        }

        @Override
        void complete(byte[] finalToken) {
            // Nothing to check: PLAIN does not authenticate the server (TLS does, where there is TLS).
        }
    }

    private static final class Scram extends SaslMechanismClient {
        private final String mechanism;
        private final ScramClient client;

        Scram(SaslLogin login) {
            this.mechanism = login.mechanism();
            // No SASLprep: Kafka's SCRAM credentials hash the password's plain UTF-8 bytes.
            this.client = ScramClient.builder()
                    .advertisedMechanisms(List.of(login.mechanism()))
                    .username(login.username())
                    .password(login.password().toCharArray())
                    .stringPreparation(StringPreparation.NO_PREPARATION)
                    .build();
        }

        @Override
        byte[] firstToken() {
            return client.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] respond(byte[] challenge) {
            try {
                client.serverFirstMessage(new String(challenge, StandardCharsets.UTF_8));
                return client.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8);
            } catch (ScramException | RuntimeException e) {
                throw new Refusal(ErrorCode.SASL_AUTHENTICATION_FAILED, "the server's " + mechanism
                        + " server-first message is not valid: " + e.getMessage(), e);
            }
        }

        @Override
        void complete(byte[] finalToken) {
            try {
                client.serverFinalMessage(new String(finalToken, StandardCharsets.UTF_8));
            } catch (ScramException | RuntimeException e) {
                throw new Refusal(ErrorCode.SASL_AUTHENTICATION_FAILED, "the server did not prove it knows the "
                        + mechanism + " credential: " + e.getMessage(), e);
            }
        }
    }
}
