package io.raftmq.client;

import com.google.protobuf.ByteString;
import io.raftmq.client.errors.RaftmqException;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.ScramCredentialDeletion;
import io.raftmq.protocol.controller.ScramCredentialUpsertion;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The requests of {@link Admin}'s SCRAM user calls, built as Kafka's Admin builds them: the password
 * is salted and hashed here (RFC 5802's {@code Hi}, which is PBKDF2 with the mechanism's HMAC over
 * the password's UTF-8 bytes) with a random salt, and only the salted password leaves the client.
 * Stateless apart from the shared random source (thread-safe).
 */
final class ScramUsers {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SALT_BYTES = 24;

    private ScramUsers() {}

    /**
     * The mechanism Kafka names {@code name} (SCRAM-SHA-256, SCRAM-SHA-512).
     *
     * @throws RaftmqException UNSUPPORTED_SASL_MECHANISM for any other name
     */
    static ScramMechanism mechanism(String name) {
        return switch (name) {
            case "SCRAM-SHA-256" -> ScramMechanism.SCRAM_SHA_256;
            case "SCRAM-SHA-512" -> ScramMechanism.SCRAM_SHA_512;
            default -> throw new RaftmqException(ErrorCode.UNSUPPORTED_SASL_MECHANISM, "unknown SCRAM mechanism '"
                    + name + "'; the mechanisms are SCRAM-SHA-256 and SCRAM-SHA-512");
        };
    }

    /** Kafka's name of {@code mechanism}. */
    static String name(ScramMechanism mechanism) {
        return mechanism.name().replace('_', '-');
    }

    static ScramCredentialUpsertion upsertion(String user, String mechanismName, int iterations, String password) {
        ScramMechanism mechanism = mechanism(mechanismName);
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return ScramCredentialUpsertion.newBuilder().setName(user).setMechanism(mechanism).setIterations(iterations)
                .setSalt(ByteString.copyFrom(salt))
                .setSaltedPassword(ByteString.copyFrom(saltedPassword(mechanism, password, salt, iterations)))
                .build();
    }

    static ScramCredentialDeletion deletion(String user, String mechanismName) {
        return ScramCredentialDeletion.newBuilder().setName(user).setMechanism(mechanism(mechanismName)).build();
    }

    /** {@code Hi(password, salt, iterations)}: one PBKDF2 block of the mechanism's hash length. */
    static byte[] saltedPassword(ScramMechanism mechanism, String password, byte[] salt, int iterations) {
        if (iterations < 1) {
            // PBKDF2 refuses it; the controller's answer (UNACCEPTABLE_CREDENTIAL) names the bounds.
            iterations = 1;
        }
        boolean sha256 = mechanism == ScramMechanism.SCRAM_SHA_256;
        try {
            SecretKeyFactory factory = SecretKeyFactory.getInstance(sha256 ? "PBKDF2WithHmacSHA256"
                    : "PBKDF2WithHmacSHA512");
            return factory.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations,
                    sha256 ? 256 : 512)).getEncoded();
        } catch (GeneralSecurityException e) {
            // Every Java runtime has both.
            throw new IllegalStateException("cannot salt a password for " + name(mechanism) + ": " + e, e);
        }
    }
}
