package io.raftmq.metadata.jraft.rpc;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.raftmq.common.tls.TlsEngines;
import javax.net.ssl.SSLException;

/**
 * The TLS settings of the Raft transport: TLS 1.3 only (its cipher suites), on the node's TLS
 * engine ({@link TlsEngines}), each side presenting the voter's certificate, client certificates
 * required, and peers checked by {@link VoterTrustManager}.
 */
final class RaftTlsContexts {
    static final String[] PROTOCOLS = {"TLSv1.3"};

    private RaftTlsContexts() {}

    /** The server side of voter {@code options.nodeId()}: any voter may connect. */
    static SslContext server(RaftTransportOptions options) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forServer(options.tls().keyManagers())
                .trustManager(VoterTrustManager.forServer(options.nodeId(), options.tls(), options.voters().keySet()))
                .clientAuth(ClientAuth.REQUIRE)
                .protocols(PROTOCOLS);
        return GrpcSslContexts.configure(builder, TlsEngines.provider()).build();
    }

    /** Voter {@code options.nodeId()}'s side of its connection to voter {@code peer}. */
    static SslContext client(RaftTransportOptions options, int peer) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .keyManager(options.tls().keyManagers())
                .trustManager(VoterTrustManager.forPeer(options.nodeId(), options.tls(), peer))
                .protocols(PROTOCOLS);
        return GrpcSslContexts.configure(builder, TlsEngines.provider()).build();
    }
}
