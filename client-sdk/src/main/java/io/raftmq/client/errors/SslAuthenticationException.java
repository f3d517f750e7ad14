package io.raftmq.client.errors;

import io.raftmq.protocol.common.ErrorCode;

/**
 * The TLS handshake with a broker failed: its certificate is not trusted by ssl.truststore.location
 * (another CA, expired, or not naming the host dialled), or the broker refused this client's
 * certificate. Retrying does not help; the message names the broker and the handshake's reason.
 */
public class SslAuthenticationException extends AuthenticationException {
    private static final long serialVersionUID = 1L;

    public SslAuthenticationException(String message, Throwable cause) {
        super(ErrorCode.NONE, message, cause);
    }
}
