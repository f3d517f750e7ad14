package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.rpc.RaftRpcFactory;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcResponseFactory;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.SPI;

/**
 * raftmq's Raft transport for JRaft: gRPC on Netty with mutual TLS between voters. Found through
 * {@code META-INF/services}; its priority is above bolt's (0), so {@code
 * RpcFactoryHelper.rpcFactory()} picks it and JRaft never opens a bolt connection.
 *
 * <p>One per JVM, shared by every node in it, so it holds no node's identity: a node's client
 * takes its TLS material from the node's options ({@link RaftTransportNodeOptions}), and a voter's
 * server is made with its own ({@link TlsRaftRpcServer#forQuorum}). Stateless, thread-safe.
 */
@SPI(priority = 100)
public final class TlsRaftRpcFactory implements RaftRpcFactory {

    /**
     * Nothing to register: the transport carries a fixed set of Raft messages whose types it knows
     * ({@link RaftMessages}).
     */
    @Override
    public void registerProtobufSerializer(String className, Object... args) {
    }

    @Override
    public RpcClient createRpcClient(ConfigHelper<RpcClient> helper) {
        RpcClient client = new TlsRaftRpcClient();
        if (helper != null) {
            helper.config(client);
        }
        return client;
    }

    /**
     * Refused: a server needs its voter's TLS identity, which this shared factory does not have.
     * JRaft calls this only from {@code RaftRpcServerFactory} and {@code RaftGroupService}, which
     * raftmq does not use (they would also register JRaft's administrative processors).
     */
    @Override
    public RpcServer createRpcServer(Endpoint endpoint, ConfigHelper<RpcServer> helper) {
        throw new UnsupportedOperationException("a Raft server for " + endpoint + " needs its voter's TLS identity:"
                + " make it with TlsRaftRpcServer.forQuorum");
    }

    @Override
    public RpcResponseFactory getRpcResponseFactory() {
        return RaftResponseFactory.INSTANCE;
    }

    /**
     * The leader may pipeline AppendEntries: the server hands them, in arrival order, to the one
     * executor JRaft selects per (leader, follower) pair.
     */
    @Override
    public boolean isReplicatorPipelineEnabled() {
        return true;
    }
}
