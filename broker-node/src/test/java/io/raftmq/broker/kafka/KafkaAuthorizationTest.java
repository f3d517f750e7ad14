package io.raftmq.broker.kafka;

import static io.raftmq.broker.kafka.KafkaRecords.batch;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.broker.BrokerApi;
import io.raftmq.node.InProcessCluster;
import io.raftmq.protocol.TopicPartition;
import io.raftmq.replication.ReplicaManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.DescribeAclsResponse;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The authorizer on the Kafka protocol, against one combined node with authorizer.enabled and
 * super.users=User:admin: the ACL APIs, the SCRAM credential APIs (ALTER / DESCRIBE on the cluster), and for the important handlers that a request without its
 * ACL gets Kafka's *_AUTHORIZATION_FAILED and changes nothing, and succeeds once the ACL exists.
 * Requests carry the principal a listener would have authenticated (alice, or the super user).
 */
@Timeout(120)
class KafkaAuthorizationTest {
    private static final KafkaPrincipal ADMIN = new KafkaPrincipal("User", "admin");
    private static final KafkaPrincipal ALICE = new KafkaPrincipal("User", "alice");

    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static KafkaWire wire;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(1, dir, Map.of("authorizer.enabled", "true", "super.users", "User:admin",
                "offsets.topic.replication.factor", "1"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        wire = new KafkaWire(api(), cluster.node(1).broker().groupCoordinator());
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private static BrokerApi api() {
        return cluster.node(1).broker().api();
    }

    static AclBinding allow(ResourceType type, String name, PatternType pattern, KafkaPrincipal who,
            AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(who.toString(), "*", op, AclPermissionType.ALLOW));
    }

    private static CreateAclsResponseData createAcls(KafkaPrincipal as, AclBinding... acls) {
        CreateAclsRequestData request = new CreateAclsRequestData();
        for (AclBinding acl : acls) {
            request.creations().add(CreateAclsRequest.aclCreation(acl));
        }
        return wire.call(as, ApiKeys.CREATE_ACLS.latestVersion(), request);
    }

    private static void grant(AclBinding... acls) {
        CreateAclsResponseData r = createAcls(ADMIN, acls);
        r.results().forEach(x -> assertEquals(Errors.NONE.code(), x.errorCode(), x.errorMessage()));
    }

    private static Set<AclBinding> describeAcls(KafkaPrincipal as, org.apache.kafka.common.acl.AclBindingFilter f) {
        DescribeAclsResponseData r = wire.call(as, ApiKeys.DESCRIBE_ACLS.latestVersion(), new DescribeAclsRequestData()
                .setResourceTypeFilter(f.patternFilter().resourceType().code())
                .setResourceNameFilter(f.patternFilter().name())
                .setPatternTypeFilter(f.patternFilter().patternType().code())
                .setPrincipalFilter(f.entryFilter().principal())
                .setHostFilter(f.entryFilter().host())
                .setOperation(f.entryFilter().operation().code())
                .setPermissionType(f.entryFilter().permissionType().code()));
        assertEquals(Errors.NONE.code(), r.errorCode(), r.errorMessage());
        return Set.copyOf(DescribeAclsResponse.aclBindings(r.resources()));
    }

    private static Errors createTopic(KafkaPrincipal as, String name) {
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(30_000);
        request.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(1)
                .setReplicationFactor((short) 1));
        CreateTopicsResponseData r = wire.call(as, ApiKeys.CREATE_TOPICS.latestVersion(), request);
        return Errors.forCode(r.topics().find(name).errorCode());
    }

    private static Errors produce(KafkaPrincipal as, String topic, String value) {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
        ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName(topic);
        t.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(batch(value)));
        request.topicData().add(t);
        ProduceResponseData r = wire.call(as, (short) 12, request);
        return Errors.forCode(r.responses().iterator().next().partitionResponses().get(0).errorCode());
    }

    private static long logEnd(String topic) {
        return api().listOffset(new TopicPartition(topic, 0), ReplicaManager.LATEST_TIMESTAMP, -1).offset();
    }

    @Test
    void aclsAreManagedWithTheKafkaApisByWhoMayAlterTheCluster() {
        AclBinding readsOrders = allow(ResourceType.TOPIC, "acl-orders", PatternType.LITERAL, ALICE,
                AclOperation.READ);
        AclBinding writesLogs = allow(ResourceType.TOPIC, "acl-logs-", PatternType.PREFIXED, ALICE,
                AclOperation.WRITE);
        // alice may not alter the cluster: nothing is created.
        CreateAclsResponseData refused = createAcls(ALICE, readsOrders);
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(), refused.results().get(0).errorCode());
        DescribeAclsResponseData describeRefused = wire.call(ALICE, ApiKeys.DESCRIBE_ACLS.latestVersion(),
                new DescribeAclsRequestData().setResourceTypeFilter(ResourceType.ANY.code())
                        .setPatternTypeFilter(PatternType.ANY.code()).setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ANY.code()));
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(), describeRefused.errorCode());
        org.apache.kafka.common.acl.AclBindingFilter alices = new org.apache.kafka.common.acl.AclBindingFilter(
                new org.apache.kafka.common.resource.ResourcePatternFilter(ResourceType.TOPIC, null, PatternType.ANY),
                new org.apache.kafka.common.acl.AccessControlEntryFilter(ALICE.toString(), null, AclOperation.ANY,
                        AclPermissionType.ANY));
        assertEquals(Set.of(), describeAcls(ADMIN, alices).stream()
                .filter(a -> a.pattern().name().startsWith("acl-")).collect(Collectors.toSet()));

        // The super user creates them; a bad one is refused alone, with Kafka's error naming the problem.
        AclBinding badCluster = allow(ResourceType.CLUSTER, "my-cluster", PatternType.LITERAL, ALICE,
                AclOperation.ALTER);
        CreateAclsResponseData created = createAcls(ADMIN, readsOrders, badCluster, writesLogs);
        assertEquals(Errors.NONE.code(), created.results().get(0).errorCode());
        assertEquals(Errors.INVALID_REQUEST.code(), created.results().get(1).errorCode());
        assertTrue(created.results().get(1).errorMessage().contains("kafka-cluster"),
                created.results().get(1).errorMessage());
        assertEquals(Errors.NONE.code(), created.results().get(2).errorCode());
        assertEquals(Set.of(readsOrders, writesLogs), describeAcls(ADMIN, alices).stream()
                .filter(a -> a.pattern().name().startsWith("acl-")).collect(Collectors.toSet()));

        // A MATCH filter finds the ACLs that apply to one topic; deleting answers what it removed.
        org.apache.kafka.common.acl.AclBindingFilter applyToLogsA = new org.apache.kafka.common.acl.AclBindingFilter(
                new org.apache.kafka.common.resource.ResourcePatternFilter(ResourceType.TOPIC, "acl-logs-a",
                        PatternType.MATCH), org.apache.kafka.common.acl.AccessControlEntryFilter.ANY);
        assertEquals(Set.of(writesLogs), describeAcls(ADMIN, applyToLogsA));
        DeleteAclsResponseData deleted = wire.call(ADMIN, ApiKeys.DELETE_ACLS.latestVersion(),
                new DeleteAclsRequestData().setFilters(List.of(DeleteAclsRequest.deleteAclsFilter(applyToLogsA))));
        DeleteAclsResponseData.DeleteAclsFilterResult result = deleted.filterResults().get(0);
        assertEquals(Errors.NONE.code(), result.errorCode());
        assertEquals(1, result.matchingAcls().size());
        assertEquals("acl-logs-", result.matchingAcls().get(0).resourceName());
        assertEquals(PatternType.PREFIXED.code(), result.matchingAcls().get(0).patternType());
        assertEquals(Set.of(readsOrders), describeAcls(ADMIN, alices).stream()
                .filter(a -> a.pattern().name().startsWith("acl-")).collect(Collectors.toSet()));
    }

    @Test
    void aRefusedProduceWritesNothingAndTheAclLetsItThrough() {
        assertEquals(Errors.NONE, createTopic(ADMIN, "authz-produce"));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> logEnd("authz-produce") == 0);
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, produce(ALICE, "authz-produce", "denied"));
        assertEquals(0, logEnd("authz-produce"), "nothing written");
        // READ is not WRITE.
        grant(allow(ResourceType.TOPIC, "authz-produce", PatternType.LITERAL, ALICE, AclOperation.READ));
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, produce(ALICE, "authz-produce", "denied"));
        grant(allow(ResourceType.TOPIC, "authz-", PatternType.PREFIXED, ALICE, AclOperation.WRITE));
        assertEquals(Errors.NONE, produce(ALICE, "authz-produce", "allowed"));
        assertEquals(1, logEnd("authz-produce"));
    }

    @Test
    void aRefusedTopicCreationCreatesNothing() {
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, createTopic(ALICE, "made-by-alice"));
        assertNull(api().image().topic("made-by-alice"));
        // Auto-creation through Metadata needs CREATE too; the topic is not created.
        MetadataRequestData metadata = new MetadataRequestData().setAllowAutoTopicCreation(true);
        metadata.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("made-by-alice"));
        grant(allow(ResourceType.TOPIC, "made-by-alice", PatternType.LITERAL, ALICE, AclOperation.DESCRIBE));
        MetadataResponseData answer = wire.call(ALICE, (short) 12, metadata);
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), answer.topics().find("made-by-alice").errorCode());
        assertNull(api().image().topic("made-by-alice"));

        grant(allow(ResourceType.TOPIC, "made-by-", PatternType.PREFIXED, ALICE, AclOperation.CREATE));
        assertEquals(Errors.NONE, createTopic(ALICE, "made-by-alice"));
        assertNotNull(api().image().topic("made-by-alice"));
    }

    @Test
    void aRefusedTopicDeletionDeletesNothing() {
        assertEquals(Errors.NONE, createTopic(ADMIN, "kept"));
        DeleteTopicsRequestData request = new DeleteTopicsRequestData().setTimeoutMs(30_000)
                .setTopicNames(List.of("kept"));
        DeleteTopicsResponseData refused = wire.call(ALICE, (short) 5, request);
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), refused.responses().find("kept").errorCode());
        assertNotNull(api().image().topic("kept"));

        grant(allow(ResourceType.TOPIC, "kept", PatternType.LITERAL, ALICE, AclOperation.DELETE));
        DeleteTopicsResponseData deleted = wire.call(ALICE, (short) 5, request);
        assertEquals(Errors.NONE.code(), deleted.responses().find("kept").errorCode());
        assertNull(api().image().topic("kept"));
    }

    @Test
    void aRefusedCommitStoresNoOffset() {
        assertEquals(Errors.NONE, createTopic(ADMIN, "committed"));
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            FindCoordinatorResponseData r = wire.call(ADMIN, (short) 3, new FindCoordinatorRequestData()
                    .setKey("g-authz").setKeyType((byte) 0));
            return r.errorCode() == Errors.NONE.code();
        });
        // The coordinator may still be loading its partition: wait until it answers.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> committedOffset("g-authz", "committed") == -1);
        assertEquals(Errors.GROUP_AUTHORIZATION_FAILED, commit(ALICE, "g-authz", "committed", 5));
        assertEquals(-1, committedOffset("g-authz", "committed"));

        // READ on the group alone: the topic is refused and not committed.
        grant(allow(ResourceType.GROUP, "g-authz", PatternType.LITERAL, ALICE, AclOperation.READ));
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, commit(ALICE, "g-authz", "committed", 5));
        assertEquals(-1, committedOffset("g-authz", "committed"));

        grant(allow(ResourceType.TOPIC, "committed", PatternType.LITERAL, ALICE, AclOperation.READ));
        assertEquals(Errors.NONE, commit(ALICE, "g-authz", "committed", 5));
        assertEquals(5, committedOffset("g-authz", "committed"));
    }

    private static Errors commit(KafkaPrincipal as, String group, String topic, long offset) {
        OffsetCommitRequestData request = new OffsetCommitRequestData().setGroupId(group)
                .setGenerationIdOrMemberEpoch(-1).setMemberId("");
        request.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(topic).setPartitions(
                List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                        .setCommittedOffset(offset))));
        OffsetCommitResponseData r = wire.call(as, (short) 9, request);
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }

    private static long committedOffset(String group, String topic) {
        OffsetFetchResponseData r = wire.call(ADMIN, (short) 7, new OffsetFetchRequestData().setGroupId(group)
                .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(topic)
                        .setPartitionIndexes(List.of(0)))));
        assertEquals(Errors.NONE.code(), r.errorCode());
        return r.topics().get(0).partitions().get(0).committedOffset();
    }

    @Test
    void everyTopicMeansEveryTopicThePrincipalMayDescribe() {
        assertEquals(Errors.NONE, createTopic(ADMIN, "listed-visible"));
        assertEquals(Errors.NONE, createTopic(ADMIN, "listed-hidden"));
        grant(allow(ResourceType.TOPIC, "listed-visible", PatternType.LITERAL, ALICE, AclOperation.WRITE));
        MetadataResponseData all = wire.call(ALICE, (short) 12, new MetadataRequestData().setTopics(null));
        Set<String> names = all.topics().stream().map(MetadataResponseData.MetadataResponseTopic::name)
                .collect(Collectors.toSet());
        assertTrue(names.contains("listed-visible"), names.toString());
        assertTrue(!names.contains("listed-hidden"), names.toString());
        // Named, a topic one may not describe is refused whether or not it exists.
        MetadataRequestData named = new MetadataRequestData().setAllowAutoTopicCreation(false);
        named.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("listed-hidden"));
        named.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("never-created"));
        MetadataResponseData r = wire.call(ALICE, (short) 12, named);
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), r.topics().find("listed-hidden").errorCode());
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), r.topics().find("never-created").errorCode());
    }

    /**
     * Each handler without its ACL: Kafka's error for the resource, and (where the request would
     * change something) nothing changed.
     */
    @Test
    void everyHandlerRefusesWithKafkasErrorAndChangesNothing() {
        String t = "untouchable";
        assertEquals(Errors.NONE, createTopic(ADMIN, t));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> logEnd(t) == 0);
        short topicDenied = Errors.TOPIC_AUTHORIZATION_FAILED.code();
        short groupDenied = Errors.GROUP_AUTHORIZATION_FAILED.code();
        short clusterDenied = Errors.CLUSTER_AUTHORIZATION_FAILED.code();

        FetchRequestData fetch = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0)
                .setMaxBytes(1 << 20).setSessionId(0).setSessionEpoch(-1);
        fetch.topics().add(new FetchRequestData.FetchTopic().setTopic(t).setPartitions(List.of(
                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20))));
        FetchResponseData fetched = wire.call(ALICE, (short) 12, fetch);
        assertEquals(topicDenied, fetched.responses().get(0).partitions().get(0).errorCode());

        ListOffsetsResponseData offsets = wire.call(ALICE, (short) 7, new ListOffsetsRequestData().setReplicaId(-1)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(t).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1))))));
        assertEquals(topicDenied, offsets.topics().get(0).partitions().get(0).errorCode());

        CreatePartitionsRequestData addPartitions = new CreatePartitionsRequestData().setTimeoutMs(30_000);
        addPartitions.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(t).setCount(2)
                .setAssignments(null));
        CreatePartitionsResponseData added = wire.call(ALICE, (short) 3, addPartitions);
        assertEquals(topicDenied, added.results().get(0).errorCode());
        assertEquals(1, api().image().topic(t).numPartitions(), "no partition added");

        IncrementalAlterConfigsRequestData alter = new IncrementalAlterConfigsRequestData();
        IncrementalAlterConfigsRequestData.AlterConfigsResource resource = new IncrementalAlterConfigsRequestData
                .AlterConfigsResource().setResourceType((byte) 2).setResourceName(t);
        resource.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                .setConfigOperation((byte) 0).setValue("1000"));
        alter.resources().add(resource);
        IncrementalAlterConfigsResponseData altered = wire.call(ALICE, (short) 1, alter);
        assertEquals(topicDenied, altered.responses().get(0).errorCode());
        assertTrue(api().image().topic(t).configs().isEmpty(), "no config changed");

        DescribeConfigsRequestData describeConfigs = new DescribeConfigsRequestData();
        describeConfigs.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource()
                .setResourceType((byte) 2).setResourceName(t).setConfigurationKeys(null));
        describeConfigs.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource()
                .setResourceType((byte) 4).setResourceName("1").setConfigurationKeys(null));
        DescribeConfigsResponseData configs = wire.call(ALICE, (short) 4, describeConfigs);
        assertEquals(topicDenied, configs.results().get(0).errorCode());
        assertEquals(clusterDenied, configs.results().get(1).errorCode());
        assertTrue(configs.results().get(0).configs().isEmpty() && configs.results().get(1).configs().isEmpty());

        ElectLeadersRequestData elect = new ElectLeadersRequestData().setElectionType((byte) 0).setTimeoutMs(30_000);
        elect.topicPartitions().add(new ElectLeadersRequestData.TopicPartitions().setTopic(t)
                .setPartitions(List.of(0)));
        ElectLeadersResponseData elected = wire.call(ALICE, (short) 2, elect);
        assertEquals(clusterDenied, elected.errorCode());

        DescribeLogDirsResponseData dirs = wire.call(ALICE, (short) 4, new DescribeLogDirsRequestData()
                .setTopics(null));
        assertEquals(clusterDenied, dirs.errorCode());
        assertTrue(dirs.results().isEmpty());

        InitProducerIdResponseData producerId = wire.call(ALICE, (short) 4, new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(-1).setProducerId(-1).setProducerEpoch((short) -1));
        assertEquals(clusterDenied, producerId.errorCode());

        String g = "g-none";
        FindCoordinatorResponseData coordinator = wire.call(ALICE, (short) 3, new FindCoordinatorRequestData()
                .setKey(g).setKeyType((byte) 0));
        assertEquals(groupDenied, coordinator.errorCode());
        JoinGroupRequestData join = new JoinGroupRequestData().setGroupId(g).setMemberId("").setProtocolType(
                "consumer").setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000);
        join.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata(new byte[0]));
        JoinGroupResponseData joined = wire.call(ALICE, (short) 9, join);
        assertEquals(groupDenied, joined.errorCode());
        HeartbeatResponseData heartbeat = wire.call(ALICE, (short) 4, new HeartbeatRequestData().setGroupId(g)
                .setMemberId("m").setGenerationId(1));
        assertEquals(groupDenied, heartbeat.errorCode());
        DescribeGroupsResponseData describedGroups = wire.call(ALICE, (short) 5, new DescribeGroupsRequestData()
                .setGroups(List.of(g)));
        assertEquals(groupDenied, describedGroups.groups().get(0).errorCode());
        DeleteGroupsResponseData deletedGroups = wire.call(ALICE, (short) 2, new DeleteGroupsRequestData()
                .setGroupsNames(List.of(g)));
        assertEquals(groupDenied, deletedGroups.results().find(g).errorCode());
        OffsetDeleteRequestData offsetDelete = new OffsetDeleteRequestData().setGroupId(g);
        OffsetDeleteRequestData.OffsetDeleteRequestTopic deleteTopic = new OffsetDeleteRequestData
                .OffsetDeleteRequestTopic().setName(t);
        deleteTopic.partitions().add(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0));
        offsetDelete.topics().add(deleteTopic);
        OffsetDeleteResponseData offsetDeleted = wire.call(ALICE, (short) 0, offsetDelete);
        assertEquals(groupDenied, offsetDeleted.errorCode());
        OffsetFetchResponseData offsetFetch = wire.call(ALICE, (short) 7, new OffsetFetchRequestData().setGroupId(g)
                .setTopics(null));
        assertEquals(groupDenied, offsetFetch.errorCode());

        ConsumerGroupHeartbeatRequestData consumerHeartbeat = new ConsumerGroupHeartbeatRequestData().setGroupId(g)
                .setMemberId("member-1").setMemberEpoch(0).setRebalanceTimeoutMs(10_000)
                .setSubscribedTopicNames(List.of(t)).setTopicPartitions(List.of());
        ConsumerGroupHeartbeatResponseData beat = wire.call(ALICE, (short) 1, consumerHeartbeat);
        assertEquals(groupDenied, beat.errorCode());
        // READ on the group, but the subscribed topic may not be described.
        grant(allow(ResourceType.GROUP, "g-cgh", PatternType.LITERAL, ALICE, AclOperation.READ));
        ConsumerGroupHeartbeatResponseData beatTopic = wire.call(ALICE, (short) 1, consumerHeartbeat.duplicate()
                .setGroupId("g-cgh"));
        assertEquals(topicDenied, beatTopic.errorCode());
        assertTrue(beatTopic.errorMessage().contains(t), beatTopic.errorMessage());
        ConsumerGroupDescribeResponseData consumerDescribe = wire.call(ALICE, (short) 0,
                new ConsumerGroupDescribeRequestData().setGroupIds(List.of(g)));
        assertEquals(groupDenied, consumerDescribe.groups().get(0).errorCode());
        assertEquals(0, logEnd(t), "nothing written to the topic by any of it");
    }

    @Test
    void scramCredentialApisNeedAlterAndDescribeOnTheCluster() {
        KafkaPrincipal bob = new KafkaPrincipal("User", "scram-bob");
        AlterUserScramCredentialsRequestData upsert = new AlterUserScramCredentialsRequestData();
        upsert.upsertions().add(new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                .setName("scram-carol").setMechanism((byte) 1).setIterations(4096).setSalt(new byte[16])
                .setSaltedPassword(new byte[32]));
        short alterVersion = ApiKeys.ALTER_USER_SCRAM_CREDENTIALS.latestVersion();
        short describeVersion = ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS.latestVersion();
        DescribeUserScramCredentialsRequestData describeCarol = new DescribeUserScramCredentialsRequestData()
                .setUsers(List.of(new DescribeUserScramCredentialsRequestData.UserName().setName("scram-carol")));

        // Without ALTER on the cluster: refused for each user, and nothing stored.
        AlterUserScramCredentialsResponseData refused = wire.call(bob, alterVersion, upsert.duplicate());
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(), refused.results().get(0).errorCode());
        assertEquals("scram-carol", refused.results().get(0).user());
        assertTrue(refused.results().get(0).errorMessage().contains("User:scram-bob"),
                refused.results().get(0).errorMessage());
        DescribeUserScramCredentialsResponseData asAdmin = wire.call(ADMIN, describeVersion, describeCarol.duplicate());
        assertEquals(Errors.RESOURCE_NOT_FOUND.code(), asAdmin.results().get(0).errorCode(), "nothing stored");
        // Without DESCRIBE on the cluster: refused as a whole.
        DescribeUserScramCredentialsResponseData describeRefused = wire.call(bob, describeVersion,
                describeCarol.duplicate());
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(), describeRefused.errorCode());
        assertTrue(describeRefused.results().isEmpty());

        // DESCRIBE alone lets bob list credentials but not change them.
        grant(allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, bob, AclOperation.DESCRIBE));
        DescribeUserScramCredentialsResponseData described = wire.call(bob, describeVersion,
                describeCarol.duplicate());
        assertEquals(Errors.NONE.code(), described.errorCode());
        assertEquals(Errors.RESOURCE_NOT_FOUND.code(), described.results().get(0).errorCode());
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(),
                ((AlterUserScramCredentialsResponseData) wire.call(bob, alterVersion, upsert.duplicate()))
                        .results().get(0).errorCode());

        // With ALTER on the cluster the credential is stored.
        grant(allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, bob, AclOperation.ALTER));
        AlterUserScramCredentialsResponseData altered = wire.call(bob, alterVersion, upsert.duplicate());
        assertEquals(Errors.NONE.code(), altered.results().get(0).errorCode(), altered.results().get(0).errorMessage());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            DescribeUserScramCredentialsResponseData now = wire.call(bob, describeVersion, describeCarol.duplicate());
            assertEquals(Errors.NONE.code(), now.results().get(0).errorCode());
            assertEquals(4096, now.results().get(0).credentialInfos().get(0).iterations());
        });
    }

    @Test
    void withoutTheAuthorizerTheAclApisAnswerSecurityDisabled() {
        AclsHandler off = new AclsHandler(null, KafkaAuthorization.allowAll());
        CreateAclsRequestData create = new CreateAclsRequestData();
        create.creations().add(CreateAclsRequest.aclCreation(allow(ResourceType.TOPIC, "t", PatternType.LITERAL,
                ALICE, AclOperation.READ)));
        short v = ApiKeys.CREATE_ACLS.latestVersion();
        CreateAclsResponseData created = (CreateAclsResponseData) KafkaWire.sent(ApiKeys.CREATE_ACLS, v,
                KafkaWire.await(off.createAcls(KafkaWire.request(ApiKeys.CREATE_ACLS, v, create))));
        assertEquals(Errors.SECURITY_DISABLED.code(), created.results().get(0).errorCode());
        DescribeAclsResponseData described = (DescribeAclsResponseData) KafkaWire.sent(ApiKeys.DESCRIBE_ACLS, v,
                KafkaWire.await(off.describeAcls(KafkaWire.request(ApiKeys.DESCRIBE_ACLS, v,
                        new DescribeAclsRequestData().setResourceTypeFilter(ResourceType.ANY.code())
                                .setPatternTypeFilter(PatternType.ANY.code()).setOperation(AclOperation.ANY.code())
                                .setPermissionType(AclPermissionType.ANY.code())))));
        assertEquals(Errors.SECURITY_DISABLED.code(), described.errorCode());
        DeleteAclsResponseData deleted = (DeleteAclsResponseData) KafkaWire.sent(ApiKeys.DELETE_ACLS, v,
                KafkaWire.await(off.deleteAcls(KafkaWire.request(ApiKeys.DELETE_ACLS, v, new DeleteAclsRequestData()
                        .setFilters(List.of(DeleteAclsRequest.deleteAclsFilter(
                                org.apache.kafka.common.acl.AclBindingFilter.ANY)))))));
        assertEquals(Errors.SECURITY_DISABLED.code(), deleted.filterResults().get(0).errorCode());
    }
}
