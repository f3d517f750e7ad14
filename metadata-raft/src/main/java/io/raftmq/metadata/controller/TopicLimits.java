package io.raftmq.metadata.controller;

/**
 * Bounds on partitions that topic commands (CreateTopics, CreatePartitions) may add. Checked when a
 * command is decided, never on replay: records already in the metadata log apply whatever they hold.
 *
 * @param maxPartitions the most partitions the cluster may hold, over all topics (max.partitions)
 * @param maxPartitionsPerRequest the most partitions one request may add
 *     (max.partitions.per.request), which also bounds the batch of records one command appends
 */
public record TopicLimits(int maxPartitions, int maxPartitionsPerRequest) {
    public static final String MAX_PARTITIONS = "max.partitions";
    public static final String MAX_PARTITIONS_PER_REQUEST = "max.partitions.per.request";
    public static final TopicLimits DEFAULTS = new TopicLimits(100_000, 10_000);

    public TopicLimits {
        if (maxPartitions < 1 || maxPartitionsPerRequest < 1) {
            throw new IllegalArgumentException("partition limits must be positive: " + MAX_PARTITIONS + "="
                    + maxPartitions + ", " + MAX_PARTITIONS_PER_REQUEST + "=" + maxPartitionsPerRequest);
        }
    }
}
