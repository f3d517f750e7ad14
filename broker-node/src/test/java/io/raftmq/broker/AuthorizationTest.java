package io.raftmq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.authorizer.AclAuthorizer;
import io.raftmq.metadata.image.AclsImage;
import io.raftmq.protocol.common.ErrorCode;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/** The shared rules: what each request needs, for clients, nodes and ANONYMOUS, over a fixed set of ACLs. */
class AuthorizationTest {
    private static final Authorization.Caller ALICE = Authorization.Caller.client(
            new KafkaPrincipal("User", "CN=alice"), "10.0.0.1");
    private static final Authorization.Caller ANONYMOUS = Authorization.Caller.client(KafkaPrincipal.ANONYMOUS,
            "10.0.0.2");
    private static final Authorization.Caller NODE_2 = new Authorization.Caller(
            new KafkaPrincipal("User", "CN=node-2"), "10.0.0.3", true);
    private static final Authorization.Caller ADMIN = Authorization.Caller.client(
            new KafkaPrincipal("User", "CN=admin"), "10.0.0.4");

    private final Map<UUID, AclBinding> acls = new HashMap<>();
    private final Authorization rules = new Authorization(new AclAuthorizer(Set.of("User:CN=admin"), false),
            () -> new AclsImage(Map.copyOf(acls)));

    private void allow(String principal, ResourceType type, String name, PatternType pattern, AclOperation op) {
        acls.put(UUID.randomUUID(), new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
    }

    @Test
    void withoutAclsOnlySuperUsersAndNodesMayDoAnything() {
        for (Authorization.Caller c : new Authorization.Caller[] {ALICE, ANONYMOUS}) {
            assertFalse(rules.mayProduce(c, "orders"));
            assertFalse(rules.mayFetch(c, "orders"));
            assertFalse(rules.mayCreateTopic(c, "orders"));
            assertFalse(rules.mayUseGroup(c, "g"));
            assertFalse(rules.mayAlterAcls(c));
            assertFalse(rules.mayInitIdempotentProducer(c));
        }
        for (Authorization.Caller c : new Authorization.Caller[] {ADMIN, NODE_2}) {
            assertTrue(rules.mayProduce(c, "orders"));
            assertTrue(rules.mayDeleteTopic(c, "__consumer_offsets"));
            assertTrue(rules.mayAlterScramCredentials(c));
            assertTrue(rules.mayDeleteGroup(c, "g"));
        }
    }

    @Test
    void anonymousIsAllowedWhatItsAclsAllow() {
        allow("User:ANONYMOUS", ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.WRITE);
        assertTrue(rules.mayProduce(ANONYMOUS, "orders"));
        assertTrue(rules.mayDescribeTopic(ANONYMOUS, "orders"), "WRITE implies DESCRIBE");
        assertFalse(rules.mayFetch(ANONYMOUS, "orders"));
        assertFalse(rules.mayProduce(ALICE, "orders"), "an ACL for ANONYMOUS is not one for alice");
        assertTrue(rules.mayInitIdempotentProducer(ANONYMOUS), "WRITE on some topic");
    }

    @Test
    void eachRuleAsksKafkasOperation() {
        allow("User:CN=alice", ResourceType.TOPIC, "logs-", PatternType.PREFIXED, AclOperation.CREATE);
        allow("User:CN=alice", ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.READ);
        allow("User:CN=alice", ResourceType.GROUP, "billing", PatternType.LITERAL, AclOperation.READ);
        assertTrue(rules.mayCreateTopic(ALICE, "logs-a"));
        assertFalse(rules.mayCreateTopic(ALICE, "metrics"));
        assertTrue(rules.mayFetch(ALICE, "orders"));
        assertTrue(rules.mayCommitOffset(ALICE, "orders"));
        assertFalse(rules.mayProduce(ALICE, "orders"));
        assertFalse(rules.mayDeleteTopic(ALICE, "orders"));
        assertTrue(rules.mayUseGroup(ALICE, "billing"));
        assertTrue(rules.mayDescribeGroup(ALICE, "billing"), "READ implies DESCRIBE");
        assertFalse(rules.mayDeleteGroup(ALICE, "billing"));
        assertFalse(rules.mayListGroup(ALICE, "other"));

        allow("User:CN=alice", ResourceType.CLUSTER, Authorization.CLUSTER_NAME, PatternType.LITERAL,
                AclOperation.CREATE);
        allow("User:CN=alice", ResourceType.CLUSTER, Authorization.CLUSTER_NAME, PatternType.LITERAL,
                AclOperation.DESCRIBE);
        assertTrue(rules.mayCreateTopic(ALICE, "metrics"), "CREATE on the cluster creates any topic");
        assertTrue(rules.mayListGroup(ALICE, "other"), "DESCRIBE on the cluster lists every group");
        assertTrue(rules.mayDescribeAcls(ALICE));
        assertTrue(rules.mayDescribeScramCredentials(ALICE));
        assertFalse(rules.mayAlterAcls(ALICE));
        assertFalse(rules.mayElectLeaders(ALICE));
        assertFalse(rules.mayConfigs(ALICE, AclOperation.ALTER_CONFIGS, "orders"));
    }

    @Test
    void withTheAuthorizerOffEverythingIsAllowed() {
        Authorization off = Authorization.allowAll();
        assertFalse(off.enabled());
        assertTrue(off.mayProduce(ANONYMOUS, "orders"));
        assertTrue(off.mayAlterAcls(ALICE));
        assertTrue(off.mayInitIdempotentProducer(ALICE));
    }

    @Test
    void refusalsNameTheCallerTheOperationAndTheResource() {
        assertEquals(ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                Authorization.topicDenied(ALICE, AclOperation.WRITE, "orders").code());
        assertEquals("User:CN=alice may not WRITE topic 'orders'",
                Authorization.topicDenied(ALICE, AclOperation.WRITE, "orders").message());
        assertEquals("User:CN=alice may not READ group 'billing'",
                Authorization.groupDenied(ALICE, AclOperation.READ, "billing").message());
        assertEquals("User:ANONYMOUS may not ALTER the cluster",
                Authorization.clusterDenied(ANONYMOUS, AclOperation.ALTER).message());
    }
}
