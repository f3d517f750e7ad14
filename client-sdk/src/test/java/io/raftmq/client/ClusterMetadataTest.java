package io.raftmq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.TopicMetadata;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client's metadata cache never goes back to an older leader epoch than one it has seen. */
@Timeout(60)
class ClusterMetadataTest {
    private static final String TOPIC = "t";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    /** A broker that answers only Metadata, with what the test sets. */
    private static final class MetadataOnlyBroker extends BrokerGrpc.BrokerImplBase implements AutoCloseable {
        final Server server;
        final AtomicInteger asked = new AtomicInteger();
        volatile MetadataResponse answer = MetadataResponse.getDefaultInstance();

        MetadataOnlyBroker() throws IOException {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this).build()
                    .start();
        }

        BrokerAddress address() {
            return new BrokerAddress("127.0.0.1", server.getPort());
        }

        @Override
        public void metadata(MetadataRequest request, StreamObserver<MetadataResponse> observer) {
            asked.incrementAndGet();
            observer.onNext(answer);
            observer.onCompleted();
        }

        @Override
        public void close() {
            server.shutdownNow();
        }
    }

    private final MetadataOnlyBroker current = new MetadataOnlyBroker();
    private final MetadataOnlyBroker behind = new MetadataOnlyBroker();
    private final BrokerChannels channels = new BrokerChannels("test");

    ClusterMetadataTest() throws IOException {
    }

    @AfterEach
    void close() {
        channels.close();
        current.close();
        behind.close();
    }

    private MetadataResponse answer(int leader, int leaderEpoch, long metadataOffset) {
        return MetadataResponse.newBuilder()
                .addBrokers(BrokerInfo.newBuilder().setBrokerId(1).setHost("127.0.0.1")
                        .setPort(behind.address().port()))
                .addBrokers(BrokerInfo.newBuilder().setBrokerId(2).setHost("127.0.0.1")
                        .setPort(current.address().port()))
                .addTopics(TopicMetadata.newBuilder().setName(TOPIC).addPartitions(PartitionMetadata.newBuilder()
                        .setPartition(0).setLeader(leader).setLeaderEpoch(leaderEpoch).addAllReplicas(List.of(1, 2, 3))
                        .addAllIsr(List.of(1, 2, 3))))
                .setMetadataOffset(metadataOffset)
                .build();
    }

    @Test
    void anAnswerWithAnOlderLeaderEpochIsNotTakenAndAnotherBrokerIsAsked() {
        // Broker 1 was cut off while it led at epoch 0; broker 2 leads at epoch 1 since.
        behind.answer = answer(1, 0, 10);
        current.answer = answer(2, 1, 14);
        ClusterMetadata metadata = new ClusterMetadata("test", channels, List.of(behind.address(),
                current.address()), 5_000, 10, 300_000, System::currentTimeMillis);
        metadata.addTopics(List.of(TOPIC));
        for (int i = 0; i < 20; i++) {
            metadata.requestUpdate();
            metadata.rotate(); // half of the refreshes start at the broker that is behind
            MetadataSnapshot s = metadata.refresh(System.currentTimeMillis() + 5_000);
            if (current.asked.get() == 0) {
                continue; // not seen epoch 1 yet: whatever broker 1 says is all there is
            }
            assertEquals(1, s.partition(TP).leaderEpoch(), "refresh " + i + " went back to an older epoch");
            assertEquals(2, s.partition(TP).leader());
            assertEquals(current.address(), s.leaderAddress(TP));
        }
        assertTrue(behind.asked.get() > 0 && current.asked.get() > 0, "both brokers were asked: "
                + behind.asked.get() + " and " + current.asked.get());
        // A hint with an older epoch is not taken either.
        metadata.leaderHint(TP, 1, 0);
        assertEquals(1, metadata.snapshot().partition(TP).leaderEpoch());
    }

    @Test
    void aRefreshThatMeetsAnOlderAnswerAsksTheOtherBrokersInTheSameRefresh() {
        behind.answer = answer(1, 0, 10);
        current.answer = answer(2, 1, 14);
        ClusterMetadata metadata = new ClusterMetadata("test", channels, List.of(behind.address(),
                current.address()), 5_000, 10, 300_000, System::currentTimeMillis);
        metadata.addTopics(List.of(TOPIC));
        // Learn epoch 1 first.
        for (int i = 0; i < 10 && metadata.snapshot().partition(TP) == null
                || metadata.snapshot().partition(TP).leaderEpoch() < 1; i++) {
            metadata.requestUpdate();
            metadata.rotate();
            metadata.refresh(System.currentTimeMillis() + 5_000);
        }
        int askedBefore = current.asked.get();
        for (int i = 0; i < 10; i++) {
            metadata.requestUpdate();
            metadata.rotate(); // half of the refreshes start at the broker that is behind
            metadata.refresh(System.currentTimeMillis() + 5_000);
        }
        // Every refresh ends with an answer from the broker that is current: asked first, or after
        // the one that is behind.
        assertEquals(askedBefore + 10, current.asked.get());
    }
}
