package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.replication.ReplicaManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.Errors;

/**
 * Kafka ListOffsets v1-11, OffsetForLeaderEpoch v2-4 and InitProducerId v0-6, translated to
 * {@link BrokerApi#listOffsets}, {@link BrokerApi#offsetForLeaderEpoch} and
 * {@link BrokerApi#initProducerId} and back.
 *
 * <p>What only the Kafka wire decides is here: a special ListOffsets timestamp the request's
 * version does not have (-3 below v7, -4 below v8, -5 below v9, -6 below v11) is
 * UNSUPPORTED_VERSION, as Kafka answers; the isolation level changes nothing (no transactions:
 * the last stable offset is the high watermark, which "latest" already is). A ListOffsets or
 * OffsetForLeaderEpoch from a Kafka replica (replica id >= 0) is NOT_LEADER_OR_FOLLOWER on every
 * partition, as for a replica's Fetch (see {@link FetchHandler}); other negative ids (Kafka's
 * debugging id -2, OffsetForLeaderEpoch's default) are answered as a consumer's. InitProducerId v6
 * asking for two-phase commit (enable2Pc, keepPreparedTxn) is INVALID_REQUEST: it is a
 * transactions feature (a transactional id itself is refused by the broker API with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 *
 * <p>Authorization as Kafka's: ListOffsets and OffsetForLeaderEpoch need DESCRIBE on the topic
 * (else TOPIC_AUTHORIZATION_FAILED, and its log is not read); an idempotent InitProducerId needs
 * IDEMPOTENT_WRITE on the cluster or WRITE on some topic (else CLUSTER_AUTHORIZATION_FAILED).
 *
 * <p>Stateless; called on a connection's event loop. ListOffsets and OffsetForLeaderEpoch answer
 * at once; InitProducerId may wait for a block of producer ids from the controller.
 */
final class OffsetsHandler {
    /** The first ListOffsets version that has each special timestamp (KIP-734, KIP-405, KIP-1005, KIP-1023). */
    private static final Map<Long, Short> TIMESTAMP_SINCE_VERSION = Map.of(
            ReplicaManager.LATEST_TIMESTAMP, (short) 0,
            ReplicaManager.EARLIEST_TIMESTAMP, (short) 0,
            ReplicaManager.MAX_TIMESTAMP, (short) 7,
            ReplicaManager.EARLIEST_LOCAL_TIMESTAMP, (short) 8,
            ReplicaManager.LATEST_TIERED_TIMESTAMP, (short) 9,
            ReplicaManager.EARLIEST_PENDING_UPLOAD_TIMESTAMP, (short) 11);

    private final BrokerApi api;
    private final KafkaAuthorization authz;

    OffsetsHandler(BrokerApi api, KafkaAuthorization authz) {
        this.api = api;
        this.authz = authz;
    }

    CompletableFuture<KafkaResponse> listOffsets(KafkaRequest request) {
        ListOffsetsRequestData data = (ListOffsetsRequestData) request.body();
        short version = request.apiVersion();
        boolean fromReplica = data.replicaId() >= 0;
        List<BrokerApi.OffsetQuery> queries = new ArrayList<>();
        Map<String, Boolean> describable = new HashMap<>();
        for (ListOffsetsTopic topic : data.topics()) {
            if (!describable.computeIfAbsent(topic.name(),
                    t -> authz.rules().mayDescribeTopic(caller(request), t))) {
                continue;
            }
            for (ListOffsetsPartition p : topic.partitions()) {
                // A timestamp this version may not ask for is refused below; no log is read for it.
                long timestamp = supported(p.timestamp(), version) ? p.timestamp() : ReplicaManager.LATEST_TIMESTAMP;
                queries.add(new BrokerApi.OffsetQuery(new TopicPartition(topic.name(), p.partitionIndex()),
                        timestamp, p.currentLeaderEpoch()));
            }
        }
        Iterator<ReplicaManager.ListOffsetResult> results = fromReplica ? null
                : api.listOffsets(queries).iterator();
        ListOffsetsResponseData response = new ListOffsetsResponseData().setThrottleTimeMs(0);
        for (ListOffsetsTopic topic : data.topics()) {
            ListOffsetsTopicResponse t = new ListOffsetsTopicResponse().setName(topic.name());
            for (ListOffsetsPartition p : topic.partitions()) {
                ListOffsetsPartitionResponse out = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex())
                        .setTimestamp(-1)
                        .setOffset(-1);
                boolean allowed = describable.get(topic.name());
                ReplicaManager.ListOffsetResult r = results == null || !allowed ? null : results.next();
                if (fromReplica) {
                    out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                } else if (!allowed) {
                    out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (!supported(p.timestamp(), version)) {
                    out.setErrorCode(Errors.UNSUPPORTED_VERSION.code());
                } else if (r.error().isFailure()) {
                    out.setErrorCode(KafkaErrors.code(r.error()));
                } else {
                    out.setErrorCode(Errors.NONE.code()).setTimestamp(r.timestamp()).setOffset(r.offset());
                    if (version >= 4) {
                        out.setLeaderEpoch(r.leaderEpoch());
                    }
                }
                t.partitions().add(out);
            }
            response.topics().add(t);
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    /** Whether the request's version has this timestamp (any time >= 0; the specials from their version on). */
    private static boolean supported(long timestamp, short version) {
        Short since = TIMESTAMP_SINCE_VERSION.get(timestamp);
        // An unknown negative timestamp is the API's to refuse.
        return timestamp >= 0 || since == null || version >= since;
    }

    CompletableFuture<KafkaResponse> offsetForLeaderEpoch(KafkaRequest request) {
        OffsetForLeaderEpochRequestData data = (OffsetForLeaderEpochRequestData) request.body();
        boolean fromReplica = data.replicaId() >= 0;
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData().setThrottleTimeMs(0);
        for (OffsetForLeaderTopic topic : data.topics()) {
            OffsetForLeaderTopicResult t = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            for (OffsetForLeaderPartition p : topic.partitions()) {
                EpochEndOffset out = new EpochEndOffset().setPartition(p.partition()).setLeaderEpoch(-1)
                        .setEndOffset(-1);
                if (fromReplica) {
                    out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                } else if (!authz.rules().mayDescribeTopic(caller(request), topic.topic())) {
                    out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else {
                    ReplicaManager.EpochEndResult r = api.offsetForLeaderEpoch(new TopicPartition(topic.topic(),
                            p.partition()), p.currentLeaderEpoch(), p.leaderEpoch());
                    out.setErrorCode(KafkaErrors.code(r.error())).setLeaderEpoch(r.leaderEpoch())
                            .setEndOffset(r.endOffset());
                }
                t.partitions().add(out);
            }
            response.topics().add(t);
        }
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    CompletableFuture<KafkaResponse> initProducerId(KafkaRequest request) {
        InitProducerIdRequestData data = (InitProducerIdRequestData) request.body();
        if (data.enable2Pc() || data.keepPreparedTxn()) {
            return CompletableFuture.completedFuture(KafkaResponse.send(new InitProducerIdResponseData()
                    .setThrottleTimeMs(0).setErrorCode(Errors.INVALID_REQUEST.code()).setProducerId(-1)
                    .setProducerEpoch((short) -1)));
        }
        boolean transactional = data.transactionalId() != null && !data.transactionalId().isEmpty();
        if (!transactional && !authz.rules().mayInitIdempotentProducer(caller(request))) {
            // Kafka: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
            return CompletableFuture.completedFuture(KafkaResponse.send(new InitProducerIdResponseData()
                    .setThrottleTimeMs(0).setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setProducerId(-1).setProducerEpoch((short) -1)));
        }
        // v0-2 have no producer id or epoch: the defaults (-1, -1) ask for a new id.
        return request.onLoop(api.initProducerId(data.transactionalId(), data.producerId(), data.producerEpoch()),
                r -> KafkaResponse.send(new InitProducerIdResponseData()
                        .setThrottleTimeMs(0)
                        .setErrorCode(KafkaErrors.code(r.error()))
                        .setProducerId(r.producerId())
                        .setProducerEpoch((short) r.producerEpoch())));
    }
}
