package io.raftmq.metadata.jraft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.config.Config;
import io.raftmq.common.config.ConfigException;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.metadata.log.Voter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class JRaftOptionsTest {
    private static final List<Voter> VOTERS = Voter.parseList("1@127.0.0.1:9095,2@127.0.0.1:9195");

    private static JRaftOptions options(int nodeId, int certificateOf) {
        NodeTls tls = NodeTls.load(new Config(TestCertificates.shared().nodeConfig(certificateOf), NodeTls.KEYS));
        return new JRaftOptions(nodeId, VOTERS, Path.of("/unused"), 300, 300, 600, 0, true, tls);
    }

    @Test
    void aVoterRunsWithItsOwnCertificate() {
        assertEquals(1, options(1, 1).nodeId());
    }

    @Test
    void anotherNodesCertificateIsRefusedAtStart() {
        ConfigException e = assertThrows(ConfigException.class, () -> options(1, 2));
        assertTrue(e.getMessage().contains("ssl.keystore.location") && e.getMessage().contains("CN=node-1"),
                e.getMessage());
    }
}
