package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.tls.TestCertificates;
import io.raftmq.node.InProcessCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a cluster whose gRPC port speaks TLS: --command-config carries the client's TLS settings. */
class TlsCommandConfigTest {
    private static final TestCertificates CERTS = TestCertificates.shared();

    @Test
    void topicsCommandsWorkOverMutualTlsWithCommandConfig(@TempDir Path dir) throws Exception {
        try (InProcessCluster cluster = new InProcessCluster(3, dir.resolve("cluster"),
                Map.of("grpc.listener.security.protocol", "SSL"))) {
            cluster.startAll();
            cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
            String bootstrap = cluster.bootstrapServers();
            Path clientConfig = dir.resolve("client.properties");
            Files.writeString(clientConfig, String.join("\n",
                    "security.protocol=SSL",
                    "ssl.truststore.location=" + CERTS.truststore(),
                    "ssl.truststore.password=" + CERTS.password(),
                    "ssl.keystore.location=" + CERTS.clientKeystore("admin"),
                    "ssl.keystore.password=" + CERTS.password()) + "\n");

            CliRun created = CliRun.run("", "topics", "--create", "--topic", "over-tls", "--partitions", "2",
                    "--replication-factor", "3", "--bootstrap-server", bootstrap,
                    "--command-config", clientConfig.toString());
            assertEquals(0, created.exitCode(), created.toString());
            CliRun listed = CliRun.run("", "topics", "--list", "--bootstrap-server", bootstrap,
                    "--command-config", clientConfig.toString());
            assertEquals(0, listed.exitCode(), listed.toString());
            assertTrue(listed.out().contains("over-tls"), listed.toString());

        }
    }
}
