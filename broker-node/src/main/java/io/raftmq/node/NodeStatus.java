package io.raftmq.node;

import io.raftmq.broker.BrokerServer;
import io.raftmq.broker.ClientTraffic;
import io.raftmq.broker.kafka.KafkaListenerStats;
import io.raftmq.metadata.client.BrokerLifecycleManager;
import io.raftmq.metadata.image.ControllerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.node.ControllerServer;
import io.raftmq.replication.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a node says about itself over HTTP: whether it is ready (the health check of a container
 * or load balancer) and a handful of Prometheus gauges.
 *
 * <p>Ready means every role it runs can do its work: a controller knows the quorum's leader (it
 * is part of a quorum that has one); a broker is registered and unfenced, and none of its
 * partition logs went offline after an I/O error ({@code offline_logs} names each with its cause).
 *
 * <p>Threads: any thread. Everything read is volatile or an immutable image, or takes a
 * partition's own short lock, so a request never waits on the node's work.
 */
final class NodeStatus {
    /** The answer to a health check; {@code json} describes the node in both cases. */
    record Health(boolean ready, String json) {}

    private final NodeConfig config;
    private final ControllerServer controller;
    private final BrokerServer broker;

    /** @param controller the controller role, or null; @param broker the broker role, or null */
    NodeStatus(NodeConfig config, ControllerServer controller, BrokerServer broker) {
        this.config = config;
        this.controller = controller;
        this.broker = broker;
    }

    Health health() {
        List<String> problems = new ArrayList<>();
        LeaderAndEpoch quorumLeader = null;
        if (controller != null) {
            quorumLeader = controller.loader().leader();
            if (!quorumLeader.hasLeader()) {
                problems.add("the metadata quorum has no known leader");
            }
        }
        BrokerLifecycleManager.State brokerState = null;
        Map<String, String> offlineLogs = Map.of();
        if (broker != null) {
            brokerState = broker.lifecycle().state();
            offlineLogs = broker.offlineLogs();
            if (!offlineLogs.isEmpty()) {
                problems.add("the data directory failed: " + offlineLogs.size() + " partition log(s) offline after"
                        + " an I/O error (" + String.join(", ", offlineLogs.keySet()) + "); this broker's"
                        + " leaderships and ISR memberships were handed to other replicas; restart the node once the"
                        + " disk is fixed");
            }
            if (brokerState != BrokerLifecycleManager.State.RUNNING) {
                problems.add("broker is " + describe(brokerState));
            }
        }
        StringBuilder json = new StringBuilder("{");
        json.append("\"status\":\"").append(problems.isEmpty() ? "ok" : "unavailable").append('"');
        if (!problems.isEmpty()) {
            json.append(",\"reason\":\"").append(escape(String.join("; ", problems))).append('"');
        }
        json.append(",\"node_id\":").append(config.nodeId());
        json.append(",\"roles\":[").append(config.roles().stream().map(r -> "\"" + r + "\"")
                .collect(Collectors.joining(","))).append(']');
        // Where clients reach this node, as it advertises it: gRPC (our SDK and CLI) and Kafka.
        json.append(",\"listeners\":{\"grpc\":\"").append(escape(config.advertisedListener().toString())).append('"');
        if (config.kafkaAdvertisedListener() != null) {
            json.append(",\"kafka\":\"").append(escape(config.kafkaAdvertisedListener().toString())).append('"');
        }
        json.append('}');
        if (brokerState != null) {
            json.append(",\"broker_state\":\"").append(brokerState.name().toLowerCase(java.util.Locale.ROOT))
                    .append('"');
            json.append(",\"broker_epoch\":").append(broker.lifecycle().brokerEpoch());
            json.append(",\"offline_logs\":[");
            boolean first = true;
            for (Map.Entry<String, String> e : offlineLogs.entrySet()) {
                json.append(first ? "" : ",").append("{\"log\":\"").append(escape(e.getKey()))
                        .append("\",\"cause\":\"").append(escape(e.getValue())).append("\"}");
                first = false;
            }
            json.append(']');
        }
        json.append(",\"active_controller\":").append(activeControllerId(quorumLeader));
        json.append(",\"metadata_offset\":").append(metadataOffset());
        json.append('}');
        return new Health(problems.isEmpty(), json.toString());
    }

    private static String describe(BrokerLifecycleManager.State state) {
        return switch (state) {
            case REGISTERING -> "not registered yet";
            case FENCED -> "registered but fenced (catching up with metadata, or its session expired)";
            case RUNNING -> "running";
            case SHUTTING_DOWN -> "shutting down";
            case STOPPED -> "stopped";
        };
    }

    /** The active controller as this node knows it: the quorum leader, else the last announcement; -1 if none. */
    private int activeControllerId(LeaderAndEpoch quorumLeader) {
        if (quorumLeader != null) {
            return quorumLeader.leaderId();
        }
        ControllerRegistration announced = broker.image().controller();
        return announced == null ? -1 : announced.controllerId();
    }

    /** The newest metadata offset any role of this node has applied. */
    private long metadataOffset() {
        long offset = -1;
        if (controller != null) {
            offset = Math.max(offset, controller.loader().image().offset());
        }
        if (broker != null) {
            offset = Math.max(offset, broker.replicaManager().appliedMetadataOffset());
        }
        return offset;
    }

    /** Prometheus text exposition format (version 0.0.4). */
    String metrics() {
        StringBuilder out = new StringBuilder();
        gauge(out, "raftmq_metadata_offset", "Newest metadata log offset this node has applied.", metadataOffset());
        if (controller != null) {
            LeaderAndEpoch leader = controller.loader().leader();
            gauge(out, "raftmq_controller_active", "1 when this node is the active controller.",
                    controller.controller().isActive() ? 1 : 0);
            gauge(out, "raftmq_metadata_quorum_leader", "Node id of the metadata quorum leader, -1 when unknown.",
                    leader.leaderId());
            gauge(out, "raftmq_metadata_quorum_epoch", "Epoch (Raft term) of the metadata quorum leader.",
                    leader.epoch());
        }
        if (broker != null) {
            BrokerLifecycleManager.State state = broker.lifecycle().state();
            gauge(out, "raftmq_broker_fenced", "1 unless this broker is registered and unfenced.",
                    state == BrokerLifecycleManager.State.RUNNING ? 0 : 1);
            int hosted = 0;
            int led = 0;
            for (Partition p : broker.replicaManager().partitions()) {
                hosted++;
                if (p.isLeader()) {
                    led++;
                }
            }
            gauge(out, "raftmq_partitions", "Partition replicas this broker hosts.", hosted);
            gauge(out, "raftmq_offline_logs", "Partition logs offline after an I/O error (the data directory failed).",
                    broker.offlineLogs().size());
            gauge(out, "raftmq_partitions_led", "Partitions this broker leads.", led);
            gauge(out, "raftmq_under_replicated_partitions",
                    "Partitions led by this broker whose ISR is smaller than their replica set, per applied metadata.",
                    underReplicatedLedBy(broker.image(), config.nodeId()));
            ClientTraffic.Totals traffic = broker.api().traffic().totals();
            counter(out, "raftmq_produce_requests_total", "Produce requests from clients (gRPC and Kafka).",
                    traffic.produceRequests());
            counter(out, "raftmq_produce_bytes_total", "Record batch bytes of client produce requests sent to the log.",
                    traffic.produceBytes());
            counter(out, "raftmq_produce_records_total", "Records of client produce requests sent to the log.",
                    traffic.produceRecords());
            counter(out, "raftmq_fetch_requests_total", "Fetch requests from consumers (gRPC and Kafka; not replicas).",
                    traffic.fetchRequests());
            counter(out, "raftmq_fetch_bytes_total", "Record batch bytes returned to consumers.",
                    traffic.fetchBytes());
            counter(out, "raftmq_fetch_records_total", "Records returned to consumers (by offset span).",
                    traffic.fetchRecords());
            KafkaListenerStats kafka = broker.kafkaStats();
            if (kafka != null) {
                gauge(out, "raftmq_kafka_connections", "Open connections of the Kafka listener.",
                        kafka.connectionsOpen());
                counter(out, "raftmq_kafka_connections_accepted_total", "Connections the Kafka listener accepted.",
                        kafka.connectionsAccepted());
                counter(out, "raftmq_kafka_connections_refused_total", "Kafka connections closed for bad input"
                        + " (a size out of bounds, a request that does not parse, an API or version not served).",
                        kafka.connectionsClosedForBadInput());
                counter(out, "raftmq_kafka_bytes_in_total", "Bytes read from Kafka clients.", kafka.bytesIn());
                counter(out, "raftmq_kafka_bytes_out_total", "Bytes written to Kafka clients.", kafka.bytesOut());
                out.append("# HELP raftmq_kafka_requests_total Kafka requests handled, by API.\n");
                out.append("# TYPE raftmq_kafka_requests_total counter\n");
                kafka.requestsByApi().forEach((api, n) -> out.append("raftmq_kafka_requests_total{api=\"")
                        .append(api).append("\"} ").append(n).append('\n'));
                counter(out, "raftmq_kafka_requests_failed_total", "Kafka requests the broker failed to handle"
                        + " (the connection was closed; the log says why).", kafka.requestsFailed());
                counter(out, "raftmq_kafka_authentications_failed_total", "Kafka connections closed because"
                        + " authentication failed (TLS handshake or SASL exchange; the log says why).",
                        kafka.authenticationsFailed());
            }
        }
        return out.toString();
    }

    private static int underReplicatedLedBy(MetadataImage image, int brokerId) {
        int count = 0;
        for (TopicImage topic : image.topics()) {
            for (PartitionRegistration p : topic.partitions()) {
                if (p.leader() == brokerId && p.isr().size() < p.replicas().size()) {
                    count++;
                }
            }
        }
        return count;
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c < 0x20 ? ' ' : c);
            }
        }
        return out.toString();
    }
}
