package io.raftmq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockFaultHandler;
import io.raftmq.metadata.image.MetadataDelta;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.protocol.controller.BrokerDescription;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import io.raftmq.protocol.metadata.ClusterIdRecord;
import io.raftmq.protocol.metadata.MetadataRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirIdentityTest {
    private static final String CLUSTER = "5Jd1nMEsQhGvvbnY5-UcXg";

    @TempDir
    Path dataDir;

    private final MockFaultHandler faults = new MockFaultHandler("test");
    private final AtomicInteger probes = new AtomicInteger();

    private DataDirIdentity identity(int nodeId) {
        return new DataDirIdentity(nodeId, dataDir, faults);
    }

    private VoterProbe answering(DescribeClusterResponse... answers) {
        return () -> {
            probes.incrementAndGet();
            return List.of(answers);
        };
    }

    private static DescribeClusterResponse cluster(String clusterId, int... brokers) {
        DescribeClusterResponse.Builder b = DescribeClusterResponse.newBuilder().setClusterId(clusterId)
                .setAnsweredBy(2);
        for (int id : brokers) {
            b.addBrokers(BrokerDescription.newBuilder().setBrokerId(id));
        }
        return b.build();
    }

    private static MetadataImage imageOf(String clusterId) {
        return MetadataDelta.replayBatch(MetadataImage.EMPTY, 0, List.of(MetadataRecord.newBuilder()
                .setClusterId(ClusterIdRecord.newBuilder().setClusterId(clusterId)).build()));
    }

    private Path metadataDir() {
        return dataDir.resolve("metadata");
    }

    @Test
    void aFirstStartWritesTheNodeIdAndTheFirstClusterIdSeen() throws Exception {
        DataDirIdentity identity = identity(1);
        identity.verifyAtStart(true, true, metadataDir(), false, answering(cluster("")));
        assertEquals(new MetaProperties(1, null), MetaProperties.read(dataDir));

        identity.onImage(MetadataImage.EMPTY);
        identity.onImage(imageOf(CLUSTER));
        assertEquals(new MetaProperties(1, CLUSTER), MetaProperties.read(dataDir));
        faults.assertNoFaults();
    }

    @Test
    void anotherNodesDirectoryIsRefused() throws Exception {
        new MetaProperties(2, CLUSTER).write(dataDir);
        Files.createDirectories(metadataDir().resolve("log"));

        DataDirIdentity.RefusedException e = assertThrows(DataDirIdentity.RefusedException.class,
                () -> identity(1).verifyAtStart(true, true, metadataDir(), true, answering()));
        assertTrue(e.getMessage().contains("holds the data of node 2 (meta.properties), but node.id is 1"),
                e.getMessage());
    }

    @Test
    void aVoterWhoseMetadataDirectoryWasLostIsRefusedUnlessAllowed() throws Exception {
        new MetaProperties(1, CLUSTER).write(dataDir);

        DataDirIdentity.RefusedException e = assertThrows(DataDirIdentity.RefusedException.class,
                () -> identity(1).verifyAtStart(true, true, metadataDir(), false, answering()));
        assertTrue(e.getMessage().contains("was a voter of cluster " + CLUSTER), e.getMessage());
        assertTrue(e.getMessage().contains("metadata.recovery.allow.empty=true"), e.getMessage());

        identity(1).verifyAtStart(true, true, metadataDir(), true, answering());
        // A broker-only node keeps no Raft state: nothing to lose.
        identity(1).verifyAtStart(false, true, metadataDir(), false, answering());
    }

    @Test
    void anEmptyVoterOfAClusterThatKnowsItIsRefusedUnlessAllowed() throws Exception {
        DataDirIdentity.RefusedException e = assertThrows(DataDirIdentity.RefusedException.class,
                () -> identity(1).verifyAtStart(true, true, metadataDir(), false,
                        answering(cluster(""), cluster(CLUSTER, 1, 2, 3))));
        assertTrue(e.getMessage().contains("already form cluster " + CLUSTER + " in which broker 1 is registered"),
                e.getMessage());
        assertEquals(null, MetaProperties.read(dataDir), "a refused start writes nothing");

        identity(1).verifyAtStart(true, true, metadataDir(), true, answering(cluster(CLUSTER, 1, 2, 3)));
        assertEquals(new MetaProperties(1, null), MetaProperties.read(dataDir));
    }

    @Test
    void aControllerOnlyNodeIsRefusedByAnyFormedCluster() {
        assertThrows(DataDirIdentity.RefusedException.class, () -> identity(1).verifyAtStart(true, false,
                metadataDir(), false, answering(cluster(CLUSTER, 4, 5))));
    }

    @Test
    void anEmptyVoterStartsInANewClusterOrOneThatNeverSawIt() throws Exception {
        identity(1).verifyAtStart(true, true, metadataDir(), false, answering()); // nobody up yet
        Files.delete(dataDir.resolve(MetaProperties.FILE));
        identity(1).verifyAtStart(true, true, metadataDir(), false, answering(cluster(""), cluster("")));
        Files.delete(dataDir.resolve(MetaProperties.FILE));
        // The others formed the cluster before this node's first start: its broker never registered.
        identity(3).verifyAtStart(true, true, metadataDir(), false, answering(cluster(CLUSTER, 1, 2)));
        assertEquals(new MetaProperties(3, null), MetaProperties.read(dataDir));
    }

    @Test
    void aDirectoryFromBeforeMetaPropertiesIsAdoptedWithoutAskingTheVoters() throws Exception {
        Files.createDirectories(metadataDir().resolve("log"));
        identity(1).verifyAtStart(true, true, metadataDir(), false, answering(cluster(CLUSTER, 1)));
        assertEquals(0, probes.get());
        assertEquals(new MetaProperties(1, null), MetaProperties.read(dataDir));
    }

    @Test
    void anImageOfAnotherClusterIsAFault() throws Exception {
        new MetaProperties(1, CLUSTER).write(dataDir);
        Files.createDirectories(metadataDir().resolve("log"));
        DataDirIdentity identity = identity(1);
        identity.verifyAtStart(true, true, metadataDir(), false, answering());

        identity.onImage(imageOf("AAAAAAAAAAAAAAAAAAAAAA"));
        assertEquals(1, faults.faults().size());
        assertTrue(faults.faults().get(0).getMessage().contains("belongs to cluster " + CLUSTER
                + " (meta.properties), but the metadata quorum is cluster AAAAAAAAAAAAAAAAAAAAAA"),
                faults.faults().get(0).getMessage());
        assertEquals(new MetaProperties(1, CLUSTER), MetaProperties.read(dataDir));
    }
}
