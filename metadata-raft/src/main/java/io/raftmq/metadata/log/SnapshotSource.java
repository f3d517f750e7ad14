package io.raftmq.metadata.log;

import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;
import java.util.function.Supplier;

/**
 * What a snapshot holds: every batch up to {@code offset}, as the records {@code records}
 * produces. The supplier may run on any thread.
 */
public record SnapshotSource(long offset, Supplier<List<MetadataRecord>> records) {}
