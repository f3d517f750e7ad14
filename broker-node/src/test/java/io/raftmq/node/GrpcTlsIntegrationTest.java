package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.BindableService;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.HostPort;
import io.raftmq.common.Uuids;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.BrokerState;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.node.grpc.NodeOnlyMethodsAccess;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.Uuid;
import io.raftmq.protocol.controller.AllocateProducerIdsRequest;
import io.raftmq.protocol.controller.AlterPartitionRequest;
import io.raftmq.protocol.controller.BrokerHeartbeatRequest;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.PartitionIsrChange;
import io.raftmq.protocol.controller.RegisterBrokerRequest;
import io.raftmq.protocol.controller.WatchMetadataRequest;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.replica.ReplicaFetchPartition;
import io.raftmq.protocol.replica.ReplicaFetchRequest;
import io.raftmq.protocol.replica.ReplicaFetchResponse;
import io.raftmq.protocol.replica.ReplicaGrpc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes with {@code grpc.listener.security.protocol=SSL}: the nodes register, replicate and
 * watch metadata over TLS with their own certificates; a client certificate (CN=alice), a TLS
 * client without one, and a node claiming another broker's id are refused the node-only RPCs with
 * PERMISSION_DENIED and change nothing; a plaintext client cannot talk to the port.
 */
class GrpcTlsIntegrationTest {
    private static final TestCertificates CERTS = TestCertificates.shared();
    private static final String TOPIC = "tls-replicated";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    @TempDir
    static Path dir;
    private static InProcessCluster cluster;
    private static TestBrokerClient alice;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        // Slow timeouts: a loaded machine must not fence a broker or shrink an ISR while a test
        // checks that refused calls changed nothing.
        cluster = new InProcessCluster(3, dir, Map.of("grpc.listener.security.protocol", "SSL",
                "broker.session.timeout.ms", "6000", "broker.heartbeat.interval.ms", "200",
                "controller.election.timeout.ms", "1000", "replica.lag.time.max.ms", "30000"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(30));
        alice = new TestBrokerClient(cluster.addresses(), 10_000, tlsAs(CERTS.clientKeystore("alice")));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            if (cluster.node(1).broker().image().topic(TOPIC) == null) {
                alice.createTopic(TOPIC, 1, 3, Map.of("min.insync.replicas", "3"));
            }
            return true;
        });
        alice.awaitLeaders(TOPIC, 1, Duration.ofSeconds(30));
        alice.produce(TOPIC, 0, -1, List.of(bytes("before")), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopCluster() {
        if (alice != null) {
            alice.close();
        }
        if (cluster != null) {
            cluster.assertNoFaults();
            cluster.close();
        }
    }

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    @Test
    void nodesReplicateOverTlsAndAClientWithACertificateProducesAndReads() {
        // acks=all with min.insync.replicas=3: both followers fetched over TLS with their node certificates.
        long offset = alice.produce(TOPIC, 0, -1, List.of(bytes("over tls")), Duration.ofSeconds(30));
        List<Record> records = alice.readAll(TOPIC, 0, offset);
        assertEquals("over tls", new String(records.get(0).valueBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void aClientCertificateCannotActAsABroker() {
        ChannelCredentials credentials = tlsAs(CERTS.clientKeystore("alice"));
        State before = State.now();
        PartitionRegistration partition = before.partition;
        int leader = partition.leader();
        long leaderEpoch = before.brokerEpochs.get(leader);
        int follower = partition.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
        for (int node = 1; node <= 3; node++) {
            ControllerGrpc.ControllerBlockingStub controller = controller(node, credentials);
            assertDenied("BrokerHeartbeat", "User:CN=alice", () -> controller.brokerHeartbeat(
                    BrokerHeartbeatRequest.newBuilder().setBrokerId(leader).setBrokerEpoch(leaderEpoch)
                            .setMetadataOffset(Long.MAX_VALUE).setWantShutDown(true).build()));
            assertDenied("AlterPartition", "User:CN=alice", () -> controller.alterPartition(
                    AlterPartitionRequest.newBuilder().setBrokerId(leader).setBrokerEpoch(leaderEpoch)
                            .addPartitions(PartitionIsrChange.newBuilder().setTopicId(before.topicId)
                                    .setPartitionId(0).setLeaderEpoch(partition.leaderEpoch())
                                    .setPartitionEpoch(partition.partitionEpoch()).addNewIsr(leader))
                            .build()));
            assertDenied("RegisterBroker", "User:CN=alice", () -> controller.registerBroker(
                    RegisterBrokerRequest.newBuilder().setBrokerId(leader)
                            .setIncarnationId(Uuids.toProto(java.util.UUID.randomUUID())).build()));
            assertDenied("AllocateProducerIds", "User:CN=alice", () -> controller.allocateProducerIds(
                    AllocateProducerIdsRequest.newBuilder().setBrokerId(leader).setBrokerEpoch(leaderEpoch).build()));
            assertDenied("WatchMetadata", "User:CN=alice", () -> controller.watchMetadata(
                    WatchMetadataRequest.newBuilder().setFromOffset(-1).setWatcherId(-1).build()).hasNext());
            assertDenied("DescribeCluster", "User:CN=alice", () -> controller.describeCluster(
                    DescribeClusterRequest.getDefaultInstance()));
        }
        ReplicaGrpc.ReplicaBlockingStub replica = replica(leader, credentials);
        assertDenied("ReplicaFetch", "User:CN=alice", () -> replica.replicaFetch(
                replicaFetch(follower, before.brokerEpochs.get(follower), before.topicId, partition.leaderEpoch(),
                        before.highWatermark + 1_000)));

        State after = State.now();
        assertEquals(before.brokerEpochs, after.brokerEpochs, "broker epochs");
        assertEquals(before.partition, after.partition, "partition state (ISR, epochs)");
        assertEquals(before.highWatermark, after.highWatermark, "high watermark");
        assertTrue(after.noneShuttingDown, "no broker in controlled shutdown: " + after);
    }

    @Test
    void aTlsClientWithoutACertificateIsAnonymousToNodeOnlyMethodsAndServedOtherwise() {
        ChannelCredentials anonymous = TlsChannelCredentials.newBuilder().trustManager(trustOnly()).build();
        assertDenied("BrokerHeartbeat", "User:ANONYMOUS", () -> controller(1, anonymous).brokerHeartbeat(
                BrokerHeartbeatRequest.newBuilder().setBrokerId(1).build()));
        try (TestBrokerClient client = new TestBrokerClient(cluster.addresses(), 10_000, anonymous)) {
            assertEquals(3, client.refreshMetadata().getBrokersCount());
        }
    }

    @Test
    void aNodeCannotActAsAnotherBroker() {
        ChannelCredentials node2 = tlsAs(CERTS.nodeKeystore(2));
        State before = State.now();
        assertDenied("BrokerHeartbeat", "claims broker 3", () -> controller(1, node2).brokerHeartbeat(
                BrokerHeartbeatRequest.newBuilder().setBrokerId(3).setBrokerEpoch(before.brokerEpochs.get(3))
                        .setWantShutDown(true).build()));
        assertDenied("ReplicaFetch", "User:CN=node-2 (node 2)", () -> replica(before.partition.leader(), node2)
                .replicaFetch(replicaFetch(3, before.brokerEpochs.get(3), before.topicId,
                        before.partition.leaderEpoch(), before.highWatermark + 1_000)));
        State after = State.now();
        assertEquals(before.brokerEpochs, after.brokerEpochs, "broker epochs");
        assertEquals(before.highWatermark, after.highWatermark, "high watermark");
        assertTrue(after.noneShuttingDown, "no broker in controlled shutdown: " + after);
    }

    @Test
    void aNodeCannotOpenAFetchStreamAsAnotherBroker() throws Exception {
        State before = State.now();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<ReplicaFetchRequest> stream = ReplicaGrpc.newStub(channel(before.partition.leader(),
                tlsAs(CERTS.nodeKeystore(2)))).replicaFetchStream(new StreamObserver<ReplicaFetchResponse>() {
                    @Override
                    public void onNext(ReplicaFetchResponse value) {
                        ended.completeExceptionally(new AssertionError("answered: " + value));
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(Status.OK);
                    }
                });
        stream.onNext(replicaFetch(3, before.brokerEpochs.get(3), before.topicId, before.partition.leaderEpoch(),
                before.highWatermark + 1_000));
        Status status = ended.get(10, TimeUnit.SECONDS);
        assertEquals(Status.Code.PERMISSION_DENIED, status.getCode(), status.toString());
        assertTrue(status.getDescription().contains("ReplicaFetchStream claims broker 3"), status.toString());
        assertEquals(before.highWatermark, State.now().highWatermark, "high watermark");
    }

    @Test
    void aNodeDiallingNode3TakesOnlyNode3sCertificate() {
        NodeChannelCredentials node2 = NodeChannelCredentials.tls(NodeTls.load(new Config(CERTS.nodeConfig(2),
                NodeTls.KEYS)));
        DescribeClusterRequest request = DescribeClusterRequest.getDefaultInstance();
        // Each voter answers from the metadata it has applied, which may trail the registrations
        // for a moment: the TLS check is that the call is answered at all, the count that it is
        // answered by a working voter.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertEquals(3, controller(3, node2.toNode(3)).describeCluster(request).getBrokersCount()));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertEquals(3, controller(1, node2.toAnyNode()).describeCluster(request).getBrokersCount()));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> controller(1, node2.toNode(3)).describeCluster(request));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }

    @Test
    void aPlaintextClientCannotTalkToTheTlsPort() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> controller(1, InsecureChannelCredentials.create()).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .describeCluster(DescribeClusterRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }

    @Test
    void everyMethodANodeHostsIsClassifiedAndTheInternalServicesAreNodeOnly() {
        List<BindableService> hosted = new ArrayList<>(cluster.node(1).broker().services());
        hosted.addAll(cluster.node(1).controller().services());
        for (BindableService service : hosted) {
            for (var method : service.bindService().getServiceDescriptor().getMethods()) {
                assertTrue(NodeOnlyMethodsAccess.isClassified(method.getFullMethodName()),
                        method.getFullMethodName() + " is in neither list of NodeOnlyMethods");
            }
        }
        for (var service : List.of(ControllerGrpc.getServiceDescriptor(), ReplicaGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                assertTrue(!NodeOnlyMethodsAccess.isClientMethod(method.getFullMethodName()),
                        method.getFullMethodName() + " is an internal method but open to clients");
            }
        }
    }

    /** What a refused call must leave as it was. */
    private record State(Map<Integer, Long> brokerEpochs, Uuid topicId, PartitionRegistration partition,
            long highWatermark, boolean noneShuttingDown) {
        static State now() {
            MetadataImage image = cluster.node(1).broker().image();
            Map<Integer, Long> epochs = new HashMap<>();
            boolean noneShuttingDown = true;
            for (BrokerRegistration b : image.brokersSorted()) {
                epochs.put(b.id(), b.epoch());
                noneShuttingDown &= b.state() != BrokerState.CONTROLLED_SHUTDOWN;
            }
            TopicImage topic = image.topic(TOPIC);
            PartitionRegistration partition = topic.partition(0);
            long hw = cluster.node(partition.leader()).broker().replicaManager().highWatermark(TP);
            return new State(epochs, Uuids.toProto(topic.id()), partition, hw, noneShuttingDown);
        }
    }

    private static ReplicaFetchRequest replicaFetch(int replicaId, long brokerEpoch, Uuid topicId, int leaderEpoch,
            long fetchOffset) {
        return ReplicaFetchRequest.newBuilder().setReplicaId(replicaId).setBrokerEpoch(brokerEpoch)
                .setMaxBytes(1 << 20).addPartitions(ReplicaFetchPartition.newBuilder().setTopicId(topicId)
                        .setPartition(0).setFetchOffset(fetchOffset).setDurableOffset(fetchOffset)
                        .setCurrentLeaderEpoch(leaderEpoch).setLastFetchedEpoch(leaderEpoch)
                        .setPartitionMaxBytes(1 << 20))
                .build();
    }

    private static void assertDenied(String method, String principalText, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run, method);
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), method + ": " + e);
        String message = e.getStatus().getDescription();
        assertTrue(message.contains(method) && message.contains(principalText), method + ": " + message);
    }

    private ControllerGrpc.ControllerBlockingStub controller(int node, ChannelCredentials credentials) {
        return ControllerGrpc.newBlockingStub(channel(node, credentials)).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private ReplicaGrpc.ReplicaBlockingStub replica(int node, ChannelCredentials credentials) {
        return ReplicaGrpc.newBlockingStub(channel(node, credentials)).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private ManagedChannel channel(int node, ChannelCredentials credentials) {
        HostPort address = cluster.addresses().get(node - 1);
        ManagedChannel channel = NettyChannelBuilder.forAddress(address.host(), address.port(), credentials).build();
        channels.add(channel);
        return channel;
    }

    /** TLS presenting {@code keystore}'s certificate and trusting the test CA. */
    static ChannelCredentials tlsAs(Path keystore) {
        NodeTls tls = NodeTls.load(new Config(CERTS.storeConfig(keystore), NodeTls.KEYS));
        return TlsChannelCredentials.newBuilder().keyManager(tls.keyManagers().getKeyManagers())
                .trustManager(tls.trustManagers().getTrustManagers()).build();
    }

    /** The test CA's trust, without a certificate of one's own. */
    private static javax.net.ssl.TrustManager[] trustOnly() {
        return NodeTls.load(new Config(CERTS.storeConfig(CERTS.clientKeystore("alice")), NodeTls.KEYS))
                .trustManagers().getTrustManagers();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
