package io.raftmq.metadata.controller;

import io.raftmq.metadata.image.MetadataImage;

/**
 * A reply whose records have committed.
 *
 * @param reply the decision's reply
 * @param offset the metadata offset that includes the decision's records (for a decision without
 *     records, the committed offset when it was answered)
 * @param image the committed image at {@code offset}
 */
public record Committed<T>(T reply, long offset, MetadataImage image) {}
