package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.common.ApiError;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.replication.ProduceResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.LeaderIdAndEpoch;
import org.apache.kafka.common.message.ProduceResponseData.NodeEndpoint;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Kafka Produce v3-13, translated to {@link BrokerApi#produce} and back. Topics are named (v3-12)
 * or given by id (v13, resolved in this broker's metadata; an unknown id is UNKNOWN_TOPIC_ID for
 * its partitions and they are not written). Below v7 a partition whose records hold a zstd batch
 * is not written either: UNSUPPORTED_COMPRESSION_TYPE, as Kafka answers. Each partition's records are the request's own
 * writable buffer, handed on without a copy. A request-level refusal (invalid acks, a partition
 * twice, a transactional produce) is answered on every partition. acks=0 gets no answer, unless a
 * partition failed: then the connection is closed, as Kafka does, so that the producer notices and
 * refreshes its metadata. A partition of a topic the principal may not WRITE is not written:
 * TOPIC_AUTHORIZATION_FAILED. v10+ answers name the current leader beside NOT_LEADER_OR_FOLLOWER with
 * its Kafka endpoint.
 *
 * <p>Stateless; called on a connection's event loop. The answer completes there (acks 0 and 1) or
 * on the thread that sees acks=all met or timed out.
 */
final class ProduceHandler {
    private final BrokerApi api;
    private final KafkaAuthorization authz;

    ProduceHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    /** The first Produce version that may carry zstd batches (KIP-110). */
    static final short MIN_ZSTD_PRODUCE_VERSION = 7;

    /**
     * A partition of the request, in request order: {@code refused} is its error when it is not
     * produced at all ({@code tp} null when its topic id is unknown).
     */
    private record Slot(int partition, TopicPartition tp, ApiError refused) {}

    CompletableFuture<KafkaResponse> produce(KafkaRequest request) {
        ProduceRequestData data = (ProduceRequestData) request.body();
        short version = request.apiVersion();
        MetadataImage image = api.image();
        List<Slot> slots = new ArrayList<>();
        List<BrokerApi.PartitionRecords> toProduce = new ArrayList<>();
        for (TopicProduceData topic : data.topicData()) {
            String name = topic.name();
            ApiError unresolved = null;
            if (version >= 13) {
                TopicImage t = image.topic(KafkaIds.fromKafka(topic.topicId()));
                name = t == null ? null : t.name();
                unresolved = t != null ? null : ApiError.of(ErrorCode.UNKNOWN_TOPIC_ID, "no topic has id %s",
                        topic.topicId());
            }
            ApiError denied = name == null || authz.rules().mayProduce(caller(request), name) ? null
                    : KafkaAuthorization.topicDenied(request, AclOperation.WRITE, name);
            for (PartitionProduceData p : topic.partitionData()) {
                if (name == null) {
                    slots.add(new Slot(p.index(), null, unresolved));
                    continue;
                }
                TopicPartition tp = new TopicPartition(name, p.index());
                if (denied != null) {
                    slots.add(new Slot(p.index(), tp, denied));
                    continue;
                }
                ByteBuffer records = buffer(p.records());
                if (version < MIN_ZSTD_PRODUCE_VERSION && containsZstd(records)) {
                    slots.add(new Slot(p.index(), tp, ApiError.of(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
                            "Produce v%d may not carry zstd batches (v%d+ may); nothing written to %s", version,
                            MIN_ZSTD_PRODUCE_VERSION, tp)));
                    continue;
                }
                slots.add(new Slot(p.index(), tp, null));
                toProduce.add(new BrokerApi.PartitionRecords(tp, records));
            }
        }
        CompletableFuture<BrokerApi.ProduceAnswer> produced = api.produce(data.transactionalId(), data.acks(),
                data.timeoutMs(), toProduce).exceptionally(e -> new BrokerApi.ProduceAnswer(BrokerApi.internal(e),
                Map.of()));
        return request.onLoop(produced, answer -> data.acks() == 0 ? acksZero(request, slots, answer)
                : KafkaResponse.send(response(data, version, slots, answer)));
    }

    /** The records as they arrived: the request's own buffer (not a copy); none is an empty append. */
    private static ByteBuffer buffer(BaseRecords records) {
        if (records == null) {
            return ByteBuffer.allocate(0); // refused by the log's validation like an empty set
        }
        if (records instanceof MemoryRecords memory) {
            return memory.buffer(); // a view of the request's buffer
        }
        throw new IllegalArgumentException("produce records parsed as " + records.getClass().getName()
                + ", not MemoryRecords");
    }

    /** Whether a batch header in {@code records} names zstd; a malformed rest is left to the log's validation. */
    private static boolean containsZstd(ByteBuffer records) {
        int at = records.position();
        while (records.limit() - at > RecordBatch.ATTRIBUTES_OFFSET + 1) {
            if ((records.getShort(at + RecordBatch.ATTRIBUTES_OFFSET) & 0x07) == CompressionType.ZSTD.id) {
                return true;
            }
            int size = RecordBatch.sizeOfBatchAt(records, at);
            if (size < RecordBatch.RECORD_BATCH_OVERHEAD) {
                return false;
            }
            at += size;
        }
        return false;
    }

    /** The outcome of one partition: the request's error, its translation's, or its own. */
    private static ProduceResult outcome(Slot slot, BrokerApi.ProduceAnswer answer) {
        if (answer.error().isFailure()) {
            return new ProduceResult(answer.error(), -1, -1, -1, -1, -1);
        }
        if (slot.refused() != null) {
            return new ProduceResult(slot.refused(), -1, -1, -1, -1, -1);
        }
        return answer.results().get(slot.tp());
    }

    private ProduceResponseData response(ProduceRequestData data, short version, List<Slot> slots,
            BrokerApi.ProduceAnswer answer) {
        ProduceResponseData response = new ProduceResponseData().setThrottleTimeMs(0);
        LeaderEndpoints leaders = new LeaderEndpoints(api.image());
        Iterator<Slot> slot = slots.iterator();
        for (TopicProduceData topic : data.topicData()) {
            TopicProduceResponse t = version >= 13 ? new TopicProduceResponse().setTopicId(topic.topicId())
                    : new TopicProduceResponse().setName(topic.name());
            for (int i = 0; i < topic.partitionData().size(); i++) {
                Slot s = slot.next();
                ProduceResult r = outcome(s, answer);
                short code = KafkaErrors.code(r.error());
                PartitionProduceResponse p = new PartitionProduceResponse()
                        .setIndex(s.partition())
                        .setErrorCode(code)
                        .setBaseOffset(r.baseOffset())
                        .setLogAppendTimeMs(r.logAppendTimeMs())
                        .setLogStartOffset(r.logStartOffset());
                if (version >= 8) {
                    p.setErrorMessage(KafkaErrors.message(r.error()));
                }
                if (version >= 10 && LeaderEndpoints.namesLeader(code)) {
                    p.setCurrentLeader(new LeaderIdAndEpoch().setLeaderId(r.currentLeader())
                            .setLeaderEpoch(r.currentLeaderEpoch()));
                    leaders.add(r.currentLeader());
                }
                t.partitionResponses().add(p);
            }
            response.responses().add(t);
        }
        if (version >= 10) {
            for (LeaderEndpoints.Node n : leaders.nodes()) {
                response.nodeEndpoints().add(new NodeEndpoint().setNodeId(n.id()).setHost(n.host())
                        .setPort(n.port()).setRack(n.rack()));
            }
        }
        return response;
    }

    /** acks=0: no answer, or the connection closed when a partition failed (the only way to tell). */
    private static KafkaResponse acksZero(KafkaRequest request, List<Slot> slots, BrokerApi.ProduceAnswer answer) {
        StringBuilder failed = new StringBuilder();
        int failures = 0;
        for (Slot s : slots) {
            ProduceResult r = outcome(s, answer);
            if (r.error().isFailure()) {
                if (failures++ < 3) {
                    failed.append(failures > 1 ? "; " : "").append(s.tp() != null ? s.tp() : "partition "
                            + s.partition()).append(": ").append(Errors.forCode(KafkaErrors.code(r.error())))
                            .append(" (").append(r.error().message()).append(')');
                }
            }
        }
        if (failures == 0) {
            return KafkaResponse.NO_RESPONSE;
        }
        return new KafkaResponse.Close(String.format("acks=0 produce (correlation id %d, client '%s') failed on %d"
                + " partition(s): %s%s", request.header().correlationId(), request.header().clientId(), failures,
                failed, failures > 3 ? "; ..." : ""));
    }
}
