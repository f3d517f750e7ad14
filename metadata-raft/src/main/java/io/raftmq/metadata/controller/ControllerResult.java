package io.raftmq.metadata.controller;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;

/**
 * What a controller decision produced: the records to commit (possibly none) and the reply to
 * send once they have committed.
 */
public record ControllerResult<T>(List<MetadataRecord> records, T reply) {

    public ControllerResult {
        records = List.copyOf(records);
    }

    public static <T> ControllerResult<T> of(List<MetadataRecord> records, T reply) {
        return new ControllerResult<>(records, reply);
    }

    public static <T> ControllerResult<T> withoutRecords(T reply) {
        return new ControllerResult<>(List.of(), reply);
    }
}
