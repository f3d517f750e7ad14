package io.raftmq.metadata.authorizer;

import static org.apache.kafka.common.acl.AclOperation.ALL;
import static org.apache.kafka.common.acl.AclOperation.ALTER;
import static org.apache.kafka.common.acl.AclOperation.ALTER_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DELETE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.IDEMPOTENT_WRITE;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.acl.AclPermissionType.ALLOW;
import static org.apache.kafka.common.acl.AclPermissionType.DENY;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.PatternType.PREFIXED;
import static org.apache.kafka.common.resource.ResourceType.CLUSTER;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftmq.metadata.image.AclsImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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

/**
 * A table of authorization cases, each checked against Kafka's documented StandardAuthorizer
 * behaviour (docs/security.html "Authorization and ACLs", and StandardAuthorizerData's rules).
 */
class AclAuthorizerTest {
    private static final KafkaPrincipal ALICE = new KafkaPrincipal("User", "alice");
    private static final KafkaPrincipal BOB = new KafkaPrincipal("User", "bob");
    private static final KafkaPrincipal ADMIN = new KafkaPrincipal("User", "admin");
    private static final String HOST = "10.0.0.1";

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, String host,
            AclOperation op, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, host, op, permission));
    }

    static AclBinding allow(ResourceType type, String name, PatternType pattern, String principal, AclOperation op) {
        return acl(type, name, pattern, principal, "*", op, ALLOW);
    }

    static AclBinding deny(ResourceType type, String name, PatternType pattern, String principal, AclOperation op) {
        return acl(type, name, pattern, principal, "*", op, DENY);
    }

    static AclsImage image(AclBinding... acls) {
        Map<UUID, AclBinding> byId = new HashMap<>();
        long n = 1;
        for (AclBinding acl : acls) {
            byId.put(new UUID(0xac1, n++), acl);
        }
        return new AclsImage(byId);
    }

    /** One row: with these ACLs (and the no-ACL default), may the principal do op on the resource? */
    record Case(String why, List<AclBinding> acls, boolean allowEveryoneIfNoAclFound, KafkaPrincipal principal,
            String host, AclOperation op, ResourceType type, String name, boolean expected) {}

    private static final AclBinding ALICE_READS_ORDERS = allow(TOPIC, "orders", LITERAL, "User:alice", READ);

    static List<Case> cases() {
        List<Case> t = new ArrayList<>();
        // The default when no ACL applies to the resource.
        t.add(new Case("no ACLs, default deny", List.of(), false, ALICE, HOST, READ, TOPIC, "orders", false));
        t.add(new Case("no ACLs, allow.everyone.if.no.acl.found", List.of(), true, ALICE, HOST, READ, TOPIC,
                "orders", true));
        t.add(new Case("an ACL for someone else on the resource: the default no longer applies",
                List.of(ALICE_READS_ORDERS), true, BOB, HOST, READ, TOPIC, "orders", false));
        t.add(new Case("ACLs on another resource leave the default", List.of(ALICE_READS_ORDERS), true, BOB, HOST,
                READ, TOPIC, "payments", true));
        t.add(new Case("an ACL on a group of the same name is another resource", List.of(
                allow(GROUP, "orders", LITERAL, "User:alice", READ)), false, ALICE, HOST, READ, TOPIC, "orders",
                false));
        // Literal ACLs and operations.
        t.add(new Case("literal allow", List.of(ALICE_READS_ORDERS), false, ALICE, HOST, READ, TOPIC, "orders",
                true));
        t.add(new Case("another operation is not allowed", List.of(ALICE_READS_ORDERS), false, ALICE, HOST, WRITE,
                TOPIC, "orders", false));
        t.add(new Case("a literal name is not a prefix", List.of(ALICE_READS_ORDERS), false, ALICE, HOST, READ,
                TOPIC, "orders-eu", false));
        t.add(new Case("ALL allows every operation", List.of(allow(TOPIC, "orders", LITERAL, "User:alice", ALL)),
                false, ALICE, HOST, DELETE, TOPIC, "orders", true));
        // Implied operations (ALLOW only).
        for (AclOperation implying : List.of(READ, WRITE, DELETE, ALTER, DESCRIBE)) {
            t.add(new Case("ALLOW " + implying + " implies DESCRIBE", List.of(
                    allow(TOPIC, "orders", LITERAL, "User:alice", implying)), false, ALICE, HOST, DESCRIBE, TOPIC,
                    "orders", true));
        }
        t.add(new Case("ALLOW CREATE does not imply DESCRIBE", List.of(
                allow(TOPIC, "orders", LITERAL, "User:alice", CREATE)), false, ALICE, HOST, DESCRIBE, TOPIC,
                "orders", false));
        t.add(new Case("ALLOW ALTER_CONFIGS implies DESCRIBE_CONFIGS", List.of(
                allow(TOPIC, "orders", LITERAL, "User:alice", ALTER_CONFIGS)), false, ALICE, HOST, DESCRIBE_CONFIGS,
                TOPIC, "orders", true));
        t.add(new Case("ALLOW ALTER does not imply DESCRIBE_CONFIGS", List.of(
                allow(TOPIC, "orders", LITERAL, "User:alice", ALTER)), false, ALICE, HOST, DESCRIBE_CONFIGS,
                TOPIC, "orders", false));
        t.add(new Case("ALLOW DESCRIBE implies nothing else", List.of(
                allow(TOPIC, "orders", LITERAL, "User:alice", DESCRIBE)), false, ALICE, HOST, READ, TOPIC,
                "orders", false));
        t.add(new Case("DENY READ does not deny DESCRIBE", List.of(
                allow(TOPIC, "orders", LITERAL, "User:alice", DESCRIBE),
                deny(TOPIC, "orders", LITERAL, "User:alice", READ)), false, ALICE, HOST, DESCRIBE, TOPIC, "orders",
                true));
        // DENY wins.
        t.add(new Case("DENY wins over ALLOW on the same resource", List.of(ALICE_READS_ORDERS,
                deny(TOPIC, "orders", LITERAL, "User:alice", READ)), false, ALICE, HOST, READ, TOPIC, "orders",
                false));
        t.add(new Case("a wildcard-principal DENY wins over a principal's ALLOW", List.of(ALICE_READS_ORDERS,
                deny(TOPIC, "orders", LITERAL, "User:*", READ)), false, ALICE, HOST, READ, TOPIC, "orders", false));
        t.add(new Case("a prefixed DENY wins over a literal ALLOW", List.of(ALICE_READS_ORDERS,
                deny(TOPIC, "ord", PREFIXED, "User:alice", ALL)), false, ALICE, HOST, READ, TOPIC, "orders",
                false));
        t.add(new Case("a DENY of ALL denies DESCRIBE on the cluster", List.of(
                allow(CLUSTER, "kafka-cluster", LITERAL, "User:alice", DESCRIBE),
                deny(CLUSTER, "kafka-cluster", LITERAL, "User:alice", ALL)), false, ALICE, HOST, DESCRIBE, CLUSTER,
                "kafka-cluster", false));
        t.add(new Case("a DENY for another principal changes nothing", List.of(ALICE_READS_ORDERS,
                deny(TOPIC, "orders", LITERAL, "User:bob", READ)), false, ALICE, HOST, READ, TOPIC, "orders", true));
        t.add(new Case("everyone but a denied principal, through the wildcards", List.of(
                allow(TOPIC, "*", LITERAL, "User:*", ALL), deny(TOPIC, "orders", LITERAL, "User:alice", WRITE)),
                false, BOB, HOST, WRITE, TOPIC, "orders", true));
        // Wildcards and prefixes.
        t.add(new Case("the literal * resource matches every name", List.of(
                allow(GROUP, "*", LITERAL, "User:alice", READ)), false, ALICE, HOST, READ, GROUP, "any-group", true));
        t.add(new Case("the User:* principal matches everyone", List.of(
                allow(TOPIC, "orders", LITERAL, "User:*", READ)), false, BOB, HOST, READ, TOPIC, "orders", true));
        t.add(new Case("a prefix matches names starting with it", List.of(
                allow(TOPIC, "logs-", PREFIXED, "User:alice", WRITE)), false, ALICE, HOST, WRITE, TOPIC,
                "logs-2026", true));
        t.add(new Case("a prefix matches the name equal to it", List.of(
                allow(TOPIC, "logs-", PREFIXED, "User:alice", WRITE)), false, ALICE, HOST, WRITE, TOPIC, "logs-",
                true));
        t.add(new Case("a prefix does not match a shorter name", List.of(
                allow(TOPIC, "logs-", PREFIXED, "User:alice", WRITE)), false, ALICE, HOST, WRITE, TOPIC, "logs",
                false));
        t.add(new Case("a prefixed * is a name starting with *, not a wildcard", List.of(
                allow(TOPIC, "*", PREFIXED, "User:alice", WRITE)), false, ALICE, HOST, WRITE, TOPIC, "orders",
                false));
        t.add(new Case("a longer prefix applies as well as a shorter one", List.of(
                allow(TOPIC, "a", PREFIXED, "User:alice", READ), deny(TOPIC, "abc", PREFIXED, "User:alice", READ)),
                false, ALICE, HOST, READ, TOPIC, "abcd", false));
        t.add(new Case("a prefix applies to the transactional id type only", List.of(
                allow(TRANSACTIONAL_ID, "tx-", PREFIXED, "User:alice", WRITE)), false, ALICE, HOST, WRITE,
                TRANSACTIONAL_ID, "tx-1", true));
        // Hosts.
        t.add(new Case("an ACL for the client's host", List.of(
                acl(TOPIC, "orders", LITERAL, "User:alice", HOST, READ, ALLOW)), false, ALICE, HOST, READ, TOPIC,
                "orders", true));
        t.add(new Case("an ACL for another host does not apply", List.of(
                acl(TOPIC, "orders", LITERAL, "User:alice", "10.0.0.2", READ, ALLOW)), false, ALICE, HOST, READ,
                TOPIC, "orders", false));
        t.add(new Case("a DENY from the client's host only", List.of(ALICE_READS_ORDERS,
                acl(TOPIC, "orders", LITERAL, "User:alice", "10.0.0.2", READ, DENY)), false, ALICE, HOST, READ,
                TOPIC, "orders", true));
        // Super users.
        t.add(new Case("a super user passes every DENY", List.of(deny(TOPIC, "*", LITERAL, "User:*", ALL)), false,
                ADMIN, HOST, DELETE, TOPIC, "orders", true));
        t.add(new Case("a super user needs no ACL", List.of(), false, ADMIN, HOST, ALTER, CLUSTER, "kafka-cluster",
                true));
        t.add(new Case("ANONYMOUS is a principal like any other", List.of(
                allow(TOPIC, "orders", LITERAL, "User:ANONYMOUS", WRITE)), false, KafkaPrincipal.ANONYMOUS, HOST,
                WRITE, TOPIC, "orders", true));
        return t;
    }

    @Test
    void everyCaseOfTheTable() {
        for (Case c : cases()) {
            AclAuthorizer authorizer = new AclAuthorizer(Set.of("User:admin"), c.allowEveryoneIfNoAclFound());
            boolean allowed = authorizer.authorize(image(c.acls().toArray(AclBinding[]::new)), c.principal(),
                    c.host(), c.op(), c.type(), c.name());
            assertEquals(c.expected(), allowed, c.why() + ": " + c.principal() + " " + c.op() + " " + c.type() + ":"
                    + c.name() + " with " + c.acls());
        }
    }

    /** Rows for authorizeByResourceType: may the principal WRITE some topic (an idempotent producer)? */
    record ByTypeCase(String why, List<AclBinding> acls, boolean allowEveryoneIfNoAclFound, KafkaPrincipal principal,
            boolean expected) {}

    @Test
    void writeOnSomeTopic() {
        List<ByTypeCase> t = List.of(
                new ByTypeCase("no ACLs, default deny", List.of(), false, ALICE, false),
                new ByTypeCase("no ACLs, allow everyone", List.of(), true, ALICE, true),
                new ByTypeCase("a super user", List.of(deny(TOPIC, "*", LITERAL, "User:*", ALL)), false, ADMIN, true),
                new ByTypeCase("WRITE on one topic", List.of(allow(TOPIC, "orders", LITERAL, "User:alice", WRITE)),
                        false, ALICE, true),
                new ByTypeCase("ALL on a prefix", List.of(allow(TOPIC, "logs-", PREFIXED, "User:*", ALL)), false,
                        ALICE, true),
                new ByTypeCase("READ is not WRITE", List.of(allow(TOPIC, "orders", LITERAL, "User:alice", READ)),
                        false, ALICE, false),
                new ByTypeCase("someone else's WRITE", List.of(allow(TOPIC, "orders", LITERAL, "User:bob", WRITE)),
                        false, ALICE, false),
                new ByTypeCase("the literal WRITE is denied", List.of(
                        allow(TOPIC, "orders", LITERAL, "User:alice", WRITE),
                        deny(TOPIC, "orders", LITERAL, "User:alice", WRITE)), false, ALICE, false),
                new ByTypeCase("a shorter denied prefix covers the allowed one", List.of(
                        allow(TOPIC, "logs-", PREFIXED, "User:alice", WRITE),
                        deny(TOPIC, "logs", PREFIXED, "User:alice", WRITE)), false, ALICE, false),
                new ByTypeCase("a longer denied prefix leaves some of the allowed one", List.of(
                        allow(TOPIC, "logs-", PREFIXED, "User:alice", WRITE),
                        deny(TOPIC, "logs-a", PREFIXED, "User:alice", WRITE)), false, ALICE, true),
                new ByTypeCase("a wildcard DENY denies everything", List.of(
                        allow(TOPIC, "orders", LITERAL, "User:alice", WRITE),
                        deny(TOPIC, "*", LITERAL, "User:alice", WRITE)), false, ALICE, false),
                new ByTypeCase("a wildcard ALLOW", List.of(allow(TOPIC, "*", LITERAL, "User:alice", WRITE)), false,
                        ALICE, true),
                new ByTypeCase("a group ACL is not a topic", List.of(allow(GROUP, "*", LITERAL, "User:alice", ALL)),
                        false, ALICE, false));
        for (ByTypeCase c : t) {
            AclAuthorizer authorizer = new AclAuthorizer(Set.of("User:admin"), c.allowEveryoneIfNoAclFound());
            assertEquals(c.expected(), authorizer.authorizeByResourceType(image(c.acls().toArray(AclBinding[]::new)),
                    c.principal(), HOST, WRITE, TOPIC), c.why());
        }
    }

    @Test
    void idempotentWriteOnTheClusterIsItsOwnOperation() {
        AclAuthorizer authorizer = new AclAuthorizer(Set.of(), false);
        AclsImage acls = image(allow(CLUSTER, "kafka-cluster", LITERAL, "User:alice", IDEMPOTENT_WRITE));
        assertEquals(true, authorizer.authorize(acls, ALICE, HOST, IDEMPOTENT_WRITE, CLUSTER, "kafka-cluster"));
        assertEquals(false, authorizer.authorize(acls, ALICE, HOST, ALTER, CLUSTER, "kafka-cluster"));
    }

    @Test
    void superUsersAreParsedInKafkasFormat() {
        assertEquals(Set.of("User:admin", "User:ops"), AclAuthorizer.parseSuperUsers(" User:admin ; User:ops;"));
        assertEquals(Set.of(), AclAuthorizer.parseSuperUsers(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AclAuthorizer.parseSuperUsers("User:admin,User:ops;admin"));
        assertEquals(true, e.getMessage().contains("'admin'"), e.getMessage());
    }
}
