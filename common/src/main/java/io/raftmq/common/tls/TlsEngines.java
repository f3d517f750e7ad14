package io.raftmq.common.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS engine of a node's Netty servers and channels (the Kafka listener, the gRPC port, the
 * Raft port): BoringSSL through netty-tcnative when its native library loads, else the JDK's.
 * BoringSSL does the record encryption in native code; the JDK's AES-GCM is fast only in
 * C2-compiled code (its intrinsics), and the nodes run with C1 alone (deploy/cluster.sh's JVM
 * options), where it costs several times the CPU. gRPC chooses the same way on its own
 * ({@code GrpcSslContexts}), so every port of a node uses one engine.
 *
 * <p>Chosen once per process, on first use, and logged then; thread-safe.
 */
public final class TlsEngines {
    private static final Logger LOG = LoggerFactory.getLogger(TlsEngines.class);
    private static final SslProvider PROVIDER = choose();

    private TlsEngines() {}

    /** {@link SslProvider#OPENSSL} when netty-tcnative's BoringSSL is usable here, else {@link SslProvider#JDK}. */
    public static SslProvider provider() {
        return PROVIDER;
    }

    private static SslProvider choose() {
        if (OpenSsl.isAvailable() && OpenSsl.supportsKeyManagerFactory()) {
            LOG.info("TLS engine: {} (netty-tcnative)", OpenSsl.versionString());
            return SslProvider.OPENSSL;
        }
        Throwable why = OpenSsl.unavailabilityCause();
        LOG.info("TLS engine: the JDK's (netty-tcnative's BoringSSL is not usable on this platform: {})",
                why == null ? "no KeyManagerFactory support" : why.toString());
        return SslProvider.JDK;
    }
}
