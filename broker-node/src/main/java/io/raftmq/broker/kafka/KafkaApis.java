package io.raftmq.broker.kafka;

import io.raftmq.broker.BrokerApi;
import io.raftmq.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The broker's Kafka APIs: which keys and versions it serves (what ApiVersions advertises: every
 * version Kafka 4.4 serves of each key implemented here), and the handler of each. Handlers
 * translate Kafka's messages to the protocol-neutral {@link BrokerApi} and its answers back; they
 * decide nothing themselves.
 *
 * <p>Consumer groups are served by this broker's {@link GroupCoordinator} (the same groups the
 * SDK uses over gRPC), including KIP-848's ConsumerGroupHeartbeat and ConsumerGroupDescribe
 * ({@link ConsumerGroupHandler}). SCRAM credentials are managed with AlterUserScramCredentials and
 * DescribeUserScramCredentials ({@link ScramCredentialsHandler}); DescribeClientQuotas answers that
 * there are none. Not served, so not advertised (a client that needs them fails as against a
 * broker without them, and nothing is written): transactions, setting quotas, delegation
 * tokens, share groups, DeleteRecords, reassignments, the quorum and feature APIs.
 *
 * <p>Every handler checks what Kafka's KafkaApis checks with the authorizer ({@link
 * KafkaAuthorization}; with {@code authorizer.enabled=false} everything is allowed), before it
 * changes anything; the ACLs themselves are managed with CreateAcls, DescribeAcls and DeleteAcls
 * ({@link AclsHandler}).
 *
 * <p>Immutable apart from the fetch session cache, which is thread-safe; handlers are called on
 * the connections' event loops and never block.
 */
public final class KafkaApis implements KafkaRequestHandler {
    private final Map<ApiKeys, Function<KafkaRequest, CompletableFuture<KafkaResponse>>> handlers;
    private final List<ApiVersion> apis;

    public KafkaApis(BrokerApi api, GroupCoordinator groups) {
        KafkaAuthorization authz = new KafkaAuthorization(api.authorization());
        MetadataHandler metadata = new MetadataHandler(api, authz);
        ProduceHandler produce = new ProduceHandler(api, authz);
        FetchHandler fetch = new FetchHandler(api, new FetchSessionCache(api.brokerId(),
                api.config().fetchSessionCacheSlots()), authz);
        OffsetsHandler offsets = new OffsetsHandler(api, authz);
        TopicAdminHandler topics = new TopicAdminHandler(api, authz);
        LeaderElectionHandler elections = new LeaderElectionHandler(api, authz);
        ConfigsHandler configs = new ConfigsHandler(api, authz);
        GroupOffsetsHandler groupOffsets = new GroupOffsetsHandler(api, groups, authz);
        GroupMembershipHandler membership = new GroupMembershipHandler(groups, authz);
        AclsHandler acls = new AclsHandler(api, authz);
        Map<ApiKeys, Function<KafkaRequest, CompletableFuture<KafkaResponse>>> h = new EnumMap<>(ApiKeys.class);
        h.put(ApiKeys.METADATA, metadata::metadata);
        h.put(ApiKeys.DESCRIBE_CLUSTER, metadata::describeCluster);
        h.put(ApiKeys.PRODUCE, produce::produce);
        h.put(ApiKeys.FETCH, fetch::fetch);
        h.put(ApiKeys.LIST_OFFSETS, offsets::listOffsets);
        h.put(ApiKeys.OFFSET_FOR_LEADER_EPOCH, offsets::offsetForLeaderEpoch);
        h.put(ApiKeys.INIT_PRODUCER_ID, offsets::initProducerId);
        h.put(ApiKeys.CREATE_TOPICS, topics::createTopics);
        h.put(ApiKeys.DELETE_TOPICS, topics::deleteTopics);
        h.put(ApiKeys.CREATE_PARTITIONS, topics::createPartitions);
        h.put(ApiKeys.ELECT_LEADERS, elections::electLeaders);
        h.put(ApiKeys.DESCRIBE_CONFIGS, configs::describeConfigs);
        h.put(ApiKeys.ALTER_CONFIGS, configs::alterConfigs);
        h.put(ApiKeys.INCREMENTAL_ALTER_CONFIGS, configs::incrementalAlterConfigs);
        h.put(ApiKeys.DESCRIBE_LOG_DIRS, configs::describeLogDirs);
        h.put(ApiKeys.FIND_COORDINATOR, groupOffsets::findCoordinator);
        h.put(ApiKeys.OFFSET_COMMIT, groupOffsets::offsetCommit);
        h.put(ApiKeys.OFFSET_FETCH, groupOffsets::offsetFetch);
        GroupAdminHandler groupAdmin = new GroupAdminHandler(groups, authz);
        h.put(ApiKeys.OFFSET_DELETE, groupAdmin::offsetDelete);
        h.put(ApiKeys.LIST_GROUPS, groupAdmin::listGroups);
        h.put(ApiKeys.DELETE_GROUPS, groupAdmin::deleteGroups);
        h.put(ApiKeys.CREATE_ACLS, acls::createAcls);
        h.put(ApiKeys.DESCRIBE_ACLS, acls::describeAcls);
        h.put(ApiKeys.DELETE_ACLS, acls::deleteAcls);
        ConsumerGroupHandler consumerGroups = new ConsumerGroupHandler(api, groups, authz);
        h.put(ApiKeys.CONSUMER_GROUP_HEARTBEAT, consumerGroups::heartbeat);
        h.put(ApiKeys.CONSUMER_GROUP_DESCRIBE, consumerGroups::describe);
        h.put(ApiKeys.JOIN_GROUP, membership::joinGroup);
        h.put(ApiKeys.SYNC_GROUP, membership::syncGroup);
        h.put(ApiKeys.HEARTBEAT, membership::heartbeat);
        h.put(ApiKeys.LEAVE_GROUP, membership::leaveGroup);
        h.put(ApiKeys.DESCRIBE_GROUPS, membership::describeGroups);
        ScramCredentialsHandler credentials = new ScramCredentialsHandler(api, authz);
        h.put(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, credentials::alterUserScramCredentials);
        h.put(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, credentials::describeUserScramCredentials);
        h.put(ApiKeys.DESCRIBE_CLIENT_QUOTAS, new ClientQuotasHandler()::describeClientQuotas);
        this.handlers = Collections.unmodifiableMap(h);
        List<ApiVersion> list = new ArrayList<>();
        list.add(version(ApiKeys.API_VERSIONS)); // answered by the connection itself
        handlers.keySet().forEach(key -> list.add(version(key)));
        list.sort((a, b) -> Short.compare(a.apiKey(), b.apiKey()));
        this.apis = List.copyOf(list);
    }

    private static ApiVersion version(ApiKeys key) {
        return new ApiVersion().setApiKey(key.id).setMinVersion(key.oldestVersion())
                .setMaxVersion(key.latestVersion());
    }

    @Override
    public List<ApiVersion> apis() {
        return apis;
    }

    @Override
    public CompletableFuture<KafkaResponse> handle(KafkaRequest request) {
        Function<KafkaRequest, CompletableFuture<KafkaResponse>> handler = handlers.get(request.apiKey());
        if (handler == null) {
            // The connection only passes keys listed by apis(); reaching here is a bug.
            return CompletableFuture.failedFuture(new IllegalStateException("no handler for " + request.apiKey()));
        }
        return handler.apply(request);
    }
}
