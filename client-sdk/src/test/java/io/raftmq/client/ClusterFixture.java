package io.raftmq.client;

import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A three-node in-process cluster for the SDK's integration tests, with its bootstrap string. */
final class ClusterFixture implements AutoCloseable {
    final InProcessCluster cluster;
    final String bootstrap;

    ClusterFixture(Path dir) throws Exception {
        this(dir, Map.of("replica.lag.time.max.ms", "2000"));
    }

    /** @param settings every node's settings (e.g. the gRPC port's security protocol) */
    ClusterFixture(Path dir, Map<String, String> settings) throws Exception {
        cluster = new InProcessCluster(3, dir, settings);
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        bootstrap = cluster.bootstrapServers();
    }

    Admin admin() {
        return new Admin(AdminConfig.builder().bootstrapServers(bootstrap).defaultApiTimeoutMs(30_000).build());
    }

    ProducerConfig.Builder producerConfig() {
        return ProducerConfig.builder().bootstrapServers(bootstrap).lingerMs(2);
    }

    ConsumerConfig.Builder consumerConfig() {
        return ConsumerConfig.builder().bootstrapServers(bootstrap).autoOffsetReset("earliest")
                .fetchMaxWaitMs(100);
    }

    @Override
    public void close() {
        cluster.close();
        cluster.assertNoFaults();
    }
}
