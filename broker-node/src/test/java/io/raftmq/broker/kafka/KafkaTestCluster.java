package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;

import io.raftmq.broker.BrokerApi;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.RaftmqServer;
import io.raftmq.node.TestBrokerClient;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.replication.ReplicaManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Three combined nodes in this JVM shared by every Kafka handler test class of a run (started by
 * the first class that asks, stopped when the run ends), with helpers to create topics and find
 * who serves a partition. Nodes run without a Kafka listener: handlers are called in process.
 *
 * <p>Test-thread only. Tests use their own topics, so they do not see each other's records.
 */
final class KafkaTestCluster implements ExtensionContext.Store.CloseableResource {
    static final int NODES = 3;

    /** Resolves a {@link KafkaTestCluster} parameter (e.g. of a {@code @BeforeAll} method). */
    static final class Resolver implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == KafkaTestCluster.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .getOrComputeIfAbsent(KafkaTestCluster.class, k -> new KafkaTestCluster(), KafkaTestCluster.class);
        }
    }

    private final Path dir;
    private final InProcessCluster cluster;
    private final TestBrokerClient client;

    private KafkaTestCluster() {
        try {
            dir = Files.createTempDirectory("kafka-handlers");
            cluster = new InProcessCluster(NODES, dir, Map.of("kafka.listener", "none",
                    "replica.lag.time.max.ms", "2000"));
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        } catch (Exception e) {
            throw new IllegalStateException("cluster did not start", e);
        }
        client = new TestBrokerClient(cluster.addresses());
    }

    InProcessCluster cluster() {
        return cluster;
    }

    BrokerApi api(int node) {
        return server(node).broker().api();
    }

    private RaftmqServer server(int node) {
        RaftmqServer server = cluster.node(node);
        if (server == null) {
            throw new IllegalStateException("node " + node + " is not running");
        }
        return server;
    }

    /** A new dispatcher (with its own fetch session cache) on node {@code node}. */
    KafkaApis apis(int node) {
        return new KafkaApis(api(node), server(node).broker().groupCoordinator());
    }

    /** Creates the topic and waits until the leader of each partition serves it. */
    void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        client.createTopic(name, partitions, replicationFactor, configs);
        for (int p = 0; p < partitions; p++) {
            awaitServed(new TopicPartition(name, p));
        }
    }

    /** Waits until the partition's leader, as its metadata says, answers for it. */
    void awaitServed(TopicPartition tp) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                .until(() -> api(leader(tp)).listOffset(tp, ReplicaManager.LATEST_TIMESTAMP, -1).error().isSuccess());
    }

    /** The partition's leader in the metadata of a running node. */
    int leader(TopicPartition tp) {
        return partition(tp).leader();
    }

    PartitionRegistration partition(TopicPartition tp) {
        return topic(tp.topic()).partition(tp.partition());
    }

    TopicImage topic(String name) {
        for (int n = 1; n <= NODES; n++) {
            if (cluster.node(n) != null && api(n).image().topic(name) != null) {
                return api(n).image().topic(name);
            }
        }
        throw new IllegalStateException("no running node knows topic " + name);
    }

    Uuid topicId(String name) {
        return KafkaIds.toKafka(topic(name).id());
    }

    /** The name of the topic with this id. */
    String topicName(Uuid id) {
        for (int n = 1; n <= NODES; n++) {
            if (cluster.node(n) != null) {
                TopicImage topic = api(n).image().topic(KafkaIds.fromKafka(id));
                if (topic != null) {
                    return topic.name();
                }
            }
        }
        throw new IllegalStateException("no running node knows topic id " + id);
    }

    /** Produces with acks=all to the partition's leader over Kafka Produce v11; the base offset. */
    long produce(TopicPartition tp, MemoryRecords records) {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName(tp.topic());
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(tp.partition())
                .setRecords(records));
        topics.add(topic);
        ProduceResponseData response = KafkaWire.call(apis(leader(tp)), ApiKeys.PRODUCE, (short) 11,
                new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(topics));
        ProduceResponseData.PartitionProduceResponse p = response.responses().iterator().next().partitionResponses()
                .get(0);
        if (p.errorCode() != Errors.NONE.code()) {
            throw new IllegalStateException("produce to " + tp + " failed: " + p);
        }
        return p.baseOffset();
    }

    /** A running node that does not lead the partition. */
    int notLeader(TopicPartition tp) {
        int leader = leader(tp);
        for (int n = 1; n <= NODES; n++) {
            if (n != leader && cluster.node(n) != null) {
                return n;
            }
        }
        throw new IllegalStateException("no running node other than the leader " + leader);
    }

    @Override
    public void close() throws IOException {
        client.close();
        cluster.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        cluster.assertNoFaults();
    }
}
