package io.raftmq.metadata.jraft.rpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.rpc.CliRequests;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.raftmq.common.tls.TestCertificates;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.log.LeaderAndEpoch;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.node.TestBroker;
import io.raftmq.metadata.node.TestQuorum;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Raft port of a real 3-voter quorum: voters elect and commit over mutual TLS; anything that is
 * not a voter (no TLS, no client certificate, another CA, CN=node-9, CN=alice, an expired node
 * certificate) can neither append nor reconfigure; a voter cannot pose as another; JRaft's
 * administrative requests are not served even to a voter.
 */
@Timeout(120)
class RaftTransportSecurityTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String GROUP = "raftmq-metadata";

    @TempDir
    Path dir;

    private TestQuorum quorum;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeEach
    void startQuorum() throws Exception {
        quorum = TestQuorum.start(3, dir.resolve("quorum"));
        quorum.awaitActiveController(WAIT);
        // The new controller's first records committed on every voter: election and commit over TLS.
        await().atMost(WAIT).until(() -> quorum.voters().stream()
                .allMatch(v -> v.server.loader().image().clusterId() != null
                        && v.server.loader().image().controller() != null));
    }

    @AfterEach
    void tearDown() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (quorum != null) {
            quorum.close();
            quorum.assertNoFaults();
        }
    }

    @Test
    void votersRunOnTheTlsTransportAndNoBoltThreadExists() {
        assertInstanceOf(TlsRaftRpcFactory.class, RpcFactoryHelper.rpcFactory());
        Set<String> boltThreads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("Rpc-netty") || name.startsWith("bolt-"))
                .collect(Collectors.toSet());
        assertEquals(Set.of(), boltThreads);
        assertEquals(1, quorum.voters().stream().map(v -> v.server.loader().image().clusterId()).distinct().count());
    }

    @Test
    void nonVotersCanNeitherAppendNorReconfigure() throws Exception {
        TestCertificates otherCa = TestCertificates.create(dir.resolve("other-ca"), "other-ca");
        TestCertificates ca = TestCertificates.shared();
        Map<String, Attacker> attackers = new TreeMap<>();
        attackers.put("plaintext", new Attacker(null, false));
        attackers.put("TLS without a client certificate", new Attacker(null, true));
        attackers.put("node-2 certificate of another CA", new Attacker(otherCa.nodeKeystore(2), true));
        attackers.put("CN=node-9, not a voter", new Attacker(ca.nodeKeystore(9), true));
        attackers.put("client certificate CN=alice", new Attacker(ca.clientKeystore("alice"), true));
        attackers.put("expired node-2 certificate", new Attacker(ca.expiredKeystore("node-2"), true));

        TestQuorum.Voter leader = quorum.activeController().orElseThrow();
        TestQuorum.Voter follower = quorum.voters().stream().filter(v -> v != leader).findFirst().orElseThrow();
        Map<Integer, LeaderAndEpoch> before = leaders();
        long epoch = before.get(leader.nodeId).epoch();

        for (Map.Entry<String, Attacker> entry : attackers.entrySet()) {
            for (TestQuorum.Voter target : List.of(follower, leader)) {
                ManagedChannel channel = entry.getValue().channelTo(target.raftPort);
                Status append = call(channel, RaftMessages.fullMethodName("AppendEntriesRequest"),
                        appendEntries(endpointOf(leader), target, epoch + 100), RpcRequests.AppendEntriesResponse
                                .getDefaultInstance());
                assertEquals(Status.Code.UNAVAILABLE, append.getCode(), entry.getKey() + ": " + append);
                Status vote = call(channel, RaftMessages.fullMethodName("RequestVoteRequest"),
                        requestVote(endpointOf(follower), target, epoch + 100),
                        RpcRequests.RequestVoteResponse.getDefaultInstance());
                assertEquals(Status.Code.UNAVAILABLE, vote.getCode(), entry.getKey() + ": " + vote);
                for (Status reconfigure : reconfigure(channel, leader)) {
                    assertEquals(Status.Code.UNAVAILABLE, reconfigure.getCode(), entry.getKey() + ": " + reconfigure);
                }
            }
        }
        assertQuorumUnchanged(before, leader);
    }

    @Test
    void aVoterCannotReconfigureTheQuorum() throws Exception {
        TestQuorum.Voter leader = quorum.activeController().orElseThrow();
        int voterId = leader.nodeId == 1 ? 2 : 1;
        Map<Integer, LeaderAndEpoch> before = leaders();
        ManagedChannel channel = new Attacker(TestCertificates.shared().nodeKeystore(voterId), true)
                .channelTo(leader.raftPort);
        for (Status status : reconfigure(channel, leader)) {
            assertEquals(Status.Code.UNIMPLEMENTED, status.getCode(), status.toString());
        }
        assertQuorumUnchanged(before, leader);
    }

    @Test
    void aVoterCannotPoseAsAnother() throws Exception {
        TestQuorum.Voter leader = quorum.activeController().orElseThrow();
        List<TestQuorum.Voter> followers = quorum.voters().stream().filter(v -> v != leader).toList();
        TestQuorum.Voter impostor = followers.get(0);
        TestQuorum.Voter posedAs = followers.get(1);
        Map<Integer, LeaderAndEpoch> before = leaders();
        long epoch = before.get(leader.nodeId).epoch();
        // The impostor's own valid certificate, claiming to be the other follower.
        TestQuorum.Voter target = leader;
        ManagedChannel channel = new Attacker(TestCertificates.shared().nodeKeystore(impostor.nodeId), true)
                .channelTo(target.raftPort);
        Status append = call(channel, RaftMessages.fullMethodName("AppendEntriesRequest"),
                appendEntries(endpointOf(posedAs), target, epoch + 100),
                RpcRequests.AppendEntriesResponse.getDefaultInstance());
        assertEquals(Status.Code.PERMISSION_DENIED, append.getCode(), append.toString());
        Status vote = call(channel, RaftMessages.fullMethodName("RequestVoteRequest"),
                requestVote(endpointOf(posedAs), target, epoch + 100),
                RpcRequests.RequestVoteResponse.getDefaultInstance());
        assertEquals(Status.Code.PERMISSION_DENIED, vote.getCode(), vote.toString());
        Status timeoutNow = call(channel, RaftMessages.fullMethodName("TimeoutNowRequest"),
                RpcRequests.TimeoutNowRequest.newBuilder().setGroupId(GROUP).setServerId(endpointOf(posedAs))
                        .setPeerId(endpointOf(target)).setTerm(epoch).build(),
                RpcRequests.TimeoutNowResponse.getDefaultInstance());
        assertEquals(Status.Code.PERMISSION_DENIED, timeoutNow.getCode(), timeoutNow.toString());
        assertQuorumUnchanged(before, leader);
    }

    @Test
    void aVoterSpeakingAsItselfIsServed() throws Exception {
        TestQuorum.Voter leader = quorum.activeController().orElseThrow();
        TestQuorum.Voter follower = quorum.voters().stream().filter(v -> v != leader).findFirst().orElseThrow();
        ManagedChannel channel = new Attacker(TestCertificates.shared().nodeKeystore(follower.nodeId), true)
                .channelTo(leader.raftPort);
        // A pre-vote of the follower at the current term: answered by JRaft (whether it is granted
        // is JRaft's call and depends on the leader's lease timing, so it is not asserted).
        long epoch = leaders().get(leader.nodeId).epoch();
        MethodDescriptor<Message, Message> method = method(RaftMessages.fullMethodName("RequestVoteRequest"),
                RpcRequests.RequestVoteResponse.getDefaultInstance());
        Message response = ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(5,
                TimeUnit.SECONDS), requestVote(endpointOf(follower), leader, epoch).toBuilder().setPreVote(true)
                .build());
        RpcRequests.RequestVoteResponse vote = (RpcRequests.RequestVoteResponse) response;
        assertFalse(vote.hasErrorResponse(), vote.toString());
        assertEquals(epoch, vote.getTerm());
    }

    @Test
    void aVoterBehindTheLeadersSnapshotsCatchesUpByCopyingOne() throws Exception {
        TestQuorum.Voter leader = quorum.activeController().orElseThrow();
        TestQuorum.Voter lagging = quorum.voters().stream().filter(v -> v != leader).findFirst().orElseThrow();
        quorum.stop(lagging.nodeId);
        try (TestBroker broker = new TestBroker(1, quorum.addresses(), 150, 900).start();
                ControllerClient client = quorum.client()) {
            await().atMost(WAIT).until(() -> leader.server.loader().image().isEligible(broker.brokerId));
            // Two snapshots with entries between: JRaft then drops its log up to the first one, so
            // the stopped voter can only catch up by InstallSnapshot and GetFile.
            createTopic(client, "before-first-snapshot");
            leader.server.log().snapshot().get(20, TimeUnit.SECONDS);
            createTopic(client, "before-second-snapshot");
            leader.server.log().snapshot().get(20, TimeUnit.SECONDS);
            createTopic(client, "after-the-snapshots");
        }
        quorum.start(lagging.nodeId);
        await().atMost(WAIT).until(() -> lagging.server.loader().image().topic("after-the-snapshots") != null);
        assertNotNull(lagging.server.loader().image().topic("before-first-snapshot"));
        // It took no snapshot itself (every 600 s): the one it has was copied from the leader.
        try (var files = Files.walk(lagging.dir.resolve("metadata").resolve("snapshot"))) {
            assertTrue(files.anyMatch(file -> file.getFileName().toString().equals("metadata.snapshot")));
        }
    }

    private static void createTopic(ControllerClient client, String name) throws Exception {
        CreateTopicsResponse response = client.createTopics(CreateTopicsRequest.newBuilder()
                .addTopics(CreatableTopic.newBuilder().setName(name).setNumPartitions(1).setReplicationFactor(1))
                .build()).get(20, TimeUnit.SECONDS);
        assertEquals(ErrorCode.NONE, response.getTopics(0).getError().getCode(), response.toString());
    }

    /** Each voter's view of the leader and epoch. */
    private Map<Integer, LeaderAndEpoch> leaders() {
        Map<Integer, LeaderAndEpoch> views = new TreeMap<>();
        quorum.voters().forEach(v -> views.put(v.nodeId, v.server.log().leaderAndEpoch()));
        return views;
    }

    /** No voter changed term or leader, the voter set is the same, and the quorum still commits. */
    private void assertQuorumUnchanged(Map<Integer, LeaderAndEpoch> before, TestQuorum.Voter leader)
            throws Exception {
        assertEquals(before, leaders());
        assertEquals(List.of(1, 2, 3), leader.server.log().raftVoterIds());
        // Still committing: the leader stops, another takes over and commits its first records on both
        // remaining voters.
        MetadataImage old = leader.server.loader().image();
        quorum.stop(leader.nodeId);
        TestQuorum.Voter next = quorum.awaitActiveController(WAIT);
        assertNotEquals(leader.nodeId, next.nodeId);
        await().atMost(WAIT).until(() -> quorum.voters().stream().filter(TestQuorum.Voter::running)
                .allMatch(v -> v.server.loader().image().controller() != null
                        && v.server.loader().image().controller().controllerId() == next.nodeId
                        && v.server.loader().image().offset() > old.offset()));
    }

    private List<Status> reconfigure(ManagedChannel channel, TestQuorum.Voter leader) {
        String leaderId = endpointOf(leader);
        String stranger = "127.0.0.1:1";
        List<Status> statuses = new ArrayList<>();
        List<Message[]> requests = List.of(
                new Message[] {CliRequests.AddPeerRequest.newBuilder().setGroupId(GROUP).setLeaderId(leaderId)
                        .setPeerId(stranger).build(), CliRequests.AddPeerResponse.getDefaultInstance()},
                new Message[] {CliRequests.ChangePeersRequest.newBuilder().setGroupId(GROUP).setLeaderId(leaderId)
                        .addNewPeers(stranger).build(), CliRequests.ChangePeersResponse.getDefaultInstance()},
                new Message[] {CliRequests.ResetPeerRequest.newBuilder().setGroupId(GROUP).setPeerId(leaderId)
                        .addNewPeers(stranger).build(), RpcRequests.ErrorResponse.getDefaultInstance()},
                new Message[] {CliRequests.TransferLeaderRequest.newBuilder().setGroupId(GROUP)
                        .setLeaderId(leaderId).setPeerId(stranger).build(),
                        RpcRequests.ErrorResponse.getDefaultInstance()});
        for (Message[] request : requests) {
            String simpleName = request[0].getClass().getSimpleName();
            // Under raftmq's method naming and under JRaft's own gRPC module's.
            statuses.add(call(channel, RaftMessages.fullMethodName(simpleName), request[0], request[1]));
            statuses.add(call(channel, MethodDescriptor.generateFullMethodName(request[0].getClass().getName(),
                    "_call"), request[0], request[1]));
        }
        return statuses;
    }

    private static RpcRequests.AppendEntriesRequest appendEntries(String serverId, TestQuorum.Voter target,
            long term) {
        return RpcRequests.AppendEntriesRequest.newBuilder().setGroupId(GROUP).setServerId(serverId)
                .setPeerId(endpointOf(target)).setTerm(term).setPrevLogTerm(0).setPrevLogIndex(0)
                .setCommittedIndex(0).build();
    }

    private static RpcRequests.RequestVoteRequest requestVote(String serverId, TestQuorum.Voter target, long term) {
        return RpcRequests.RequestVoteRequest.newBuilder().setGroupId(GROUP).setServerId(serverId)
                .setPeerId(endpointOf(target)).setTerm(term).setLastLogTerm(term).setLastLogIndex(1_000_000)
                .setPreVote(false).build();
    }

    private static String endpointOf(TestQuorum.Voter voter) {
        return "127.0.0.1:" + voter.raftPort;
    }

    private static Status call(ManagedChannel channel, String fullMethodName, Message request, Message responseType) {
        try {
            Message response = ClientCalls.blockingUnaryCall(channel, method(fullMethodName, responseType),
                    CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), request);
            assertNotNull(response);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    private static MethodDescriptor<Message, Message> method(String fullMethodName, Message responseType) {
        return MethodDescriptor.<Message, Message>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethodName)
                .setRequestMarshaller(ProtoUtils.marshaller(RpcRequests.PingRequest.getDefaultInstance()))
                .setResponseMarshaller(ProtoUtils.marshaller(responseType))
                .build();
    }

    /**
     * A process connecting to a Raft port: plaintext, or TLS (accepting any server) with the given
     * client keystore (none if null).
     */
    private final class Attacker {
        private final Path keystore;
        private final boolean tls;

        Attacker(Path keystore, boolean tls) {
            this.keystore = keystore;
            this.tls = tls;
        }

        ManagedChannel channelTo(int port) throws Exception {
            NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port);
            if (tls) {
                SslContextBuilder ssl = SslContextBuilder.forClient()
                        .trustManager(InsecureTrustManagerFactory.INSTANCE)
                        .protocols("TLSv1.3");
                if (keystore != null) {
                    KeyStore store = KeyStore.getInstance("PKCS12");
                    char[] password = TestCertificates.shared().password().toCharArray();
                    try (InputStream in = Files.newInputStream(keystore)) {
                        store.load(in, password);
                    }
                    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                    keys.init(store, password);
                    ssl.keyManager(keys);
                }
                builder.sslContext(GrpcSslContexts.configure(ssl).build());
            } else {
                builder.usePlaintext();
            }
            ManagedChannel channel = builder.build();
            channels.add(channel);
            return channel;
        }
    }
}
