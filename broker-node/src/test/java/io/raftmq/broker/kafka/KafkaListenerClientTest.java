package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.StubKafkaHandler.api;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.FreePorts;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Kafka client (kafka-clients' Admin) against the listener: it negotiates versions with
 * ApiVersions (its newest version first) and completes calls answered by a stub serving only
 * Metadata, whose one broker is the listener itself.
 */
@Timeout(60)
class KafkaListenerClientTest {
    private static final String CLUSTER_ID = "stub-cluster-id-0000";

    @Test
    void adminCompletesTheHandshakeAndItsCalls() throws Exception {
        int port = FreePorts.next();
        StubKafkaHandler stub = new StubKafkaHandler(List.of(api(ApiKeys.METADATA, 0, 13)),
                request -> CompletableFuture.completedFuture(KafkaResponse.send(metadata(request, port))));
        KafkaListener.Options options = new KafkaListener.Options(1, "127.0.0.1", port, 100 * 1024 * 1024, 60_000, 5,
                1);
        try (KafkaListener listener = new KafkaListener(options, stub)) {
            listener.start();
            InetSocketAddress address = listener.boundAddress();
            Map<String, Object> config = Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + address.getPort(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
            try (Admin admin = Admin.create(config)) {
                assertEquals(CLUSTER_ID, admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS));
                Collection<Node> nodes = admin.describeCluster().nodes().get(20, TimeUnit.SECONDS);
                assertEquals(List.of(new Node(1, "127.0.0.1", address.getPort())), List.copyOf(nodes));
                assertTrue(admin.listTopics().names().get(20, TimeUnit.SECONDS).isEmpty());
                admin.close(Duration.ofSeconds(5));
            }
            assertEquals(List.of(), stub.breaches());
            assertTrue(stub.seenCount() > 0);
            assertEquals(0, listener.stats().connectionsClosedForBadInput());
        }
    }

    /** One broker (this listener), no topics: unknown for each topic named. */
    private static MetadataResponseData metadata(KafkaRequest request, int port) {
        MetadataResponseData answer = new MetadataResponseData().setClusterId(CLUSTER_ID).setControllerId(1);
        answer.brokers().add(new MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1").setPort(port));
        List<MetadataRequestData.MetadataRequestTopic> topics = ((MetadataRequestData) request.body()).topics();
        if (topics != null) {
            for (MetadataRequestData.MetadataRequestTopic topic : topics) {
                answer.topics().add(new MetadataResponseTopic().setName(topic.name())
                        .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
            }
        }
        return answer;
    }
}
