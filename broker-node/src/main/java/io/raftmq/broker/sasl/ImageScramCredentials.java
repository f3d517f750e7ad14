package io.raftmq.broker.sasl;

import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.ScramCredentialData;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * The SCRAM credentials of the broker's newest metadata image (replayed from the metadata log, so
 * a credential set through any broker or the controller counts everywhere once applied). Reads a
 * reference to an immutable image: any thread.
 */
public final class ImageScramCredentials implements ScramCredentials {
    private final Supplier<MetadataImage> image;

    public ImageScramCredentials(Supplier<MetadataImage> image) {
        this.image = image;
    }

    @Override
    public Map<ScramMechanism, ScramCredential> of(String user) {
        Map<io.raftmq.protocol.metadata.ScramMechanism, ScramCredentialData> stored =
                image.get().scramCredentials(user);
        Map<ScramMechanism, ScramCredential> out = new EnumMap<>(ScramMechanism.class);
        stored.forEach((mechanism, data) -> out.put(toKafka(mechanism),
                new ScramCredential(data.salt(), data.storedKey(), data.serverKey(), data.iterations())));
        return out;
    }

    /** Kafka's mechanism of ours (the same type ids). */
    static ScramMechanism toKafka(io.raftmq.protocol.metadata.ScramMechanism mechanism) {
        return switch (mechanism) {
            case SCRAM_SHA_256 -> ScramMechanism.SCRAM_SHA_256;
            case SCRAM_SHA_512 -> ScramMechanism.SCRAM_SHA_512;
            case SCRAM_MECHANISM_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException(
                    "no Kafka SCRAM mechanism for " + mechanism);
        };
    }
}
