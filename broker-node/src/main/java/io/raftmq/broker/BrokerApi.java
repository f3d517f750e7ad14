package io.raftmq.broker;

import io.raftmq.broker.group.GroupCoordinatorConfig;
import io.raftmq.common.ApiError;
import io.raftmq.common.Time;
import io.raftmq.metadata.client.BrokerLease;
import io.raftmq.metadata.client.ControllerClient;
import io.raftmq.metadata.client.MetadataWatcher;
import io.raftmq.metadata.controller.TopicNames;
import io.raftmq.metadata.image.AclsImage;
import io.raftmq.metadata.image.BrokerRegistration;
import io.raftmq.metadata.image.MetadataImage;
import io.raftmq.metadata.image.PartitionRegistration;
import io.raftmq.metadata.image.TopicImage;
import io.raftmq.protocol.Acks;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.protocol.common.ErrorCode;
import io.raftmq.protocol.controller.CreatableTopic;
import io.raftmq.protocol.controller.CreatableTopicResult;
import io.raftmq.protocol.controller.CreateTopicsRequest;
import io.raftmq.protocol.controller.CreateTopicsResponse;
import io.raftmq.protocol.record.RecordBatch;
import io.raftmq.replication.FetchResult;
import io.raftmq.replication.FetchSpec;
import io.raftmq.replication.Partition;
import io.raftmq.replication.ProduceResult;
import io.raftmq.replication.ReplicaManager;
import io.raftmq.storage.LogManager;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The broker's client API, protocol-neutral: what both front ends — the gRPC Broker service and
 * the Kafka listener — call in process. Every rule a client request meets on this broker lives
 * here once: which partitions this broker serves and what a client is told when it does not
 * (the leader it knows, or why there is none), the produce and fetch checks and bounds, list
 * offsets, producer ids, auto-creation of topics; and, through {@link #admin()}, topic
 * administration forwarded to the active controller, config descriptions and the log directory.
 * Front ends only translate requests and answers.
 *
 * <p>While this broker's {@link BrokerLease} has expired (the controller has not answered it for
 * longer than its session allows, so another broker may be leading by now) it acts as leader of
 * nothing: produce, fetch, list offsets and offset-for-epoch are answered NOT_LEADER_OR_FOLLOWER
 * naming no leader, and every metadata answer ({@link #image()}) names no leader and lists this
 * broker as fenced ({@link CutOffView}), so clients look elsewhere. The replicas stop leading too
 * (the metadata publisher withholds this broker's leaderships), which answers waiting requests;
 * the check here is on the clock, so it holds from the lease's end even before that.
 *
 * <p>A produced batch whose producer id lies beyond the blocks this broker's metadata knows of
 * may come from a producer that another broker just gave an id from a block this broker's image
 * has not applied yet: such a produce waits, at most {@link #PRODUCER_ID_METADATA_WAIT_MS}, for the
 * image to cover the id before it is checked ({@link ProducerIdCheck}), and every produce that
 * arrives meanwhile waits behind it, so that appends keep their arrival order.
 *
 * <p>Stateless apart from its collaborators and that wait's chain; called from any thread (gRPC
 * threads, the Kafka listener's event loops). Nothing here waits: long polls, acks=all produces,
 * produces waiting for producer ids and forwarded admin calls complete their futures later. A produce writes to the log (the page cache; fsyncs run on
 * the log's flush threads) and a list-offsets by time reads segment headers, on the caller's
 * thread, as the gRPC front end has always done on its transport threads.
 */
public final class BrokerApi {
    /** How long a Metadata answer waits for the topics it auto-creates. */
    static final long AUTO_CREATE_WAIT_MS = 2_000;
    /** The longest a produce waits for this broker's metadata to learn of its producer id's block. */
    static final long PRODUCER_ID_METADATA_WAIT_MS = 2_000;

    private final int brokerId;
    private final MetadataWatcher metadata;
    private final Object producerIdWaitLock = new Object();
    /** The last produce waiting for its producer id's block to reach the image; guarded by producerIdWaitLock. */
    private CompletableFuture<Void> producerIdWait = CompletableFuture.completedFuture(null);
    private final ReplicaManager replicas;
    private final BrokerConfig config;
    private final InitProducerIdHandler initProducerId;
    private final BrokerAdmin admin;
    private final Authorization authorization;
    private final BrokerLease lease;
    private final Time time;
    private final ClientTraffic traffic = new ClientTraffic();

    BrokerApi(int brokerId, MetadataWatcher metadata, ReplicaManager replicas, ControllerClient controller,
            BrokerConfig config, InitProducerIdHandler initProducerId, LogManager logs, BrokerLease lease,
            Time time) {
        this.brokerId = brokerId;
        this.metadata = metadata;
        this.replicas = replicas;
        this.config = config;
        this.initProducerId = initProducerId;
        this.lease = lease;
        this.time = time;
        this.admin = new BrokerAdmin(brokerId, metadata, replicas, controller, config, logs, this::clientView);
        this.authorization = new Authorization(config.authorizer(), this::acls);
    }

    /** The produce and fetch traffic both front ends brought here. */
    public ClientTraffic traffic() {
        return traffic;
    }

    public int brokerId() {
        return brokerId;
    }

    /** Topic administration (forwarded to the controller), configs, log directories. */
    public BrokerAdmin admin() {
        return admin;
    }

    public BrokerConfig config() {
        return config;
    }

    /** The authorization rules both front ends ask, over this broker's ACLs and config. */
    public Authorization authorization() {
        return authorization;
    }

    /**
     * The metadata this broker has applied, as clients may be told it: while the lease has
     * expired, with no leaders and this broker fenced ({@link CutOffView}). Readers keep the
     * reference, it never changes.
     */
    public MetadataImage image() {
        return clientView(metadata.image());
    }

    /**
     * The cluster's ACLs as this broker's metadata has them (read on every authorized request: the
     * image's own, without building a client view).
     */
    public AclsImage acls() {
        return metadata.image().acls();
    }

    private MetadataImage clientView(MetadataImage image) {
        return leading() ? image : CutOffView.of(image, brokerId);
    }

    /** Whether this broker may act as a leader now (its lease holds). */
    private boolean leading() {
        return lease.isHeld(time.monotonicMs());
    }

    /** What a broker whose lease expired answers for a partition. */
    private ApiError cutOff(TopicPartition tp) {
        long silentMs = time.monotonicMs() - (lease.expiresAtMs() - lease.durationMs());
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d leads nothing: the controller has not"
                + " answered it for %d ms (lease %d ms), so another broker may lead %s by now; ask another broker",
                brokerId, lease.everGranted() ? silentMs : -1, lease.durationMs(), tp);
    }

    // ---- metadata ----

    /** A topic a Metadata request asked for: its image, or why there is none. */
    public record TopicLookup(String name, TopicImage topic, ApiError error) {}

    /**
     * The topics a Metadata request asks for: every topic when {@code names} is null, else the
     * named ones in request order. A name the image lacks (other than {@code __consumer_offsets},
     * which the group coordinator creates) is created when {@code allowAutoCreate}
     * and {@code auto.create.topics.enable} (with the cluster's num.partitions and
     * default.replication.factor) and answered once this broker's metadata has it; otherwise it is
     * the controller's refusal, or {@link #unknownTopic} (an invalid name: INVALID_TOPIC, whether or
     * not it would have been created).
     */
    public CompletableFuture<List<TopicLookup>> topics(List<String> names, boolean allowAutoCreate) {
        MetadataImage image = metadata.image();
        if (names == null) {
            return CompletableFuture.completedFuture(image.topicsSorted().stream()
                    .map(t -> new TopicLookup(t.name(), t, ApiError.NONE)).toList());
        }
        Set<String> missing = new HashSet<>();
        for (String name : names) {
            // The offsets topic is created by the group coordinator (FindCoordinator) with the
            // offsets.topic.* settings, never as an ordinary topic.
            if (image.topic(name) == null && !name.equals(GroupCoordinatorConfig.OFFSETS_TOPIC)) {
                missing.add(name);
            }
        }
        if (missing.isEmpty() || !allowAutoCreate || !config.autoCreateTopicsEnable()) {
            return CompletableFuture.completedFuture(lookups(image, names, Map.of()));
        }
        CreateTopicsRequest.Builder create = CreateTopicsRequest.newBuilder();
        names.stream().filter(missing::contains).distinct()
                .forEach(n -> create.addTopics(CreatableTopic.newBuilder().setName(n)));
        // Bounded: a connection's later answers wait behind this one. A creation that takes longer
        // (or a controller that cannot be reached) is answered LEADER_NOT_AVAILABLE, which clients
        // retry; the creation goes on.
        return admin.createTopics(create.build())
                .completeOnTimeout(null, AUTO_CREATE_WAIT_MS, TimeUnit.MILLISECONDS)
                .thenApply(response -> lookups(metadata.image(), names, autoCreateRefusals(missing, response)));
    }

    /** Why each of {@code missing} is not there after an auto-creation answered {@code response} (null: late). */
    private static Map<String, ApiError> autoCreateRefusals(Set<String> missing, CreateTopicsResponse response) {
        Map<String, ApiError> refused = new HashMap<>();
        if (response == null) {
            missing.forEach(n -> refused.put(n, ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE, "topic '%s' is being"
                    + " created; it was not ready within %d ms", n, AUTO_CREATE_WAIT_MS)));
            return refused;
        }
        ErrorCode requestError = response.getError().getCode();
        if (requestError == ErrorCode.NOT_CONTROLLER || requestError == ErrorCode.REQUEST_TIMED_OUT) {
            missing.forEach(n -> refused.put(n, ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE, "topic '%s' could not be"
                    + " created yet: %s", n, response.getError().getMessage())));
        } else if (requestError != ErrorCode.NONE) {
            missing.forEach(n -> refused.put(n, ApiError.fromProto(response.getError())));
        }
        for (CreatableTopicResult r : response.getTopicsList()) {
            ErrorCode code = r.getError().getCode();
            if (code != ErrorCode.NONE && code != ErrorCode.TOPIC_ALREADY_EXISTS) {
                refused.put(r.getName(), ApiError.fromProto(r.getError()));
            }
        }
        return refused;
    }

    private static List<TopicLookup> lookups(MetadataImage image, List<String> names, Map<String, ApiError> refused) {
        List<TopicLookup> out = new ArrayList<>(names.size());
        for (String name : names) {
            TopicImage topic = image.topic(name);
            if (topic != null) {
                out.add(new TopicLookup(name, topic, ApiError.NONE));
            } else if (refused.containsKey(name)) {
                out.add(new TopicLookup(name, null, refused.get(name)));
            } else {
                out.add(new TopicLookup(name, null, unknownTopic(name)));
            }
        }
        return out;
    }

    /**
     * What a client is told about a topic name its request refers to and the metadata lacks:
     * INVALID_TOPIC when the name breaks the naming rules (no such topic can exist), else
     * UNKNOWN_TOPIC_OR_PARTITION.
     */
    public static ApiError unknownTopic(String name) {
        ApiError invalid = TopicNames.validate(name);
        return invalid.isFailure() ? invalid
                : ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", name);
    }

    /**
     * What a client is told about a partition in a Metadata answer: NONE, or LEADER_NOT_AVAILABLE
     * while it has no leader.
     */
    public static ApiError partitionError(TopicImage topic, int partition, PartitionRegistration p) {
        return p.hasLeader() ? ApiError.NONE : ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE,
                "partition %d of topic '%s' has no leader: no in-sync replica %s is alive", partition, topic.name(),
                p.isr());
    }

    /** Replicas of {@code p} on brokers that are not registered and unfenced (Kafka's offline replicas). */
    public static List<Integer> offlineReplicas(MetadataImage image, PartitionRegistration p) {
        List<Integer> out = new ArrayList<>();
        for (int replica : p.replicas()) {
            BrokerRegistration b = image.broker(replica);
            if (b == null || b.isFenced()) {
                out.add(replica);
            }
        }
        return out;
    }

    /**
     * Why this broker cannot serve {@code tp}, from its metadata: the topic or partition does not
     * exist, it has no leader, or another broker leads it (named).
     */
    public ApiError notServedHere(MetadataImage image, TopicPartition tp) {
        TopicImage topic = image.topic(tp.topic());
        if (topic == null) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' does not exist", tp.topic());
        }
        PartitionRegistration p = topic.partition(tp.partition());
        if (p == null) {
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '%s' has %d partition(s); there is no"
                    + " partition %d", tp.topic(), topic.numPartitions(), tp.partition());
        }
        if (!p.hasLeader()) {
            return ApiError.of(ErrorCode.LEADER_NOT_AVAILABLE, "%s has no leader: no in-sync replica %s is alive", tp,
                    p.isr());
        }
        if (p.leader() == brokerId) {
            // Metadata names this broker, but its replica is not open yet (it is applying that metadata).
            return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is becoming the leader of %s (leader"
                    + " epoch %d) and has not opened it yet; retry", brokerId, tp, p.leaderEpoch());
        }
        return ApiError.of(ErrorCode.NOT_LEADER_OR_FOLLOWER, "broker %d is not the leader of %s; the leader is"
                + " broker %d (leader epoch %d)", brokerId, tp, p.leader(), p.leaderEpoch());
    }

    /** The partition as this broker's metadata has it, or null. */
    public static PartitionRegistration partition(MetadataImage image, TopicPartition tp) {
        TopicImage topic = image.topic(tp.topic());
        return topic == null ? null : topic.partition(tp.partition());
    }

    // ---- produce ----

    /**
     * One partition's batches: a private, writable buffer (the leader stamps offsets into it), or
     * a read-only view of a request's bytes, copied only once its batch sizes pass
     * max.message.bytes (so an oversized body is refused without another copy of it).
     */
    public record PartitionRecords(TopicPartition tp, ByteBuffer records) {}

    /**
     * A produce's outcome: a request-level error (nothing was written: invalid acks, a partition
     * listed twice), or a result per partition in request order.
     */
    public record ProduceAnswer(ApiError error, Map<TopicPartition, ProduceResult> results) {}

    /**
     * Validates and appends one request; the answer completes when its acks are met: acks 0 and 1
     * once written (1: durable per the flush mode), -1 once every in-sync replica has the records
     * or {@code timeoutMs} (capped by produce.timeout.cap.ms) passes. A transactional produce (a
     * transactional id, or any transactional batch) is refused whole with
     * TRANSACTIONAL_ID_AUTHORIZATION_FAILED and nothing is written: there are no transactions,
     * as Kafka refuses a producer the transactional id it may not use. The internal topic
     * {@code __consumer_offsets} is refused; partitions this broker does not lead are refused
     * with the leader it knows; a partition whose batches name a producer id the cluster never
     * handed out is refused with UNKNOWN_PRODUCER_ID ({@link ProducerIdCheck}). Partitions are
     * appended in request order, before this returns.
     *
     * @param transactionalId null for a non-transactional producer (Kafka's Produce carries it)
     */
    public CompletableFuture<ProduceAnswer> produce(String transactionalId, int acks, long timeoutMs,
            List<PartitionRecords> partitions) {
        traffic.produceRequest();
        long highestProducerId = -1;
        for (PartitionRecords data : partitions) {
            highestProducerId = Math.max(highestProducerId, ProducerIdCheck.highestProducerId(data.records()));
        }
        synchronized (producerIdWaitLock) {
            boolean behindAWait = !producerIdWait.isDone();
            if (!behindAWait && highestProducerId < allocatedProducerIdEnd(metadata.image())) {
                return produceNow(transactionalId, acks, timeoutMs, partitions);
            }
            long id = highestProducerId;
            long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PRODUCER_ID_METADATA_WAIT_MS);
            CompletableFuture<ProduceAnswer> answer = new CompletableFuture<>();
            producerIdWait = producerIdWait.thenCompose(ignored -> untilProducerIdKnown(id, deadlineNs))
                    .thenRun(() -> produceNow(transactionalId, acks, timeoutMs, partitions).whenComplete((a, e) -> {
                        if (e != null) {
                            answer.completeExceptionally(e);
                        } else {
                            answer.complete(a);
                        }
                    }))
                    .exceptionally(e -> {
                        answer.completeExceptionally(e);
                        return null;
                    });
            return answer;
        }
    }

    /**
     * Completes once this broker's image covers {@code producerId} or the deadline passes (the
     * produce is then checked, and refused if the id is still unknown).
     */
    private CompletableFuture<Void> untilProducerIdKnown(long producerId, long deadlineNs) {
        MetadataImage image = metadata.image();
        long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
        if (producerId < allocatedProducerIdEnd(image) || leftMs <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return metadata.whenApplied(image.offset() + 1).orTimeout(leftMs, TimeUnit.MILLISECONDS)
                .handle((applied, timedOut) -> null)
                .thenCompose(ignored -> untilProducerIdKnown(producerId, deadlineNs));
    }

    private CompletableFuture<ProduceAnswer> produceNow(String transactionalId, int acks, long timeoutMs,
            List<PartitionRecords> partitions) {
        if (acks != Acks.NONE && acks != Acks.LEADER && acks != Acks.ALL) {
            return CompletableFuture.completedFuture(new ProduceAnswer(ApiError.of(ErrorCode.INVALID_REQUIRED_ACKS,
                    "acks must be 0, 1 or -1 (all); got %d", acks), Map.of()));
        }
        ApiError transactional = refuseTransactionalId(transactionalId);
        if (transactional.isFailure()) {
            return CompletableFuture.completedFuture(new ProduceAnswer(transactional, Map.of()));
        }
        MetadataImage image = metadata.image();
        boolean leading = leading();
        Map<TopicPartition, ByteBuffer> toAppend = new LinkedHashMap<>();
        Map<TopicPartition, ProduceResult> refused = new HashMap<>();
        List<TopicPartition> order = new ArrayList<>(partitions.size());
        Set<TopicPartition> seen = new HashSet<>();
        for (PartitionRecords data : partitions) {
            TopicPartition tp = data.tp();
            if (!seen.add(tp)) {
                return CompletableFuture.completedFuture(new ProduceAnswer(ApiError.of(ErrorCode.INVALID_REQUEST,
                        "%s appears twice in one produce request", tp), Map.of()));
            }
            order.add(tp);
            if (TopicNames.isInternal(tp.topic())) {
                // Only the group coordinator writes it (through the replica manager, not here).
                // Kafka's words (ReplicaManager).
                refused.put(tp, new ProduceResult(ApiError.of(ErrorCode.INVALID_TOPIC,
                        "Cannot append to internal topic %s", tp.topic()), -1, -1, -1, -1, -1));
            } else if (!leading) {
                PartitionRegistration p = partition(image, tp);
                refused.put(tp, new ProduceResult(cutOff(tp), -1, -1, -1, -1, p == null ? -1 : p.leaderEpoch()));
            } else if (replicas.partition(tp) == null) {
                PartitionRegistration p = partition(image, tp);
                refused.put(tp, new ProduceResult(notServedHere(image, tp), -1, -1, -1, p == null ? -1 : p.leader(),
                        p == null ? -1 : p.leaderEpoch()));
            } else {
                ApiError sizes = checkBatchSizes(tp, data.records());
                ApiError refusal = sizes.isFailure() ? sizes
                        : ProducerIdCheck.check(data.records(), allocatedProducerIdEnd(image));
                if (refusal.isFailure()) {
                    refused.put(tp, new ProduceResult(refusal, -1, -1, -1, -1, -1));
                } else {
                    toAppend.put(tp, data.records().isReadOnly() ? writableCopy(data.records()) : data.records());
                }
            }
        }
        toAppend.values().forEach(traffic::appended);
        long cappedTimeoutMs = Math.max(0, Math.min(timeoutMs, config.produceTimeoutCapMs()));
        CompletableFuture<Map<TopicPartition, ProduceResult>> appended = toAppend.isEmpty()
                ? CompletableFuture.completedFuture(Map.of())
                : replicas.appendRecords(acks, cappedTimeoutMs, toAppend);
        return appended.thenApply(results -> {
            Map<TopicPartition, ProduceResult> out = new LinkedHashMap<>();
            for (TopicPartition tp : order) {
                ProduceResult r = results.containsKey(tp) ? results.get(tp) : refused.get(tp);
                out.put(tp, r != null ? r : new ProduceResult(ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR,
                        "no result for %s", tp), -1, -1, -1, -1, -1));
            }
            return new ProduceAnswer(ApiError.NONE, out);
        });
    }

    /**
     * RECORD_TOO_LARGE when a batch of {@code records} is larger than the partition's
     * max.message.bytes, CORRUPT_MESSAGE when the batch lengths do not frame the bytes: read from the
     * batch headers only, before anything is copied. The log's validation checks everything again.
     */
    private ApiError checkBatchSizes(TopicPartition tp, ByteBuffer records) {
        Partition p = replicas.partition(tp);
        int maxMessageBytes = p == null ? Integer.MAX_VALUE : p.log().config().maxMessageBytes();
        int at = records.position();
        int index = 0;
        while (at < records.limit()) {
            int size = RecordBatch.sizeOfBatchAt(records, at);
            if (size < RecordBatch.RECORD_BATCH_OVERHEAD || size > records.limit() - at) {
                return ApiError.of(ErrorCode.CORRUPT_MESSAGE, "record batch %d of the append is corrupt: it claims"
                        + " %d bytes with %d present", index, size, records.limit() - at);
            }
            if (size > maxMessageBytes) {
                return ApiError.of(ErrorCode.RECORD_TOO_LARGE, "a record batch of %d bytes is larger than"
                        + " max.message.bytes (%d)", size, maxMessageBytes);
            }
            at += size;
            index++;
        }
        return ApiError.NONE;
    }

    private static ByteBuffer writableCopy(ByteBuffer readOnly) {
        ByteBuffer copy = ByteBuffer.allocate(readOnly.remaining());
        copy.put(readOnly.duplicate());
        return copy.flip();
    }

    /**
     * TRANSACTIONAL_ID_AUTHORIZATION_FAILED for a transactional id (null or empty: none): there are no
     * transactions, and Kafka answers so a transactional id a producer may not use. One rule for
     * Produce and InitProducerId, whichever protocol carries them.
     */
    private static ApiError refuseTransactionalId(String transactionalId) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return ApiError.NONE;
        }
        return ApiError.of(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactional id '%s': transactions are"
                + " not supported; leave it out (an idempotent producer needs none)", transactionalId);
    }

    // ---- fetch ----

    /** One partition a consumer fetches. */
    public record FetchPartition(TopicPartition tp, FetchSpec spec) {}

    /** A fetch's outcome: a request-level error, or a result per partition in request order. */
    public record FetchAnswer(ApiError error, Map<TopicPartition, FetchResult> results) {}

    /**
     * Reads the partitions below their high watermarks: at most {@code maxBytes} (capped by
     * fetch.max.bytes; the first batch found regardless, so a consumer always progresses), waiting
     * up to {@code maxWaitMs} (capped by fetch.max.wait.cap.ms) for {@code minBytes}. A partition
     * this broker cannot serve, a negative offset, or a divergence answers at once. Records are
     * file regions: the front end sends or reads them.
     */
    public CompletableFuture<FetchAnswer> fetch(long maxWaitMs, int minBytes, int maxBytes,
            List<FetchPartition> partitions) {
        traffic.fetchRequest();
        MetadataImage image = metadata.image();
        boolean leading = leading();
        int cappedMaxBytes = maxBytes <= 0 ? config.fetchMaxBytes() : Math.min(maxBytes, config.fetchMaxBytes());
        Map<TopicPartition, FetchSpec> specs = new LinkedHashMap<>();
        Map<TopicPartition, FetchResult> refused = new HashMap<>();
        List<TopicPartition> order = new ArrayList<>(partitions.size());
        for (FetchPartition fp : partitions) {
            TopicPartition tp = fp.tp();
            FetchSpec spec = fp.spec();
            if (specs.containsKey(tp) || refused.containsKey(tp)) {
                return CompletableFuture.completedFuture(new FetchAnswer(ApiError.of(ErrorCode.INVALID_REQUEST,
                        "%s appears twice in one fetch request", tp), Map.of()));
            }
            order.add(tp);
            if (spec.fetchOffset() < 0) {
                refused.put(tp, FetchResult.error(ApiError.of(ErrorCode.OFFSET_OUT_OF_RANGE, "fetch offset %d of %s"
                        + " is negative", spec.fetchOffset(), tp), 0, -1, -1));
            } else if (!leading) {
                PartitionRegistration p = partition(image, tp);
                refused.put(tp, FetchResult.error(cutOff(tp), spec.fetchOffset(), -1,
                        p == null ? -1 : p.leaderEpoch()));
            } else if (replicas.partition(tp) == null) {
                PartitionRegistration p = partition(image, tp);
                refused.put(tp, FetchResult.error(notServedHere(image, tp), spec.fetchOffset(),
                        p == null ? -1 : p.leader(), p == null ? -1 : p.leaderEpoch()));
            } else {
                int partitionMax = spec.maxBytes() <= 0 ? cappedMaxBytes : spec.maxBytes();
                specs.put(tp, new FetchSpec(spec.fetchOffset(), partitionMax, spec.currentLeaderEpoch(),
                        spec.lastFetchedEpoch()));
            }
        }
        long cappedWaitMs = refused.isEmpty() ? Math.max(0, Math.min(maxWaitMs, config.fetchMaxWaitCapMs()))
                : 0; // an error to report: answer now
        CompletableFuture<Map<TopicPartition, FetchResult>> fetched = specs.isEmpty()
                ? CompletableFuture.completedFuture(Map.of())
                : replicas.fetchMessages(cappedWaitMs, minBytes, cappedMaxBytes, specs);
        return fetched.thenApply(results -> {
            Map<TopicPartition, FetchResult> out = new LinkedHashMap<>();
            for (TopicPartition tp : order) {
                out.put(tp, results.containsKey(tp) ? results.get(tp) : refused.get(tp));
            }
            for (FetchResult r : results.values()) {
                if (r.records() != null && !r.records().isEmpty()) {
                    traffic.fetched(r.records().sizeInBytes(), r.records().nextOffset() - r.records().firstOffset());
                }
            }
            return new FetchAnswer(ApiError.NONE, out);
        });
    }

    // ---- offsets ----

    /**
     * The offset for {@code timestamp} in a partition this broker leads: -1 latest (the high
     * watermark), -2 earliest, -3 the record with the largest timestamp, -4 earliest local (the log
     * start), -5 and -6 tiered storage (none: -1), or a time in ms (the first record at or after
     * it). A timestamp below -6 is INVALID_REQUEST.
     */
    public ReplicaManager.ListOffsetResult listOffset(TopicPartition tp, long timestamp, int currentLeaderEpoch) {
        if (timestamp < ReplicaManager.EARLIEST_PENDING_UPLOAD_TIMESTAMP) {
            return new ReplicaManager.ListOffsetResult(ApiError.of(ErrorCode.INVALID_REQUEST, "timestamp %d for %s:"
                    + " use -1 (latest), -2 (earliest), -3 (max timestamp), -4 (earliest local), -5 (latest"
                    + " tiered), -6 (earliest pending upload) or a time in ms", timestamp, tp), -1, -1,
                    -1);
        }
        if (!leading() || replicas.partition(tp) == null) {
            MetadataImage image = metadata.image();
            PartitionRegistration p = partition(image, tp);
            return new ReplicaManager.ListOffsetResult(leading() ? notServedHere(image, tp) : cutOff(tp), -1, -1,
                    p == null ? -1 : p.leaderEpoch());
        }
        return replicas.listOffset(tp, timestamp, currentLeaderEpoch);
    }

    /** One partition a ListOffsets request asks about (see {@link #listOffset}). */
    public record OffsetQuery(TopicPartition tp, long timestamp, int currentLeaderEpoch) {}

    /**
     * ListOffsets for several partitions: a result per query, in order. A partition asked for more
     * than once in one request is INVALID_REQUEST each time (as Kafka answers it); the others as
     * {@link #listOffset}.
     */
    public List<ReplicaManager.ListOffsetResult> listOffsets(List<OffsetQuery> queries) {
        Set<TopicPartition> seen = new HashSet<>();
        Set<TopicPartition> duplicated = new HashSet<>();
        for (OffsetQuery q : queries) {
            if (!seen.add(q.tp())) {
                duplicated.add(q.tp());
            }
        }
        List<ReplicaManager.ListOffsetResult> out = new ArrayList<>(queries.size());
        for (OffsetQuery q : queries) {
            out.add(duplicated.contains(q.tp())
                    ? new ReplicaManager.ListOffsetResult(ApiError.of(ErrorCode.INVALID_REQUEST, "%s appears more than"
                            + " once in one list offsets request", q.tp()), -1, -1, -1)
                    : listOffset(q.tp(), q.timestamp(), q.currentLeaderEpoch()));
        }
        return out;
    }

    /** Where {@code leaderEpoch} ends in a partition this broker leads (Kafka's OffsetForLeaderEpoch). */
    public ReplicaManager.EpochEndResult offsetForLeaderEpoch(TopicPartition tp, int currentLeaderEpoch,
            int leaderEpoch) {
        if (!leading()) {
            return new ReplicaManager.EpochEndResult(cutOff(tp), -1, -1);
        }
        if (replicas.partition(tp) == null) {
            return new ReplicaManager.EpochEndResult(notServedHere(metadata.image(), tp), -1, -1);
        }
        return replicas.offsetForLeaderEpoch(tp, currentLeaderEpoch, leaderEpoch);
    }

    // ---- producer ids ----

    /** A producer id and epoch for an idempotent producer, or an error (then both -1). */
    public record ProducerIdAndEpoch(ApiError error, long producerId, int producerEpoch) {}

    /**
     * The first producer id not handed out by the cluster as far as this broker knows: past its
     * image's next id, and past a block this broker was given whose record it has not applied yet.
     */
    private long allocatedProducerIdEnd(MetadataImage image) {
        return Math.max(image.nextProducerId(), initProducerId.allocatedEnd());
    }

    /**
     * FindCoordinator for a transactional id: there is no transaction coordinator, so the answer
     * is the refusal a transactional producer gets everywhere here (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
     * fatal to it at once, where COORDINATOR_NOT_AVAILABLE would have it retry until its timeout).
     */
    public static ApiError noTransactionCoordinator(String transactionalId) {
        return ApiError.of(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactional id '%s': transactions are"
                + " not supported, so there is no transaction coordinator", transactionalId);
    }

    /**
     * InitProducerId: a new id at epoch 0, whatever id and epoch the request names (as Kafka);
     * transactional ids refused (transactions are not supported).
     */
    public CompletableFuture<ProducerIdAndEpoch> initProducerId(String transactionalId, long producerId,
            int producerEpoch) {
        ApiError transactional = refuseTransactionalId(transactionalId);
        if (transactional.isFailure()) {
            return CompletableFuture.completedFuture(new ProducerIdAndEpoch(transactional, -1, -1));
        }
        return initProducerId.handle(producerId, producerEpoch)
                .thenApply(r -> new ProducerIdAndEpoch(r.error(), r.producerId(), r.producerEpoch()))
                .exceptionally(e -> new ProducerIdAndEpoch(internal(e), -1, -1));
    }

    /** UNKNOWN_SERVER_ERROR naming the cause; what a front end answers for an unexpected failure. */
    public static ApiError internal(Throwable t) {
        return ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "broker failed to handle the request: %s",
                Failures.unwrap(t));
    }
}
