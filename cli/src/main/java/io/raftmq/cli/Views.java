package io.raftmq.cli;

import java.util.List;
import java.util.Map;

/**
 * What the commands print, as plain values: the admin answers reduced to the fields the Kafka-style
 * layouts show. {@link AdminCalls} builds them from the SDK's answers.
 */
final class Views {
    private Views() {
    }

    record Topic(String name, String topicId, Map<String, String> configs, List<Partition> partitions) {
        int replicationFactor() {
            return partitions.isEmpty() ? 0 : partitions.get(0).replicas().size();
        }
    }

    /** {@code leader} is -1 when the partition has none. */
    record Partition(int partition, int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr) {
    }

    /** {@code clusterId} is null until the first controller has chosen it. */
    record Cluster(String clusterId, int controllerId, long controllerEpoch, List<Voter> voters,
            List<Broker> brokers) {
    }

    record Voter(int id, String raftAddress, boolean leader) {
    }

    /** {@code endpoints}: every listener the broker registered, "grpc 127.0.0.1:9093, kafka 127.0.0.1:9092". */
    record Broker(int id, String state, String endpoints, String rack) {
    }

    record Group(String groupId, String state, List<Member> members) {
    }

    record Member(String memberId, String clientId, String host, List<io.raftmq.client.TopicPartition> assignment) {
    }

    /** Joins ids as Kafka prints replica lists: "1,2,3". */
    static String ids(List<Integer> ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(id);
        }
        return b.toString();
    }

    static String leader(int id) {
        return id < 0 ? "none" : Integer.toString(id);
    }
}
