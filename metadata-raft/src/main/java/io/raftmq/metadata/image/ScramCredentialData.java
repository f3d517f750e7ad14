package io.raftmq.metadata.image;

import java.util.Arrays;
import java.util.Objects;

/**
 * One user's SCRAM credential for one mechanism, as stored (RFC 5802): the salt, the stored key and
 * the server key, and the iterations. Equal by content. The arrays are not copied: holders never
 * write into them.
 */
public record ScramCredentialData(byte[] salt, byte[] storedKey, byte[] serverKey, int iterations) {

    public ScramCredentialData {
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredentialData other && iterations == other.iterations
                && Arrays.equals(salt, other.salt) && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(salt), Arrays.hashCode(storedKey), Arrays.hashCode(serverKey),
                iterations);
    }

    /** Never the keys: they would let anyone who reads the log pose as the user to this cluster. */
    @Override
    public String toString() {
        return "ScramCredentialData(iterations=" + iterations + ")";
    }
}
