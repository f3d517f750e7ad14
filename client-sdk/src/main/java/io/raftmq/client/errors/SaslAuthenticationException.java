package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * A broker refused this client's SASL authentication (security.protocol=SASL_SSL): an unknown user
 * or a wrong password (SASL_AUTHENTICATION_FAILED; the broker does not say which), a mechanism the
 * broker does not enable (UNSUPPORTED_SASL_MECHANISM), a broker whose SCRAM proof is wrong, or a
 * call without authentication to a SASL_SSL port. Not retriable; the message is the broker's.
 */
public class SaslAuthenticationException extends AuthenticationException {
    private static final long serialVersionUID = 1L;

    public SaslAuthenticationException(ErrorCode code, String message) {
        super(code, message);
    }

    public SaslAuthenticationException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
