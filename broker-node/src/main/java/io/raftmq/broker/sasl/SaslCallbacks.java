package io.raftmq.broker.sasl;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * Answers the callbacks of kafka-clients' SASL servers from {@link ScramCredentials}: the SCRAM
 * server asks for the user's credential of its mechanism ({@link ScramCredentialCallback}); the
 * PLAIN server asks whether a password is right ({@link PlainAuthenticateCallback}), which is
 * checked against the user's strongest SCRAM credential (SCRAM-SHA-512 before SCRAM-SHA-256): the
 * password salted and hashed as SCRAM does must give the stored key.
 *
 * <p>One instance per SASL server (one connection's authentication), used on its event loop.
 */
final class SaslCallbacks implements CallbackHandler {
    private final ScramCredentials credentials;
    /** The SCRAM server's mechanism; null for PLAIN. */
    private final ScramMechanism mechanism;

    SaslCallbacks(ScramCredentials credentials, ScramMechanism mechanism) {
        this.credentials = credentials;
        this.mechanism = mechanism;
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        String user = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback name) {
                user = name.getDefaultName();
            } else if (callback instanceof ScramCredentialCallback scram && mechanism != null) {
                scram.scramCredential(user == null ? null : credentials.of(user).get(mechanism));
            } else if (callback instanceof PlainAuthenticateCallback plain) {
                plain.authenticated(user != null && passwordMatches(credentials.of(user), plain.password()));
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    /** Whether {@code password} gives the stored key of the strongest credential. */
    static boolean passwordMatches(Map<ScramMechanism, ScramCredential> stored, char[] password) {
        ScramMechanism strongest = stored.containsKey(ScramMechanism.SCRAM_SHA_512) ? ScramMechanism.SCRAM_SHA_512
                : stored.containsKey(ScramMechanism.SCRAM_SHA_256) ? ScramMechanism.SCRAM_SHA_256 : null;
        if (strongest == null) {
            return false;
        }
        ScramCredential credential = stored.get(strongest);
        try {
            ScramFormatter formatter = new ScramFormatter(strongest);
            byte[] salted = formatter.hi(ScramFormatter.normalize(new String(password)), credential.salt(),
                    credential.iterations());
            byte[] storedKey = formatter.storedKey(formatter.clientKey(salted));
            return MessageDigest.isEqual(storedKey, credential.storedKey());
        } catch (GeneralSecurityException e) {
            // The JDK lacks HMAC-SHA-256/512: no password can be checked.
            throw new IllegalStateException("cannot check a PLAIN password with " + strongest + ": " + e, e);
        }
    }
}
