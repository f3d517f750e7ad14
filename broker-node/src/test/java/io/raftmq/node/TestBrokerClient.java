package io.raftmq.node;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftmq.common.HostPort;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.FetchPartition;
import io.raftmq.protocol.broker.FetchRequest;
import io.raftmq.protocol.broker.FetchResponse;
import io.raftmq.protocol.broker.FetchTopic;
import io.raftmq.protocol.broker.FetchablePartitionResponse;
import io.raftmq.protocol.broker.InitProducerIdRequest;
import io.raftmq.protocol.broker.InitProducerIdResponse;
import io.raftmq.protocol.broker.ListOffsetsPartition;
import io.raftmq.protocol.broker.ListOffsetsPartitionResponse;
import io.raftmq.protocol.broker.ListOffsetsRequest;
import io.raftmq.protocol.broker.ListOffsetsTopic;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.PartitionProduceResponse;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.common.ConfigEntry;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.controller.DescribeTopicsRequest;
import io.raftmq.protocol.controller.DescribeTopicsResponse;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.protocol.record.RecordBatchBuilder;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A minimal client of the Broker gRPC service for tests and benchmarks (the SDK is its own module):
 * create topics, produce one batch to a partition's leader, read a partition back, list offsets.
 * Finds leaders from Metadata and refreshes it when a broker says it does not lead.
 *
 * <p>Thread-safe: channels and the cached metadata are concurrent/volatile.
 */
public final class TestBrokerClient implements AutoCloseable {
    /** Errors after which a produce may be retried (on the leader metadata names next). */
    public static final Set<ErrorCode> RETRIABLE = Set.of(ErrorCode.NOT_LEADER_OR_FOLLOWER,
            ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS,
            ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.NETWORK_EXCEPTION,
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    /** What one produce attempt got; {@code error} is NETWORK_EXCEPTION when the broker was unreachable. */
    public record ProduceOutcome(ErrorCode error, String message, long baseOffset, int broker) {}

    private final List<HostPort> bootstrap;
    private final Map<HostPort, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile MetadataResponse metadata = MetadataResponse.getDefaultInstance();
    private final long callTimeoutMs;
    private final ChannelCredentials credentials;

    public TestBrokerClient(List<HostPort> bootstrap) {
        this(bootstrap, 10_000);
    }

    public TestBrokerClient(List<HostPort> bootstrap, long callTimeoutMs) {
        this(bootstrap, callTimeoutMs, InsecureChannelCredentials.create());
    }

    /** @param credentials how the channels are secured (TLS for a cluster with grpc.listener.security.protocol=SSL) */
    public TestBrokerClient(List<HostPort> bootstrap, long callTimeoutMs, ChannelCredentials credentials) {
        this.bootstrap = List.copyOf(bootstrap);
        this.callTimeoutMs = callTimeoutMs;
        this.credentials = credentials;
    }

    private BrokerGrpc.BrokerBlockingStub stub(HostPort address) {
        ManagedChannel channel = channels.computeIfAbsent(address, a -> NettyChannelBuilder
                .forAddress(a.host(), a.port(), credentials)
                .maxInboundMessageSize(64 << 20)
                .build());
        channel.resetConnectBackoff();
        return BrokerGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Metadata from the first bootstrap broker that answers; cached for leader lookups. */
    public MetadataResponse refreshMetadata() {
        StatusRuntimeException last = null;
        for (HostPort address : bootstrap) {
            try {
                MetadataResponse response = stub(address).metadata(MetadataRequest.getDefaultInstance());
                metadata = response;
                return response;
            } catch (StatusRuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    public MetadataResponse metadata() {
        return metadata;
    }

    /** The partition's metadata as last refreshed, or null. */
    public PartitionMetadata partition(String topic, int partition) {
        for (TopicMetadata t : metadata.getTopicsList()) {
            if (t.getName().equals(topic) && partition < t.getPartitionsCount()) {
                return t.getPartitions(partition);
            }
        }
        return null;
    }

    private HostPort addressOf(int brokerId) {
        for (BrokerInfo b : metadata.getBrokersList()) {
            if (b.getBrokerId() == brokerId) {
                return new HostPort(b.getHost(), b.getPort());
            }
        }
        return null;
    }

    /** Creates a topic through a broker and waits until every partition has a leader. */
    public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
        CreatableTopic.Builder topic = CreatableTopic.newBuilder().setName(name).setNumPartitions(partitions)
                .setReplicationFactor(replicationFactor);
        configs.forEach((k, v) -> topic.addConfigs(ConfigEntry.newBuilder().setKey(k).setValue(v)));
        CreateTopicsResponse response = stub(bootstrap.get(0)).withDeadlineAfter(30, TimeUnit.SECONDS)
                .createTopics(CreateTopicsRequest.newBuilder().addTopics(topic).build());
        // TOPIC_ALREADY_EXISTS: the broker's retry across a controller change met its own first,
        // committed attempt (tests never create a topic twice on purpose).
        ErrorCode topicError = response.getTopicsCount() == 0 ? ErrorCode.NONE
                : response.getTopics(0).getError().getCode();
        if (response.getError().getCode() != ErrorCode.NONE
                || (topicError != ErrorCode.NONE && topicError != ErrorCode.TOPIC_ALREADY_EXISTS)) {
            throw new IllegalStateException("creating " + name + " failed: " + response);
        }
        awaitLeaders(name, partitions, Duration.ofSeconds(30));
    }

    /** Waits until the metadata shows every partition of the topic with a leader. */
    public void awaitLeaders(String topic, int partitions, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
            refreshMetadata();
            for (int p = 0; p < partitions; p++) {
                PartitionMetadata pm = partition(topic, p);
                if (pm == null || pm.getLeader() < 0) {
                    return false;
                }
            }
            return true;
        });
    }

    /** One batch of these values, with the current time as their timestamp. */
    public static ByteBuffer batch(List<byte[]> values) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, 256);
        long now = System.currentTimeMillis();
        for (byte[] v : values) {
            builder.append(now, null, v);
        }
        return builder.build();
    }

    /** One produce attempt to the partition's leader as last known (refresh first if unknown). */
    public ProduceOutcome produceOnce(String topic, int partition, int acks, int timeoutMs, ByteBuffer batch) {
        PartitionMetadata pm = partition(topic, partition);
        if (pm == null || pm.getLeader() < 0) {
            try {
                refreshMetadata();
            } catch (StatusRuntimeException e) {
                return new ProduceOutcome(ErrorCode.NETWORK_EXCEPTION, e.getStatus().toString(), -1, -1);
            }
            pm = partition(topic, partition);
            if (pm == null || pm.getLeader() < 0) {
                return new ProduceOutcome(ErrorCode.LEADER_NOT_AVAILABLE, "no leader known", -1, -1);
            }
        }
        int leader = pm.getLeader();
        HostPort address = addressOf(leader);
        if (address == null) {
            metadata = MetadataResponse.getDefaultInstance();
            return new ProduceOutcome(ErrorCode.LEADER_NOT_AVAILABLE, "leader " + leader + " is not live", -1, leader);
        }
        ProduceRequest request = ProduceRequest.newBuilder()
                .setAcks(acks)
                .setTimeoutMs(timeoutMs)
                .addTopics(TopicProduceData.newBuilder().setName(topic).addPartitions(PartitionProduceData.newBuilder()
                        .setPartition(partition)
                        .setRecords(ByteString.copyFrom(batch.duplicate()))))
                .build();
        try {
            var response = stub(address).withDeadlineAfter(timeoutMs + 5_000L, TimeUnit.MILLISECONDS).produce(request);
            if (response.getError().getCode() != ErrorCode.NONE) {
                return new ProduceOutcome(response.getError().getCode(), response.getError().getMessage(), -1, leader);
            }
            PartitionProduceResponse p = response.getTopics(0).getPartitions(0);
            if (p.getError().getCode() != ErrorCode.NONE) {
                metadata = MetadataResponse.getDefaultInstance(); // look the leader up again
            }
            return new ProduceOutcome(p.getError().getCode(), p.getError().getMessage(), p.getBaseOffset(), leader);
        } catch (StatusRuntimeException e) {
            metadata = MetadataResponse.getDefaultInstance();
            return new ProduceOutcome(ErrorCode.NETWORK_EXCEPTION, e.getStatus().toString(), -1, leader);
        }
    }

    /** Produces one batch, retrying retriable errors for up to {@code timeout}; returns the base offset. */
    public long produce(String topic, int partition, int acks, List<byte[]> values, Duration timeout) {
        ByteBuffer batch = batch(values);
        long deadline = System.nanoTime() + timeout.toNanos();
        ProduceOutcome last;
        do {
            last = produceOnce(topic, partition, acks, 10_000, batch);
            if (last.error() == ErrorCode.NONE) {
                return last.baseOffset();
            }
            if (!RETRIABLE.contains(last.error())) {
                break;
            }
            sleepQuietly(20);
        } while (System.nanoTime() < deadline);
        throw new IllegalStateException("produce to " + topic + "-" + partition + " failed: " + last);
    }

    /** ListOffsets at the partition's leader: -1 latest (high watermark), -2 earliest, or a time. */
    public ListOffsetsPartitionResponse listOffset(String topic, int partition, long timestamp) {
        refreshMetadata();
        HostPort leader = addressOf(partition(topic, partition).getLeader());
        return stub(leader).listOffsets(ListOffsetsRequest.newBuilder().addTopics(ListOffsetsTopic.newBuilder()
                .setName(topic).addPartitions(ListOffsetsPartition.newBuilder().setPartition(partition)
                        .setTimestamp(timestamp).setCurrentLeaderEpoch(-1))).build())
                .getTopics(0).getPartitions(0);
    }

    /** One fetch at a given broker. */
    public FetchablePartitionResponse fetchOnce(HostPort broker, String topic, int partition, long offset,
            int maxWaitMs, int maxBytes) {
        FetchResponse response = stub(broker).fetch(FetchRequest.newBuilder()
                .setMaxWaitMs(maxWaitMs)
                .setMinBytes(1)
                .setMaxBytes(maxBytes)
                .addTopics(FetchTopic.newBuilder().setName(topic).addPartitions(FetchPartition.newBuilder()
                        .setPartition(partition).setFetchOffset(offset).setPartitionMaxBytes(maxBytes)
                        .setCurrentLeaderEpoch(-1)))
                .build());
        return response.getTopics(0).getPartitions(0);
    }

    /** Every record of the partition from {@code from} up to its high watermark, read at its leader. */
    public List<Record> readAll(String topic, int partition, long from) {
        List<Record> out = new ArrayList<>();
        long offset = from;
        while (true) {
            refreshMetadata();
            HostPort leader = addressOf(partition(topic, partition).getLeader());
            FetchablePartitionResponse r = fetchOnce(leader, topic, partition, offset, 0, 1 << 20);
            if (r.getError().getCode() != ErrorCode.NONE) {
                throw new IllegalStateException("fetch of " + topic + "-" + partition + " at " + offset + ": "
                        + r.getError());
            }
            for (RecordBatch batch : RecordBatch.readAll(r.getRecords().asReadOnlyByteBuffer())) {
                for (Record record : batch.records()) {
                    if (record.offset() >= offset) {
                        out.add(record);
                    }
                }
                offset = Math.max(offset, batch.nextOffset());
            }
            if (offset >= r.getHighWatermark()) {
                return out;
            }
        }
    }

    /** InitProducerId at the first bootstrap broker. */
    public InitProducerIdResponse initProducerId(long producerId, int producerEpoch) {
        return stub(bootstrap.get(0)).initProducerId(InitProducerIdRequest.newBuilder()
                .setProducerId(producerId).setProducerEpoch(producerEpoch).build());
    }

    /** DescribeTopics at the given broker. */
    public DescribeTopicsResponse describeTopics(HostPort broker, long minMetadataOffset, String... names) {
        return stub(broker).describeTopics(DescribeTopicsRequest.newBuilder().addAllNames(List.of(names))
                .setMinMetadataOffset(minMetadataOffset).build());
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
