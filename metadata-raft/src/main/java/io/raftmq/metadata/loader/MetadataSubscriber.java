package io.raftmq.metadata.loader;

import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.util.List;

/**
 * Told about every change of the committed metadata, on the metadata log's apply thread, in log
 * order. Implementations must return quickly (hand work to their own thread) and must not throw.
 */
public interface MetadataSubscriber {

    /** The state was replaced by a snapshot. */
    default void onSnapshot(MetadataImage image) {}

    /** One committed batch: its records, what they changed, and the image after them. */
    default void onCommit(long offset, List<MetadataRecord> records, MetadataDelta delta, MetadataImage image) {}

    /** The quorum's leader changed; {@code image} is the committed image at that point. */
    default void onLeaderChange(LeaderAndEpoch leader, MetadataImage image) {}
}
