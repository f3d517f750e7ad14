package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.common.FreePorts;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.PartitionState;
import io.raftmq.protocol.controller.TopicDescription;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo's leader view: the highest leader epoch any broker reports, whichever broker answers
 * first; a broker that is cut off (old epoch, or no leader) or down does not decide it.
 */
@Timeout(60)
class LeaderViewTest {
    /** A broker that answers DescribeTopics for topic "t" with one partition as the test sets it. */
    private static final class DescribingBroker extends BrokerGrpc.BrokerImplBase implements AutoCloseable {
        final Server server;
        volatile int leader;
        volatile int leaderEpoch;

        DescribingBroker(int leader, int leaderEpoch) throws IOException {
            this.leader = leader;
            this.leaderEpoch = leaderEpoch;
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this).build()
                    .start();
        }

        String address() {
            return "127.0.0.1:" + server.getPort();
        }

        @Override
        public void describeTopics(DescribeTopicsRequest request, StreamObserver<DescribeTopicsResponse> observer) {
            observer.onNext(DescribeTopicsResponse.newBuilder().addTopics(TopicDescription.newBuilder().setName("t")
                    .addPartitions(PartitionState.newBuilder().setPartitionId(0).setLeader(leader)
                            .setLeaderEpoch(leaderEpoch).addAllReplicas(List.of(1, 2, 3)).addAllIsr(List.of(2, 3))))
                    .build());
            observer.onCompleted();
        }

        @Override
        public void close() {
            server.shutdownNow();
        }
    }

    @Test
    void theHighestLeaderEpochWinsOverACutOffBrokerAndADeadOne() throws Exception {
        try (DescribingBroker cutOff = new DescribingBroker(-1, 0);
                DescribingBroker stale = new DescribingBroker(1, 0);
                DescribingBroker current = new DescribingBroker(2, 1);
                LeaderView view = new LeaderView(List.of(cutOff.address(), stale.address(),
                        "127.0.0.1:" + FreePorts.next(), current.address()))) {
            assertEquals(new LeaderView.Leader(2, 1), view.leaderOf("t", 0));
            assertEquals(new LeaderView.Leader(2, 1), view.awaitNewerThan("t", 0, 0, 10_000));
        }
    }

    @Test
    void noNewerLeaderWhileEveryBrokerReportsTheOldEpoch() throws Exception {
        try (DescribingBroker a = new DescribingBroker(1, 0);
                DescribingBroker b = new DescribingBroker(-1, 0);
                LeaderView view = new LeaderView(List.of(a.address(), b.address()))) {
            assertEquals(new LeaderView.Leader(1, 0), view.leaderOf("t", 0), "a leader beats none at one epoch");
            long startNs = System.nanoTime();
            assertNull(view.awaitNewerThan("t", 0, 0, 300));
            assertTrue(System.nanoTime() - startNs < 5_000_000_000L);
            b.leader = 3;
            b.leaderEpoch = 1;
            assertEquals(new LeaderView.Leader(3, 1), view.awaitNewerThan("t", 0, 0, 10_000));
        }
    }
}
