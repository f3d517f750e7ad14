package io.raftmq.broker.kafka;

import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;

/**
 * The Kafka endpoints of the partition leaders one answer names (KIP-951: Produce v10+ and Fetch
 * v16+ carry them beside NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH, so that a client reaches
 * the new leader without a metadata round trip). A leader without a Kafka endpoint in this broker's
 * metadata is left out; the client then refreshes its metadata as it would anyway.
 *
 * <p>One instance per answer, used by the thread building it.
 */
final class LeaderEndpoints {
    /** A broker as a NodeEndpoint names it; {@code rack} null when the broker has none. */
    record Node(int id, String host, int port, String rack) {}

    private final MetadataImage image;
    private final Map<Integer, Node> nodes = new LinkedHashMap<>();

    LeaderEndpoints(MetadataImage image) {
        this.image = image;
    }

    /** Whether an answer with this error names the partition's current leader (Kafka's rule). */
    static boolean namesLeader(short errorCode) {
        return errorCode == Errors.NOT_LEADER_OR_FOLLOWER.code() || errorCode == Errors.FENCED_LEADER_EPOCH.code();
    }

    /** Adds broker {@code leaderId}'s Kafka endpoint, if it has one (-1, no leader: nothing). */
    void add(int leaderId) {
        if (leaderId < 0 || nodes.containsKey(leaderId)) {
            return;
        }
        BrokerRegistration broker = image.broker(leaderId);
        KafkaIds.kafkaEndpoint(broker).ifPresent(e -> nodes.put(leaderId, new Node(leaderId, e.getHost(),
                e.getPort(), broker.rack().isEmpty() ? null : broker.rack())));
    }

    /** The endpoints added, in the order first named. */
    List<Node> nodes() {
        return new ArrayList<>(nodes.values());
    }
}
