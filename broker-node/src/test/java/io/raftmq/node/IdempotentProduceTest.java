package io.raftmq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.protocol.broker.InitProducerIdResponse;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.controller.TopicDescription;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import io.raftmq.protocol.record.TimestampType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idempotent produce on three combined nodes in this JVM, over raw gRPC: producer ids from the
 * cluster, a retried batch stored once and answered with its original offset (also by a new
 * leader after the old one's node stopped), gaps refused. Also DescribeTopics on a broker.
 */
@Timeout(180)
class IdempotentProduceTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;
    private TestBrokerClient client;

    @BeforeEach
    void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("replica.lag.time.max.ms", "2000"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        client = new TestBrokerClient(cluster.addresses());
    }

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

    /** A batch of {@code count} records of the producer from {@code sequence}. */
    private static ByteBuffer batch(long producerId, int epoch, int sequence, int count) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                producerId, (short) epoch, sequence, RecordBatch.NO_PARTITION_LEADER_EPOCH, RecordBatch.NO_TIMESTAMP,
                256);
        for (int i = 0; i < count; i++) {
            builder.append(System.currentTimeMillis(), null, ("seq-" + (sequence + i)).getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    private InitProducerIdResponse newProducer() {
        InitProducerIdResponse r = client.initProducerId(-1, -1);
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
        assertEquals(0, r.getProducerEpoch());
        return r;
    }

    private TestBrokerClient.ProduceOutcome produceUntilAnswered(String topic, ByteBuffer batch) {
        TestBrokerClient.ProduceOutcome[] last = new TestBrokerClient.ProduceOutcome[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
            last[0] = client.produceOnce(topic, 0, -1, 10_000, batch);
            return !TestBrokerClient.RETRIABLE.contains(last[0].error());
        });
        return last[0];
    }

    private List<String> values(String topic) {
        return client.readAll(topic, 0, 0).stream()
                .map(Record::value)
                .map(v -> StandardCharsets.UTF_8.decode(v.duplicate()).toString())
                .toList();
    }

    /** InitProducerId: distinct ids, and a new id at epoch 0 even when the request names one (as Kafka). */
    private void checkProducerIds() {
        InitProducerIdResponse a = newProducer();
        InitProducerIdResponse b = newProducer();
        assertNotEquals(a.getProducerId(), b.getProducerId());
        InitProducerIdResponse named = client.initProducerId(a.getProducerId(), 0);
        assertEquals(ErrorCode.NONE, named.getError().getCode(), named.getError().getMessage());
        assertNotEquals(a.getProducerId(), named.getProducerId(), "a's id is never bumped for another client");
        assertEquals(0, named.getProducerEpoch());
    }

    @Test
    void producerIdsAreDistinctARetriedBatchIsStoredOnceAndAGapIsRefused() {
        checkProducerIds();
        client.createTopic("idem", 1, 3, Map.of("min.insync.replicas", "2"));
        long pid = newProducer().getProducerId();
        ByteBuffer first = batch(pid, 0, 0, 3);
        TestBrokerClient.ProduceOutcome sent = produceUntilAnswered("idem", first);
        assertEquals(ErrorCode.NONE, sent.error(), sent.message());
        assertEquals(0, sent.baseOffset());
        TestBrokerClient.ProduceOutcome retried = produceUntilAnswered("idem", first);
        assertEquals(ErrorCode.NONE, retried.error(), retried.message());
        assertEquals(0, retried.baseOffset(), "the original offset");
        assertEquals(3, produceUntilAnswered("idem", batch(pid, 0, 3, 2)).baseOffset());

        TestBrokerClient.ProduceOutcome gap = produceUntilAnswered("idem", batch(pid, 0, 9, 1));
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, gap.error());
        assertTrue(gap.message().contains("producer " + pid) && gap.message().contains("epoch 0")
                && gap.message().contains("expected sequence 5, received 9"), gap.message());
        assertEquals(List.of("seq-0", "seq-1", "seq-2", "seq-3", "seq-4"), values("idem"));

        // A producer id the cluster never handed out is refused, and nothing is written.
        TestBrokerClient.ProduceOutcome invented = produceUntilAnswered("idem", batch(1_000_000_000L, 0, 0, 1));
        assertEquals(ErrorCode.UNKNOWN_PRODUCER_ID, invented.error(), invented.message());
        assertTrue(invented.message().contains("1000000000"), invented.message());
        assertEquals(5, values("idem").size());

        // DescribeTopics on a broker, from its own metadata.
        DescribeTopicsResponse described = client.describeTopics(cluster.addresses().get(1),
                client.metadata().getMetadataOffset(), "idem", "missing");
        assertEquals(ErrorCode.NONE, described.getError().getCode(), described.getError().getMessage());
        TopicDescription idem = described.getTopics(0);
        assertEquals("idem", idem.getName());
        assertEquals(1, idem.getPartitionsCount());
        assertEquals(client.partition("idem", 0).getLeader(), idem.getPartitions(0).getLeader());
        assertEquals(3, idem.getPartitions(0).getReplicasCount());
        assertEquals("min.insync.replicas", idem.getConfigs(0).getKey());
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, described.getTopics(1).getError().getCode());
        DescribeTopicsResponse all = client.describeTopics(cluster.addresses().get(2), -1);
        assertTrue(all.getTopicsList().stream().anyMatch(t -> t.getName().equals("idem")));
    }

    @Test
    void aNewLeaderDeduplicatesTheLastAckedBatch() {
        client.createTopic("failover", 1, 3, Map.of("min.insync.replicas", "2"));
        long pid = newProducer().getProducerId();
        int sequence = 0;
        ByteBuffer last = null;
        for (int i = 0; i < 10; i++) {
            last = batch(pid, 0, sequence, 2);
            TestBrokerClient.ProduceOutcome r = produceUntilAnswered("failover", last);
            assertEquals(ErrorCode.NONE, r.error(), r.message());
            assertEquals(sequence, r.baseOffset());
            sequence += 2;
        }
        int oldLeader = client.partition("failover", 0).getLeader();
        cluster.stop(oldLeader);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            client.refreshMetadata();
            int leader = client.partition("failover", 0).getLeader();
            return leader >= 0 && leader != oldLeader;
        });
        TestBrokerClient.ProduceOutcome retried = produceUntilAnswered("failover", last);
        assertEquals(ErrorCode.NONE, retried.error(), retried.message());
        assertNotEquals(oldLeader, retried.broker());
        assertEquals(sequence - 2, retried.baseOffset(), "the original offset, from the new leader");
        assertEquals(sequence, produceUntilAnswered("failover", batch(pid, 0, sequence, 1)).baseOffset());
        assertEquals(sequence + 1, values("failover").size(), "every record once");
    }

    /**
     * A producer id handed out by one broker a moment ago, produced to a leader whose metadata has
     * not yet applied the block holding it: the leader waits for that metadata instead of refusing
     * the id as never handed out (which failed the producer's first batch, and lost its records).
     */
    @Test
    void aLeaderBehindOnMetadataWaitsForTheBlockThatHandedTheIdOut() {
        client.createTopic("behind", 3, 3, Map.of());
        // InitProducerId goes to node 1: produce to a partition another node leads.
        int partition = -1;
        for (int p = 0; p < 3 && partition < 0; p++) {
            if (client.partition("behind", p).getLeader() != 1) {
                partition = p;
            }
        }
        assertTrue(partition >= 0, "some partition has a leader other than node 1");
        int leader = client.partition("behind", partition).getLeader();
        ControllerLinkCut link = cluster.controllerLink(leader);
        long pid;
        TestBrokerClient.ProduceOutcome first;
        link.cut();
        try {
            // Node 1's first InitProducerId takes a new block, which the cut-off leader cannot see.
            pid = newProducer().getProducerId();
            // The link heals while the produce is at the leader, before its lease (500 ms) runs out.
            CompletableFuture.delayedExecutor(250, TimeUnit.MILLISECONDS).execute(link::heal);
            // On a loaded machine the lease can run out first: the leader then answers NOT_LEADER
            // and the same batch is retried. A leader refusing the id (UNKNOWN_PRODUCER_ID) fails.
            ByteBuffer batch = batch(pid, 0, 0, 2);
            int target = partition;
            first = await().atMost(Duration.ofSeconds(30)).until(
                    () -> client.produceOnce("behind", target, -1, 10_000, batch),
                    outcome -> !TestBrokerClient.RETRIABLE.contains(outcome.error()));
        } finally {
            link.heal();
        }
        assertEquals(ErrorCode.NONE, first.error(), first.message());
        assertEquals(leader, first.broker());
        assertEquals(0, first.baseOffset());
        assertEquals(List.of("seq-0", "seq-1"), client.readAll("behind", partition, 0).stream()
                .map(Record::value)
                .map(v -> StandardCharsets.UTF_8.decode(v.duplicate()).toString())
                .toList());
    }
}
