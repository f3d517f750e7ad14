package io.raftmq.metadata.node;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** How raftmq builds its gRPC servers, so that every node accepts its clients' keepalive pings. */
public final class GrpcServers {
    /** Largest request or response message: a record batch upload or a metadata snapshot chunk. */
    public static final int MAX_MESSAGE_BYTES = 64 << 20;

    private GrpcServers() {}

    /**
     * A started server on {@code host:port} (host "0.0.0.0" for every interface) hosting
     * {@code services}.
     */
    public static Server start(String host, int port, List<BindableService> services) throws IOException {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                // Metadata watchers ping every second to notice a voter that stopped answering.
                .permitKeepAliveTime(500, TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true);
        services.forEach(builder::addService);
        return builder.build().start();
    }

    /** Stops taking calls, gives running ones a moment, then cuts them off. */
    public static void stop(Server server) {
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }
}
