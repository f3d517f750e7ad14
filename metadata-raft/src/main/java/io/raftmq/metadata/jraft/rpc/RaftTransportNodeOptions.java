package io.raftmq.metadata.jraft.rpc;

import com.alipay.sofa.jraft.option.NodeOptions;

/**
 * JRaft's node options plus the voter's Raft transport identity. JRaft's RPC factory is one per
 * JVM, while each voter (several in one test JVM) has its own certificate: a node hands the options
 * it was started with to its RPC client ({@code NodeImpl.init} to {@code
 * AbstractClientService.init(RpcOptions)} to {@code RpcClient.init}), and {@link TlsRaftRpcClient}
 * takes its TLS material from there. Configure before {@code Node.init}; not thread-safe.
 */
public final class RaftTransportNodeOptions extends NodeOptions {
    private final RaftTransportOptions transport;

    public RaftTransportNodeOptions(RaftTransportOptions transport) {
        this.transport = transport;
    }

    public RaftTransportOptions transport() {
        return transport;
    }
}
