package io.raftmq.broker.group;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ConsumerProtocolAssignment;
import org.apache.kafka.common.protocol.types.SchemaException;

/**
 * Kafka's consumer protocol encodings (kafka-clients' {@link ConsumerProtocol}) of a subscription
 * (a member's protocol metadata) and an assignment, for where the coordinator itself must read or
 * write them: SDK members, assignments it computes, DescribeGroups for the SDK. Stateless.
 */
final class ConsumerProtocolBytes {
    private ConsumerProtocolBytes() {}

    /** A subscription to {@code topics}, at the newest version. */
    static byte[] subscription(List<String> topics) {
        return bytes(ConsumerProtocol.serializeSubscription(new Subscription(List.copyOf(topics))));
    }

    /** The subscribed topics, sorted and distinct; empty when {@code metadata} is not a subscription. */
    static List<String> topics(byte[] metadata) {
        try {
            return ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(metadata)).topics().stream().distinct()
                    .sorted().toList();
        } catch (SchemaException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            return List.of();
        }
    }

    /** The subscription's version (the assignment is written at the same one), 0 when undecodable. */
    static short version(byte[] metadata) {
        try {
            return metadata.length < 2 ? 0 : ConsumerProtocol.deserializeVersion(ByteBuffer.wrap(metadata));
        } catch (SchemaException | java.nio.BufferUnderflowException e) {
            return 0;
        }
    }

    /** An assignment of topic -> partitions at {@code version} (clamped to what kafka-clients writes). */
    static byte[] assignment(Map<String, List<Integer>> partitions, short version) {
        List<TopicPartition> tps = new ArrayList<>();
        partitions.forEach((topic, ps) -> ps.forEach(p -> tps.add(new TopicPartition(topic, p))));
        short v = (short) Math.max(ConsumerProtocolAssignment.LOWEST_SUPPORTED_VERSION, Math.min(version,
                ConsumerProtocolAssignment.HIGHEST_SUPPORTED_VERSION));
        return bytes(ConsumerProtocol.serializeAssignment(new Assignment(tps), v));
    }

    /** topic -> sorted partitions of an encoded assignment; empty when it is empty or undecodable. */
    static SortedMap<String, List<Integer>> partitions(byte[] assignment) {
        SortedMap<String, List<Integer>> out = new TreeMap<>();
        if (assignment.length == 0) {
            return out;
        }
        try {
            for (TopicPartition tp : ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(assignment))
                    .partitions()) {
                out.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
        } catch (SchemaException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            return new TreeMap<>();
        }
        out.replaceAll((t, ps) -> ps.stream().sorted().toList());
        return out;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
