package io.raftmq.metadata.jraft.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.rpc.impl.cli.AddPeerRequestProcessor;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.Message;
import io.raftmq.common.FreePorts;
import io.raftmq.common.config.Config;
import io.raftmq.common.tls.NodeTls;
import io.raftmq.common.tls.TestCertificates;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TlsRaftRpcServerTest {

    private static RaftTransportOptions options(int port) {
        NodeTls tls = NodeTls.load(new Config(TestCertificates.shared().nodeConfig(1), NodeTls.KEYS));
        return new RaftTransportOptions(1, Map.of(1, new Endpoint("127.0.0.1", port),
                2, new Endpoint("127.0.0.1", FreePorts.next())), tls);
    }

    @Test
    void listensOnTheVotersConfiguredHostOnly() throws Exception {
        int port = FreePorts.next();
        TlsRaftRpcServer server = TlsRaftRpcServer.forQuorum(options(port));
        server.init(null);
        try {
            assertEquals(List.of(new InetSocketAddress("127.0.0.1", port)), server.listenAddresses());
            try (Socket loopback = new Socket("127.0.0.1", port)) {
                assertTrue(loopback.isConnected());
            }
            // Another address of this machine, if it has one, does not reach the port.
            Optional<InetAddress> other = otherLocalAddress();
            if (other.isPresent()) {
                assertThrows(IOException.class, () -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress(other.get(), port), 2_000);
                    }
                });
            }
        } finally {
            server.shutdown();
        }
    }

    @Test
    void administrativeProcessorsCannotBeRegistered() {
        TlsRaftRpcServer server = new TlsRaftRpcServer(options(FreePorts.next()));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> server.registerProcessor(new AddPeerRequestProcessor(null)));
        assertTrue(refused.getMessage().contains("AddPeerRequest"), refused.getMessage());
        server.shutdown();
    }

    @Test
    void errorAnswersAreOfTheRequestsResponseType() throws Exception {
        Message answer = RaftResponseFactory.INSTANCE.newResponse(
                RpcRequests.AppendEntriesResponse.getDefaultInstance(), 10001, "busy %s", "now");
        // Parsing checks the required fields (term, success).
        RpcRequests.AppendEntriesResponse parsed = RpcRequests.AppendEntriesResponse.parseFrom(answer.toByteArray());
        assertEquals(10001, parsed.getErrorResponse().getErrorCode());
        assertEquals("busy now", parsed.getErrorResponse().getErrorMsg());
        assertInstanceOf(RpcRequests.ErrorResponse.class, RaftResponseFactory.INSTANCE.newResponse(null, 1, null));
        RpcRequests.ErrorResponse bare = RpcRequests.ErrorResponse.newBuilder().setErrorCode(2).build();
        Message wrapped = RaftResponseFactory.as(RpcRequests.RequestVoteResponse.getDefaultInstance(), bare);
        assertEquals(2, RpcRequests.RequestVoteResponse.parseFrom(wrapped.toByteArray()).getErrorResponse()
                .getErrorCode());
    }

    private static Optional<InetAddress> otherLocalAddress() throws SocketException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address) {
                    return Optional.of(address);
                }
            }
        }
        return Optional.empty();
    }
}
