package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaAuthorization.caller;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.kafka.FetchSessionCache.FetchKey;
import io.raftmq.broker.kafka.FetchSessionCache.PartitionAnswer;
import io.raftmq.broker.kafka.FetchSessionCache.PartitionFetch;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.record.CompressionType;
import io.raftmq.replication.FetchResult;
import io.raftmq.replication.FetchSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchRequestData.ForgottenTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.EpochEndOffset;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.LeaderIdAndEpoch;
import org.apache.kafka.common.message.FetchResponseData.NodeEndpoint;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Kafka Fetch v4-18 from consumers, translated to {@link BrokerApi#fetch} and back, within the
 * fetch session protocol of {@link FetchSessionCache}. Topics are named (v4-12) or given by id
 * (v13+, resolved in this broker's metadata: an unknown id is UNKNOWN_TOPIC_ID and, as the API
 * does for a partition it cannot serve, the fetch is answered without waiting). A partition of a
 * topic the principal may not READ is TOPIC_AUTHORIZATION_FAILED, also answered without waiting.
 *
 * <p>Per partition: fetch offset, partition max bytes, current leader epoch (v9+), last fetched
 * epoch (v12+: a divergence is answered as diverging epoch); the log start offset followers send
 * is ignored. Records are the log's file region ({@link LogSliceRecords}), never read here: the
 * listener sends it. READ_COMMITTED reads up to the last stable offset, which without
 * transactions is the high watermark the API reads to anyway; its answers carry an empty aborted
 * transaction list. The rack id is ignored: the preferred read replica is always -1. Beside
 * NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH the answer names the current leader (v12+, where
 * the schema has the field; Kafka's broker fills it from v16) and its Kafka endpoint (v16+). A
 * storage error is NOT_LEADER_OR_FOLLOWER for v4-5 clients, which may not know it (as Kafka).
 * Below v10 a partition whose records hold a zstd batch is UNSUPPORTED_COMPRESSION_TYPE without
 * records: such clients cannot read zstd (the batch headers of the region are read to tell).
 *
 * <p>A fetch from a replica (replica id >= 0) is refused with NOT_LEADER_OR_FOLLOWER on every
 * partition, Kafka's answer to a replica it does not recognise as one of the partition's: raftmq
 * replicates over its own protocol, so no Kafka follower is ever one.
 *
 * <p>Called on a connection's event loop; the answer completes there or on the thread that ends
 * the long poll. State lives in the shared session cache only.
 */
final class FetchHandler {
    /** The first Fetch version whose clients read zstd batches (KIP-110). */
    static final short MIN_ZSTD_FETCH_VERSION = 10;

    private final BrokerApi api;

    private final FetchSessionCache sessions;
    private final KafkaAuthorization authz;

    FetchHandler(BrokerApi api, FetchSessionCache sessions, KafkaAuthorization authz) {
        this.api = api;
        this.sessions = sessions;
        this.authz = authz;
    }

    FetchSessionCache sessions() {
        return sessions;
    }

    CompletableFuture<KafkaResponse> fetch(KafkaRequest request) {
        FetchRequestData data = (FetchRequestData) request.body();
        short version = request.apiVersion();
        boolean byId = version >= 13;
        List<PartitionFetch> requested = new ArrayList<>();
        for (FetchTopic topic : data.topics()) {
            for (FetchPartition p : topic.partitions()) {
                requested.add(new PartitionFetch(key(byId, topic.topicId(), topic.topic(), p.partition()),
                        p.fetchOffset(), p.partitionMaxBytes(), p.currentLeaderEpoch(), p.lastFetchedEpoch()));
            }
        }
        int replicaId = version >= 15 ? data.replicaState().replicaId() : data.replicaId();
        if (replicaId >= 0) {
            return completed(fromReplica(version, requested));
        }
        List<FetchKey> forgotten = new ArrayList<>();
        for (ForgottenTopic topic : data.forgottenTopicsData()) {
            for (int partition : topic.partitions()) {
                forgotten.add(key(byId, topic.topicId(), topic.topic(), partition));
            }
        }
        FetchSessionCache.Context context = sessions.open(byId, data.sessionId(), data.sessionEpoch(), requested,
                forgotten);
        if (context instanceof FetchSessionCache.Refused refused) {
            return completed(new FetchResponseData().setThrottleTimeMs(0).setErrorCode(refused.error().code())
                    .setSessionId(0));
        }
        MetadataImage image = api.image();
        List<PartitionFetch> toFetch = context.partitions();
        Map<FetchKey, TopicPartition> names = new HashMap<>();
        List<BrokerApi.FetchPartition> partitions = new ArrayList<>(toFetch.size());
        Map<String, Boolean> readable = new HashMap<>();
        Map<FetchKey, Short> refused = new HashMap<>();
        for (PartitionFetch p : toFetch) {
            TopicPartition tp = resolve(image, p.key());
            if (tp == null) {
                refused.put(p.key(), Errors.UNKNOWN_TOPIC_ID.code());
                continue;
            }
            if (!readable.computeIfAbsent(tp.topic(), t -> authz.rules().mayFetch(caller(request), t))) {
                refused.put(p.key(), Errors.TOPIC_AUTHORIZATION_FAILED.code());
                continue;
            }
            names.put(p.key(), tp);
            partitions.add(new BrokerApi.FetchPartition(tp, new FetchSpec(p.fetchOffset(), p.maxBytes(),
                    p.currentLeaderEpoch(), p.lastFetchedEpoch())));
        }
        boolean readCommitted = data.isolationLevel() == IsolationLevel.READ_COMMITTED.id();
        CompletableFuture<BrokerApi.FetchAnswer> fetched = api.fetch(refused.isEmpty() ? data.maxWaitMs() : 0,
                data.minBytes(), data.maxBytes(), partitions)
                .exceptionally(e -> new BrokerApi.FetchAnswer(BrokerApi.internal(e), Map.of()));
        return request.onLoop(fetched, answer -> KafkaResponse.send(answer.error().isFailure()
                ? refusedWhole(version, toFetch, KafkaErrors.code(answer.error()))
                : response(version, context, toFetch, names, refused, answer, readCommitted)));
    }

    private static CompletableFuture<KafkaResponse> completed(FetchResponseData response) {
        return CompletableFuture.completedFuture(KafkaResponse.send(response));
    }

    private static FetchKey key(boolean byId, Uuid topicId, String topic, int partition) {
        return byId ? FetchKey.byId(topicId, partition) : FetchKey.byName(topic, partition);
    }

    /** The partition in this broker's metadata, or null when no topic has the key's id. */
    private static TopicPartition resolve(MetadataImage image, FetchKey key) {
        if (key.topic() != null) {
            return new TopicPartition(key.topic(), key.partition());
        }
        TopicImage topic = image.topic(KafkaIds.fromKafka(key.topicId()));
        return topic == null ? null : new TopicPartition(topic.name(), key.partition());
    }

    private FetchResponseData response(short version, FetchSessionCache.Context context, List<PartitionFetch> toFetch,
            Map<FetchKey, TopicPartition> names, Map<FetchKey, Short> refused, BrokerApi.FetchAnswer answer,
            boolean readCommitted) {
        List<PartitionAnswer> answers = new ArrayList<>(toFetch.size());
        for (PartitionFetch p : toFetch) {
            TopicPartition tp = names.get(p.key());
            if (tp == null) {
                answers.add(new PartitionAnswer(p.key(), errorData(p.key(), refused.get(p.key())), false));
                continue;
            }
            FetchResult r = answer.results().get(tp);
            answers.add(new PartitionAnswer(p.key(), partitionData(version, p.key(), r, readCommitted),
                    r.divergingEpoch() != null));
        }
        FetchSessionCache.Outcome outcome = context.answer(answers);
        FetchResponseData response = new FetchResponseData().setThrottleTimeMs(0);
        if (version >= 7) {
            response.setErrorCode(outcome.error().code()).setSessionId(outcome.sessionId());
        }
        LeaderEndpoints leaders = new LeaderEndpoints(api.image());
        FetchableTopicResponse topic = null;
        FetchKey previous = null;
        for (PartitionAnswer a : outcome.partitions()) {
            // Consecutive partitions of one topic share an entry, as Kafka writes them.
            if (previous == null || !previous.sameTopic(a.key())) {
                topic = topicResponse(version, a.key());
                response.responses().add(topic);
            }
            previous = a.key();
            topic.partitions().add(a.data());
            if (LeaderEndpoints.namesLeader(a.data().errorCode())) {
                leaders.add(a.data().currentLeader().leaderId());
            }
        }
        if (version >= 16) {
            for (LeaderEndpoints.Node n : leaders.nodes()) {
                response.nodeEndpoints().add(new NodeEndpoint().setNodeId(n.id()).setHost(n.host()).setPort(n.port())
                        .setRack(n.rack()));
            }
        }
        return response;
    }

    private static FetchableTopicResponse topicResponse(short version, FetchKey key) {
        return version >= 13 ? new FetchableTopicResponse().setTopicId(key.topicId())
                : new FetchableTopicResponse().setTopic(key.topic());
    }

    private static PartitionData partitionData(short version, FetchKey key, FetchResult r, boolean readCommitted) {
        if (version < MIN_ZSTD_FETCH_VERSION && !r.records().isEmpty()) {
            Short refused = zstdRefusal(version, r);
            if (refused != null) {
                return errorData(key, refused);
            }
        }
        short code = KafkaErrors.code(r.error());
        if (code == Errors.KAFKA_STORAGE_ERROR.code() && version <= 5) {
            // Fetch v4-5 clients may not know the storage error; Kafka sends them this retriable one.
            code = Errors.NOT_LEADER_OR_FOLLOWER.code();
        }
        PartitionData p = new PartitionData()
                .setPartitionIndex(key.partition())
                .setErrorCode(code)
                .setHighWatermark(r.highWatermark())
                .setLastStableOffset(r.highWatermark()) // no transactions: nothing is unstable
                .setLogStartOffset(r.logStartOffset())
                .setAbortedTransactions(readCommitted ? new ArrayList<>() : null)
                .setPreferredReadReplica(-1)
                .setRecords(r.records().isEmpty() ? MemoryRecords.EMPTY : new LogSliceRecords(r.records()));
        if (version >= 12 && r.divergingEpoch() != null) {
            p.setDivergingEpoch(new EpochEndOffset().setEpoch(r.divergingEpoch().epoch())
                    .setEndOffset(r.divergingEpoch().endOffset()));
        }
        if (version >= 12 && LeaderEndpoints.namesLeader(code)) {
            p.setCurrentLeader(new LeaderIdAndEpoch().setLeaderId(r.currentLeader())
                    .setLeaderEpoch(r.currentLeaderEpoch()));
        }
        return p;
    }

    /**
     * Fetch below v10 cannot carry zstd (clients that old cannot read it): UNSUPPORTED_COMPRESSION_TYPE
     * when the records hold a zstd batch, as Kafka answers, else null. A read error is
     * KAFKA_STORAGE_ERROR (NOT_LEADER_OR_FOLLOWER for v4-5, as for any storage error).
     */
    private static Short zstdRefusal(short version, FetchResult r) {
        try {
            return r.records().containsCompression(CompressionType.ZSTD.id)
                    ? Errors.UNSUPPORTED_COMPRESSION_TYPE.code() : null;
        } catch (IOException e) {
            return version <= 5 ? Errors.NOT_LEADER_OR_FOLLOWER.code() : Errors.KAFKA_STORAGE_ERROR.code();
        }
    }

    /** A partition answered with only an error, as Kafka answers one it does not read. */
    private static PartitionData errorData(FetchKey key, short code) {
        return new PartitionData()
                .setPartitionIndex(key.partition())
                .setErrorCode(code)
                .setHighWatermark(-1)
                .setLastStableOffset(-1)
                .setLogStartOffset(-1)
                .setAbortedTransactions(null)
                .setPreferredReadReplica(-1)
                .setRecords(MemoryRecords.EMPTY);
    }

    /** Every partition with one error (and the top-level error from v7); no session. */
    private static FetchResponseData refusedWhole(short version, List<PartitionFetch> partitions, short code) {
        FetchResponseData response = new FetchResponseData().setThrottleTimeMs(0);
        if (version >= 7) {
            response.setErrorCode(code).setSessionId(0);
        }
        FetchableTopicResponse topic = null;
        FetchKey previous = null;
        for (PartitionFetch p : partitions) {
            if (previous == null || !previous.sameTopic(p.key())) {
                topic = topicResponse(version, p.key());
                response.responses().add(topic);
            }
            previous = p.key();
            topic.partitions().add(errorData(p.key(), code));
        }
        return response;
    }

    /** A fetch from a Kafka replica: not served (see the class comment). */
    private static FetchResponseData fromReplica(short version, List<PartitionFetch> requested) {
        FetchResponseData response = refusedWhole(version, requested, Errors.NOT_LEADER_OR_FOLLOWER.code());
        return version >= 7 ? response.setErrorCode(Errors.NONE.code()) : response;
    }
}
