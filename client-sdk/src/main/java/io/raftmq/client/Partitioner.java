package io.raftmq.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses a record's partition the way Kafka's default partitioner does: a key goes to
 * {@code toPositive(murmur2(keyBytes)) % numPartitions}, so a key lands on the partition a Kafka
 * producer would choose; records without a key stick to one partition per topic until the batch
 * being filled for it is closed, then move to another partition (with a leader, when any has one).
 *
 * <p>Thread-safe: the sticky choice per topic is a concurrent map; the random source is only used
 * under its own lock.
 */
final class Partitioner {
    private final Map<String, Integer> sticky = new ConcurrentHashMap<>();
    private final Random random;

    Partitioner(Random random) {
        this.random = random;
    }

    static int partitionForKey(byte[] keyBytes, int numPartitions) {
        return toPositive(murmur2(keyBytes)) % numPartitions;
    }

    /** The sticky partition for records without a key. */
    int stickyPartition(String topic, MetadataSnapshot metadata) {
        Integer current = sticky.get(topic);
        int count = metadata.partitionCount(topic);
        if (current != null && current < count) {
            return current;
        }
        return nextSticky(topic, -1, metadata);
    }

    /**
     * Called when the sticky partition's batch is closed (full): picks another partition,
     * preferring ones with a leader, and never the previous one when there is a choice.
     */
    int nextSticky(String topic, int previous, MetadataSnapshot metadata) {
        int count = metadata.partitionCount(topic);
        List<Integer> withLeader = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            if (p != previous && metadata.leaderAddress(new TopicPartition(topic, p)) != null) {
                withLeader.add(p);
            }
        }
        int chosen;
        synchronized (random) {
            if (!withLeader.isEmpty()) {
                chosen = withLeader.get(random.nextInt(withLeader.size()));
            } else if (count > 1 && previous >= 0) {
                chosen = (previous + 1 + random.nextInt(count - 1)) % count;
            } else {
                chosen = random.nextInt(count);
            }
        }
        Integer prev = previous < 0 ? null : previous;
        if (prev == null) {
            Integer raced = sticky.putIfAbsent(topic, chosen);
            return raced != null && raced < count ? raced : setSticky(topic, chosen);
        }
        // Only the first thread to see the batch close moves the topic on.
        return sticky.replace(topic, prev, chosen) ? chosen : sticky.getOrDefault(topic, chosen);
    }

    private int setSticky(String topic, int partition) {
        sticky.put(topic, partition);
        return partition;
    }

    /** Kafka's 32-bit murmur2 (Utils.murmur2): seed 0x9747b28c, little-endian 4-byte blocks. */
    static int murmur2(byte[] data) {
        int length = data.length;
        final int seed = 0x9747b28c;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = seed ^ length;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++) {
            int at = i * 4;
            int k = (data[at] & 0xff) | ((data[at + 1] & 0xff) << 8) | ((data[at + 2] & 0xff) << 16)
                    | ((data[at + 3] & 0xff) << 24);
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = length & ~3;
        int rest = length % 4;
        if (rest == 3) {
            h ^= (data[tail + 2] & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (data[tail + 1] & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= data[tail] & 0xff;
            h *= m;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }

    static int toPositive(int n) {
        return n & 0x7fffffff;
    }
}
