package io.raftmq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.raftmq.node.InProcessCluster;
import io.raftmq.node.TestBrokerClient;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.PartitionProduceResponse;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC produce path checks batch sizes against max.message.bytes before it copies a request's
 * records: a 16 MiB batch for a topic that takes 1 MiB is refused without another 16 MiB allocated.
 */
@Timeout(120)
class GrpcProduceLimitsTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestBrokerClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private static ProduceRequest request(String topic, ByteBuffer batch) {
        return ProduceRequest.newBuilder().setAcks(1).setTimeoutMs(10_000)
                .addTopics(TopicProduceData.newBuilder().setName(topic).addPartitions(
                        PartitionProduceData.newBuilder().setPartition(0).setRecords(ByteString.copyFrom(batch))))
                .build();
    }

    /** Produces through the service in this thread; returns the answer and the bytes this thread allocated. */
    private static long[] produce(BrokerGrpcService service, ProduceRequest request, PartitionProduceResponse[] out)
            throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        CompletableFuture<ProduceResponse> answer = new CompletableFuture<>();
        long before = threads.getCurrentThreadAllocatedBytes();
        service.produce(request, new ServerCallStreamObserver<>() {
            @Override
            public void onNext(ProduceResponse value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }

            @Override
            public boolean isCancelled() {
                return false;
            }

            @Override
            public void setOnCancelHandler(Runnable onCancelHandler) {
            }

            @Override
            public void setCompression(String compression) {
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setOnReadyHandler(Runnable onReadyHandler) {
            }

            @Override
            public void request(int count) {
            }

            @Override
            public void setMessageCompression(boolean enable) {
            }

            @Override
            public void disableAutoInboundFlowControl() {
            }
        });
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        out[0] = answer.get(10, TimeUnit.SECONDS).getTopics(0).getPartitions(0);
        return new long[] {allocated};
    }

    @Test
    void anOversizedBatchIsRefusedBeforeItIsCopied() throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of());
        cluster.start(1);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
        client.createTopic("big", 1, 1, Map.of("max.message.bytes", Integer.toString(1 << 20)));
        client.awaitLeaders("big", 1, Duration.ofSeconds(30));
        BrokerGrpcService service = new BrokerGrpcService(cluster.node(1).broker().api());

        byte[] value = new byte[16 << 20];
        ByteBuffer huge = new RecordBatchBuilder(CompressionType.NONE, value.length + 64)
                .append(System.currentTimeMillis(), null, value).build();
        ProduceRequest tooLarge = request("big", huge);
        PartitionProduceResponse[] answer = new PartitionProduceResponse[1];
        long allocated = produce(service, tooLarge, answer)[0];
        assertEquals(ErrorCode.RECORD_TOO_LARGE, answer[0].getError().getCode());
        assertTrue(answer[0].getError().getMessage().contains("max.message.bytes (1048576)"),
                answer[0].getError().getMessage());
        assertTrue(allocated < (4 << 20), "refused without copying the 16 MiB batch; allocated " + allocated);

        ByteBuffer small = TestBrokerClient.batch(List.of("fits".getBytes()));
        produce(service, request("big", small), answer);
        assertEquals(ErrorCode.NONE, answer[0].getError().getCode(), answer[0].getError().getMessage());
        assertEquals(0, answer[0].getBaseOffset());
    }
}
