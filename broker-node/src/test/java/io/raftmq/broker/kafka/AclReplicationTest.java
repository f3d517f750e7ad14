package io.raftmq.broker.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsRequest;
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
 * ACLs reach every node through the metadata log: created on one broker, every broker's image has
 * them and enforces them; a node that was down while one was removed catches up on restart.
 */
@Timeout(180)
class AclReplicationTest {
    private static final KafkaPrincipal ADMIN = new KafkaPrincipal("User", "admin");
    private static final KafkaPrincipal BOB = new KafkaPrincipal("User", "bob");

    @TempDir
    static Path dir;

    private static InProcessCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new InProcessCluster(3, dir, Map.of("authorizer.enabled", "true", "super.users", "User:admin",
                "kafka.listener", "none"));
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private static KafkaWire wire(int node) {
        return new KafkaWire(cluster.node(node).broker().api(), cluster.node(node).broker().groupCoordinator());
    }

    private static Set<AclBinding> aclsOf(int node) {
        return Set.copyOf(cluster.node(node).broker().api().acls().byId().values());
    }

    private static Errors describeTopic(int node, String topic) {
        MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(false);
        request.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(topic));
        MetadataResponseData r = wire(node).call(BOB, (short) 12, request);
        return Errors.forCode(r.topics().find(topic).errorCode());
    }

    @Test
    void everyNodeHasAndEnforcesTheAclsAndARestartedNodeCatchesUp() throws Exception {
        AclBinding bobDescribes = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "shared", PatternType.LITERAL),
                new AccessControlEntry(BOB.toString(), "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW));
        CreateAclsResponseData created = wire(1).call(ADMIN, ApiKeys.CREATE_ACLS.latestVersion(),
                new CreateAclsRequestData().setCreations(List.of(CreateAclsRequest.aclCreation(bobDescribes))));
        assertEquals(Errors.NONE.code(), created.results().get(0).errorCode());
        for (int node = 1; node <= 3; node++) {
            int n = node;
            await().atMost(Duration.ofSeconds(30)).until(() -> aclsOf(n).equals(Set.of(bobDescribes)));
            // Allowed to describe: told the topic does not exist, not that he may not know.
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, describeTopic(n, "shared"));
            assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, describeTopic(n, "other"));
        }

        cluster.stop(3);
        DeleteAclsResponseData deleted = wire(2).call(ADMIN, ApiKeys.DELETE_ACLS.latestVersion(),
                new DeleteAclsRequestData().setFilters(List.of(DeleteAclsRequest.deleteAclsFilter(
                        bobDescribes.toFilter()))));
        assertEquals(1, deleted.filterResults().get(0).matchingAcls().size());
        cluster.start(3);
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        for (int node = 1; node <= 3; node++) {
            int n = node;
            await().atMost(Duration.ofSeconds(30)).until(() -> aclsOf(n).isEmpty());
            assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED, describeTopic(n, "shared"));
        }
    }
}
