package io.raftmq.client;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftmq.protocol.broker.BrokerGrpc;
import io.raftmq.protocol.broker.BrokerInfo;
import io.raftmq.protocol.broker.InitProducerIdRequest;
import io.raftmq.protocol.broker.InitProducerIdResponse;
import io.raftmq.protocol.broker.MetadataRequest;
import io.raftmq.protocol.broker.MetadataResponse;
import io.raftmq.protocol.broker.PartitionMetadata;
import io.raftmq.protocol.broker.PartitionProduceData;
import io.raftmq.protocol.broker.PartitionProduceResponse;
import io.raftmq.protocol.broker.ProduceRequest;
import io.raftmq.protocol.broker.ProduceResponse;
import io.raftmq.protocol.broker.TopicMetadata;
import io.raftmq.protocol.broker.TopicProduceData;
import io.raftmq.protocol.broker.TopicProduceResponse;
import io.raftmq.protocol.common.Error;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.Record;
import io.raftmq.protocol.record.RecordBatch;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A one-broker fake of the Broker service on a free 127.0.0.1 port, for producer unit tests: it
 * leads every partition, keeps each partition's records in memory, and checks idempotent sequences
 * as the real leader does (a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, a repeat of the last batch is
 * DUPLICATE_SEQUENCE_NUMBER with the original offset). A {@link ProduceHook} can refuse a batch, or
 * append it and answer with an error (a lost answer), or hold the answer back.
 *
 * <p>Thread-safe: partition state is guarded by the fake's monitor.
 */
final class FakeBroker implements AutoCloseable {
    /** What to do with one batch of a produce request. */
    enum Action { NORMAL, REFUSE, APPEND_THEN_FAIL, HOLD }

    interface ProduceHook {
        /** @param attempt how many batches for this partition arrived before (0 for the first) */
        Action decide(String topic, int partition, int baseSequence, int attempt);
    }

    /** One batch as it arrived: for asserting sequences and order. */
    record Arrival(String topic, int partition, long producerId, int baseSequence, int records, long atNanos) {}

    private final Server server;
    final FakeGroupCoordinator groups;
    private final int port;
    private final Map<String, Integer> topics = new ConcurrentHashMap<>();
    private final Map<String, List<Record>> logs = new HashMap<>();
    private final Map<String, List<ByteBuffer>> batches = new HashMap<>();
    private final Map<String, int[]> lastSequence = new HashMap<>();
    private final Map<String, long[]> lastBatchOffset = new HashMap<>();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    final List<Arrival> arrivals = new CopyOnWriteArrayList<>();
    final List<StreamObserver<ProduceResponse>> held = new CopyOnWriteArrayList<>();
    final AtomicInteger produceRequests = new AtomicInteger();
    volatile ProduceHook hook = (t, p, s, a) -> Action.NORMAL;
    volatile ErrorCode refuseWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    volatile boolean supportsProducerIds = true;
    private final AtomicInteger nextProducerId = new AtomicInteger(1000);

    FakeBroker() throws IOException {
        groups = new FakeGroupCoordinator(this);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new Service())
                .addService(groups).build().start();
        port = server.getPort();
    }

    String bootstrap() {
        return "127.0.0.1:" + port;
    }

    int partitionCount(String topic) {
        return topics.getOrDefault(topic, 0);
    }

    void createTopic(String name, int partitions) {
        topics.put(name, partitions);
    }

    synchronized List<Record> log(String topic, int partition) {
        return new ArrayList<>(logs.getOrDefault(topic + "-" + partition, List.of()));
    }

    private final class Service extends BrokerGrpc.BrokerImplBase {
        @Override
        public void metadata(MetadataRequest request, StreamObserver<MetadataResponse> observer) {
            MetadataResponse.Builder r = MetadataResponse.newBuilder().setControllerId(1)
                    .addBrokers(BrokerInfo.newBuilder().setBrokerId(1).setHost("127.0.0.1").setPort(port));
            List<String> names = request.getTopicsCount() == 0 ? new ArrayList<>(topics.keySet())
                    : request.getTopicsList();
            for (String name : names) {
                Integer count = topics.get(name);
                if (count == null) {
                    r.addTopics(TopicMetadata.newBuilder().setName(name).setError(Error.newBuilder()
                            .setCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).setMessage("no topic " + name)));
                    continue;
                }
                TopicMetadata.Builder t = TopicMetadata.newBuilder().setName(name);
                for (int p = 0; p < count; p++) {
                    t.addPartitions(PartitionMetadata.newBuilder().setPartition(p).setLeader(1).setLeaderEpoch(0)
                            .addReplicas(1).addIsr(1));
                }
                r.addTopics(t);
            }
            observer.onNext(r.build());
            observer.onCompleted();
        }

        @Override
        public void fetch(io.raftmq.protocol.broker.FetchRequest request,
                StreamObserver<io.raftmq.protocol.broker.FetchResponse> observer) {
            io.raftmq.protocol.broker.FetchResponse.Builder r = io.raftmq.protocol.broker.FetchResponse.newBuilder();
            boolean any = false;
            for (io.raftmq.protocol.broker.FetchTopic t : request.getTopicsList()) {
                io.raftmq.protocol.broker.FetchableTopicResponse.Builder tr =
                        io.raftmq.protocol.broker.FetchableTopicResponse.newBuilder().setName(t.getName());
                for (io.raftmq.protocol.broker.FetchPartition p : t.getPartitionsList()) {
                    Object[] read = read(t.getName() + "-" + p.getPartition(), p.getFetchOffset());
                    io.raftmq.protocol.broker.FetchablePartitionResponse.Builder pr =
                            io.raftmq.protocol.broker.FetchablePartitionResponse.newBuilder()
                                    .setPartition(p.getPartition());
                    if (read == null) {
                        pr.setError(Error.newBuilder().setCode(ErrorCode.OFFSET_OUT_OF_RANGE));
                    } else {
                        byte[] bytes = (byte[]) read[0];
                        any |= bytes.length > 0;
                        pr.setHighWatermark((Long) read[1]).setRecords(com.google.protobuf.ByteString.copyFrom(bytes));
                    }
                    tr.addPartitions(pr);
                }
                r.addTopics(tr);
            }
            if (!any) {
                try {
                    Thread.sleep(Math.min(50, request.getMaxWaitMs()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            observer.onNext(r.build());
            observer.onCompleted();
        }

        @Override
        public void listOffsets(io.raftmq.protocol.broker.ListOffsetsRequest request,
                StreamObserver<io.raftmq.protocol.broker.ListOffsetsResponse> observer) {
            io.raftmq.protocol.broker.ListOffsetsResponse.Builder r =
                    io.raftmq.protocol.broker.ListOffsetsResponse.newBuilder();
            for (io.raftmq.protocol.broker.ListOffsetsTopic t : request.getTopicsList()) {
                io.raftmq.protocol.broker.ListOffsetsTopicResponse.Builder tr =
                        io.raftmq.protocol.broker.ListOffsetsTopicResponse.newBuilder().setName(t.getName());
                for (io.raftmq.protocol.broker.ListOffsetsPartition p : t.getPartitionsList()) {
                    long end = log(t.getName(), p.getPartition()).size();
                    tr.addPartitions(io.raftmq.protocol.broker.ListOffsetsPartitionResponse.newBuilder()
                            .setPartition(p.getPartition()).setOffset(p.getTimestamp() == -2 ? 0 : end)
                            .setTimestamp(-1));
                }
                r.addTopics(tr);
            }
            observer.onNext(r.build());
            observer.onCompleted();
        }

        @Override
        public void initProducerId(InitProducerIdRequest request, StreamObserver<InitProducerIdResponse> observer) {
            if (!supportsProducerIds) {
                observer.onError(Status.UNIMPLEMENTED.withDescription("InitProducerId").asRuntimeException());
                return;
            }
            observer.onNext(InitProducerIdResponse.newBuilder().setProducerId(nextProducerId.getAndIncrement())
                    .setProducerEpoch(0).build());
            observer.onCompleted();
        }

        @Override
        public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
            produceRequests.incrementAndGet();
            ProduceResponse.Builder response = ProduceResponse.newBuilder();
            boolean hold = false;
            for (TopicProduceData t : request.getTopicsList()) {
                TopicProduceResponse.Builder tr = TopicProduceResponse.newBuilder().setName(t.getName());
                for (PartitionProduceData p : t.getPartitionsList()) {
                    ByteBuffer bytes = p.getRecords().asReadOnlyByteBuffer();
                    ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
                    RecordBatch batch = RecordBatch.readFrom(copy);
                    String key = t.getName() + "-" + p.getPartition();
                    int attempt = attempts.computeIfAbsent(key, k -> new AtomicInteger()).getAndIncrement();
                    arrivals.add(new Arrival(t.getName(), p.getPartition(), batch.producerId(), batch.baseSequence(),
                            batch.recordCount(), System.nanoTime()));
                    Action action = hook.decide(t.getName(), p.getPartition(), batch.baseSequence(), attempt);
                    PartitionProduceResponse.Builder pr = PartitionProduceResponse.newBuilder()
                            .setPartition(p.getPartition()).setLogAppendTimeMs(-1).setCurrentLeader(-1);
                    if (action == Action.REFUSE) {
                        pr.setError(Error.newBuilder().setCode(refuseWith).setMessage("refused by the test"))
                                .setBaseOffset(-1);
                    } else {
                        long[] result = append(key, batch);
                        if (result[0] != 0) {
                            pr.setError(Error.newBuilder().setCode(ErrorCode.forNumber((int) result[0]))
                                    .setMessage("sequence check")).setBaseOffset(result[1]);
                        } else if (action == Action.APPEND_THEN_FAIL) {
                            pr.setError(Error.newBuilder().setCode(ErrorCode.REQUEST_TIMED_OUT)
                                    .setMessage("answer lost (test)")).setBaseOffset(-1);
                        } else {
                            pr.setBaseOffset(result[1]);
                        }
                        hold |= action == Action.HOLD;
                    }
                    tr.addPartitions(pr);
                }
                response.addTopics(tr);
            }
            if (hold) {
                held.add(observer);
                return;
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }
    }

    /** Appends unless the sequence check refuses: {error code number, base offset}. */
    private synchronized long[] append(String key, RecordBatch batch) {
        List<Record> log = logs.computeIfAbsent(key, k -> new ArrayList<>());
        if (batch.producerId() >= 0) {
            String producerKey = key + "/" + batch.producerId();
            int[] last = lastSequence.computeIfAbsent(producerKey, k -> new int[] {-1, -1});
            long[] lastOffset = lastBatchOffset.computeIfAbsent(producerKey, k -> new long[] {-1});
            if (last[0] == batch.baseSequence() && batch.baseSequence() >= 0) {
                return new long[] {ErrorCode.DUPLICATE_SEQUENCE_NUMBER.getNumber(), lastOffset[0]};
            }
            if (last[1] == -1 && batch.baseSequence() != 0) {
                // As the real leader: a producer it has never seen must start at sequence 0.
                return new long[] {ErrorCode.UNKNOWN_PRODUCER_ID.getNumber(), -1};
            }
            if (batch.baseSequence() != last[1] + 1) {
                return new long[] {ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER.getNumber(), -1};
            }
            last[0] = batch.baseSequence();
            last[1] = batch.lastSequence();
            lastOffset[0] = log.size();
        }
        long base = log.size();
        ByteBuffer stored = ByteBuffer.allocate(batch.sizeInBytes()).put(batch.buffer()).flip();
        RecordBatch.readFrom(stored).setBaseOffset(base);
        batches.computeIfAbsent(key, k -> new ArrayList<>()).add(stored);
        for (Record r : batch.records()) {
            log.add(new Record(base + (r.offset() - batch.baseOffset()), r.timestamp(), r.sequence(), r.key(), r.value(),
                    r.headers()));
        }
        return new long[] {0, base};
    }

    /** Batches holding offsets at or after {@code offset}, and the log end; null when out of range. */
    synchronized Object[] read(String key, long offset) {
        List<Record> log = logs.getOrDefault(key, List.of());
        if (offset > log.size()) {
            return null;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (ByteBuffer b : batches.getOrDefault(key, List.of())) {
            RecordBatch rb = RecordBatch.readFrom(b.duplicate());
            if (rb.lastOffset() >= offset) {
                byte[] bytes = new byte[b.remaining()];
                b.duplicate().get(bytes);
                out.writeBytes(bytes);
            }
        }
        return new Object[] {out.toByteArray(), (long) log.size()};
    }

    @Override
    public void close() {
        for (StreamObserver<ProduceResponse> o : held) {
            try {
                o.onError(Status.UNAVAILABLE.asRuntimeException());
            } catch (RuntimeException ignored) {
                // already cancelled
            }
        }
        server.shutdownNow();
    }
}
