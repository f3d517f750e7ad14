package io.raftmq.broker.group;

import io.raftmq.metadata.controller.TopicNames;

/**
 * The group coordinator's settings (keys and documentation in {@code BrokerConfig}). Immutable.
 *
 * @param offsetsTopicPartitions partitions of __consumer_offsets when this broker creates it
 * @param offsetsTopicReplicationFactor its replication factor; it is not created while fewer brokers are live
 * @param offsetsTopicSegmentBytes its segment size
 * @param commitTimeoutMs how long a write waits for the partition's in-sync replicas
 * @param checkpointMinRecords superseded records that make a partition due for a checkpoint
 * @param minSessionTimeoutMs the shortest session timeout a member may ask for
 * @param maxSessionTimeoutMs the longest
 * @param initialRebalanceDelayMs how long an empty group's first rebalance waits for more members
 * @param maxGroupSize the most members in one group
 * @param offsetsRetentionMs how long a group without members keeps its offsets after its newest
 *     commit and after it was found empty (offsets.retention.minutes); then it is deleted
 * @param offsetsRetentionCheckIntervalMs how often each coordinator looks for such groups
 * @param consumerSessionTimeoutMs consumer-protocol (KIP-848) groups: a member not heard from
 *     for this long is removed (group.consumer.session.timeout.ms)
 * @param consumerHeartbeatIntervalMs how often consumer-protocol members are told to heartbeat
 *     (group.consumer.heartbeat.interval.ms)
 * @param offsetMetadataMaxBytes the longest metadata string of one committed offset, in UTF-8 bytes
 */
public record GroupCoordinatorConfig(int offsetsTopicPartitions, int offsetsTopicReplicationFactor,
        int offsetsTopicSegmentBytes, int commitTimeoutMs, int checkpointMinRecords, int minSessionTimeoutMs,
        int maxSessionTimeoutMs, int initialRebalanceDelayMs, int maxGroupSize, long offsetsRetentionMs,
        long offsetsRetentionCheckIntervalMs, int consumerSessionTimeoutMs, int consumerHeartbeatIntervalMs,
        int offsetMetadataMaxBytes) {

    /** Kafka's name, so that tools that know it find it. */
    public static final String OFFSETS_TOPIC = TopicNames.OFFSETS_TOPIC;
    /** Kafka's group.consumer.session.timeout.ms default. */
    public static final int DEFAULT_CONSUMER_SESSION_TIMEOUT_MS = 45_000;
    /** Kafka's group.consumer.heartbeat.interval.ms default. */
    public static final int DEFAULT_CONSUMER_HEARTBEAT_INTERVAL_MS = 5_000;

    /** Kafka's offset.metadata.max.bytes default. */
    public static final int DEFAULT_OFFSET_METADATA_MAX_BYTES = 4096;

    /** With the consumer-protocol timeouts and the offset metadata limit at Kafka's defaults. */
    public GroupCoordinatorConfig(int offsetsTopicPartitions, int offsetsTopicReplicationFactor,
            int offsetsTopicSegmentBytes, int commitTimeoutMs, int checkpointMinRecords, int minSessionTimeoutMs,
            int maxSessionTimeoutMs, int initialRebalanceDelayMs, int maxGroupSize, long offsetsRetentionMs,
            long offsetsRetentionCheckIntervalMs) {
        this(offsetsTopicPartitions, offsetsTopicReplicationFactor, offsetsTopicSegmentBytes, commitTimeoutMs,
                checkpointMinRecords, minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs, maxGroupSize,
                offsetsRetentionMs, offsetsRetentionCheckIntervalMs, DEFAULT_CONSUMER_SESSION_TIMEOUT_MS,
                DEFAULT_CONSUMER_HEARTBEAT_INTERVAL_MS, DEFAULT_OFFSET_METADATA_MAX_BYTES);
    }
}
