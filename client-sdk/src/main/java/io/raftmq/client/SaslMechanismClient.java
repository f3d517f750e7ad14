package io.raftmq.client;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import io.raftmq.protocol.common.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The client side of one SASL exchange: the first token, the answer to each server challenge, and
 * the check of the server's last token. PLAIN is one token (RFC 4616); SCRAM-SHA-256/512 (RFC 5802,
 * 7677) is the ongres SCRAM client, which also verifies the server's signature (the broker proves it
 * knows the user's credential). One instance per exchange; its calls are serialized by the exchange.
 */
abstract class SaslMechanismClient {

    static SaslMechanismClient of(ClientSasl.Login login) {
        return login.mechanism().equals(ClientSasl.PLAIN) ? new Plain(login) : new Scram(login);
    }

    /** The token the first message carries. */
    abstract byte[] firstToken();

    /**
     * The client's answer to a server challenge of an exchange that is not complete yet.
     *
     * @throws SaslAuthenticationException when the challenge is malformed or out of order
     */
    abstract byte[] respond(byte[] challenge);

    /**
     * Checks the server's token of the completing answer.
     *
     * @throws SaslAuthenticationException when the server did not prove it knows the credential
     */
    abstract void complete(byte[] finalToken);

    private static final class Plain extends SaslMechanismClient {
        private final ClientSasl.Login login;

        Plain(ClientSasl.Login login) {
            this.login = login;
        }

        @Override
        byte[] firstToken() {
            // authzid (empty) NUL authcid NUL password
            return ("\u0000" + login.username() + "\u0000" + login.password()).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        byte[] respond(byte[] challenge) {
            throw new SaslAuthenticationException(ErrorCode.ILLEGAL_SASL_STATE, "the broker sent a PLAIN challenge;"
                    + " PLAIN has none");
        }

        @Override
        void complete(byte[] finalToken) {
            // Nothing to check: PLAIN does not authenticate the server (TLS does).
        }
    }

    private static final class Scram extends SaslMechanismClient {
        private final String mechanism;
        private final ScramClient client;

        Scram(ClientSasl.Login login) {
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
                throw new SaslAuthenticationException(ErrorCode.SASL_AUTHENTICATION_FAILED, "the broker's "
                        + mechanism + " server-first message is not valid: " + e.getMessage(), e);
            }
        }

        @Override
        void complete(byte[] finalToken) {
            try {
                client.serverFinalMessage(new String(finalToken, StandardCharsets.UTF_8));
            } catch (ScramException | RuntimeException e) {
                throw new SaslAuthenticationException(ErrorCode.SASL_AUTHENTICATION_FAILED, "the broker did not"
                        + " prove it knows the " + mechanism + " credential: " + e.getMessage(), e);
            }
        }
    }
}
