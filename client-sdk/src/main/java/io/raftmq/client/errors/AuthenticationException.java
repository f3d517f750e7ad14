package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The client could not prove who it is to a broker, or the broker to it: a TLS handshake failed
 * ({@link SslAuthenticationException}) or a SASL authentication was refused ({@link
 * SaslAuthenticationException}). Retrying with the same settings does not help.
 */
public class AuthenticationException extends RaftmqException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(ErrorCode code, String message) {
        super(code, message);
    }

    public AuthenticationException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
