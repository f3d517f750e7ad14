package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.ScramUsersFixture;
import io.raftmq.protocol.metadata.ScramMechanism;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against a cluster whose gRPC port is SASL_SSL: --command-config carries Kafka's
 * security.protocol, sasl.mechanism, sasl.jaas.config and ssl.truststore.* settings; a wrong
 * password is refused with the broker's message and exit code 1.
 */
class SaslCommandConfigTest {
    private static final TestCertificates CERTS = TestCertificates.shared();

    @Test
    void topicsCommandsWorkOverSaslSslWithCommandConfig(@TempDir Path dir) throws Exception {
        try (InProcessCluster cluster = new InProcessCluster(3, dir.resolve("cluster"),
                Map.of("grpc.listener.security.protocol", "SASL_SSL"))) {
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            ScramUsersFixture.create(cluster, "admin", "admin-secret", ScramMechanism.SCRAM_SHA_512);
            String bootstrap = cluster.bootstrapServers();
            Path clientConfig = config(dir.resolve("client.properties"), "admin-secret");

            CliRun created = CliRun.run("", "topics", "--create", "--topic", "over-sasl", "--partitions", "2",
                    "--replication-factor", "3", "--bootstrap-server", bootstrap,
                    "--command-config", clientConfig.toString());
            assertEquals(0, created.exitCode(), created.toString());
            CliRun listed = CliRun.run("", "topics", "--list", "--bootstrap-server", bootstrap,
                    "--command-config", clientConfig.toString());
            assertEquals(0, listed.exitCode(), listed.toString());
            assertTrue(listed.out().contains("over-sasl"), listed.toString());

            CliRun refused = CliRun.run("", "topics", "--list", "--bootstrap-server", bootstrap,
                    "--command-config", config(dir.resolve("wrong.properties"), "wrong").toString());
            assertEquals(1, refused.exitCode(), refused.toString());
            assertTrue(refused.err().contains("authentication failed for user admin"), refused.toString());
        }
    }

    private static Path config(Path file, String password) throws Exception {
        Files.writeString(file, String.join("\n",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"admin\" password=\"" + password + "\";",
                "ssl.truststore.location=" + CERTS.truststore(),
                "ssl.truststore.password=" + CERTS.password()) + "\n");
        return file;
    }
}
