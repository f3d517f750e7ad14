package io.raftmq.common;

import io.raftmq.protocol.common.Uuid;
import java.util.UUID;

/** Conversions between {@link java.util.UUID} and the wire {@link Uuid}. */
public final class Uuids {
    /** The all-zero id, which means "no id" on the wire. */
    public static final UUID ZERO = new UUID(0, 0);

    private Uuids() {}

    public static Uuid toProto(UUID id) {
        return Uuid.newBuilder()
                .setMostSignificantBits(id.getMostSignificantBits())
                .setLeastSignificantBits(id.getLeastSignificantBits())
                .build();
    }

    public static UUID fromProto(Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }
}
