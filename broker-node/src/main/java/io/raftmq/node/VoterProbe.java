package io.raftmq.node;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.common.HostPort;
import io.raftmq.common.tls.NodeChannelCredentials;
import io.raftmq.protocol.controller.ControllerGrpc;
import io.raftmq.protocol.controller.DescribeClusterRequest;
import io.raftmq.protocol.controller.DescribeClusterResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Asks the other controller voters what cluster they form, before this node joins the quorum:
 * how a node with an empty data directory learns whether it is new or was wiped.
 */
interface VoterProbe {

    /** The answers that came within the bound; empty when no voter answered (none is up yet). */
    List<DescribeClusterResponse> describeCluster();

    /**
     * DescribeCluster at each address at once, each call bounded by {@code timeoutMs}; addresses
     * that refuse or do not answer in time are skipped. Channels secured by {@code credentials}.
     */
    static VoterProbe grpc(List<HostPort> addresses, long timeoutMs, NodeChannelCredentials credentials) {
        return () -> {
            List<ManagedChannel> channels = new ArrayList<>();
            List<ListenableFuture<DescribeClusterResponse>> calls = new ArrayList<>();
            for (HostPort address : addresses) {
                ManagedChannel channel = NettyChannelBuilder.forAddress(address.host(), address.port(),
                        credentials.toAnyNode()).intercept(credentials.authentication("voter " + address)).build();
                channels.add(channel);
                calls.add(ControllerGrpc.newFutureStub(channel).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                        .describeCluster(DescribeClusterRequest.getDefaultInstance()));
            }
            List<DescribeClusterResponse> answers = new ArrayList<>();
            try {
                for (ListenableFuture<DescribeClusterResponse> call : calls) {
                    try {
                        answers.add(call.get(timeoutMs + 1_000, TimeUnit.MILLISECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return answers;
                    } catch (Exception e) {
                        // Not up, unreachable or not a voter yet: no answer from it.
                    }
                }
                return answers;
            } finally {
                channels.forEach(ManagedChannel::shutdownNow);
            }
        };
    }
}
