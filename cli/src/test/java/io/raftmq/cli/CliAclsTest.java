package io.raftmq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.node.InProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raftmq acls add|list|remove} against one combined node with the authorizer on. Its gRPC port
 * is PLAINTEXT, so the CLI is User:ANONYMOUS, made a super user here (GrpcAuthorizationTest covers
 * the refusals over mutual TLS).
 */
@Timeout(120)
class CliAclsTest {
    @TempDir
    static Path dir;

    private static InProcessCluster cluster;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> config = new HashMap<>(CliRun.STEADY_CLUSTER);
        config.put("authorizer.enabled", "true");
        config.put("super.users", "User:ANONYMOUS");
        cluster = new InProcessCluster(1, dir, config);
        cluster.startAll();
        cluster.awaitBrokersUnfenced(Duration.ofSeconds(60));
        bootstrap = cluster.bootstrapServers();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.assertNoFaults();
        }
    }

    private CliRun raftmq(String... args) {
        String[] full = Arrays.copyOf(args, args.length + 2);
        full[args.length] = "--bootstrap-server";
        full[args.length + 1] = bootstrap;
        return CliRun.run("", full);
    }

    @Test
    void addListRemove() {
        CliRun added = raftmq("acls", "add", "--principal", "User:ANONYMOUS", "--operation", "Write", "--operation",
                "read", "--topic", "orders");
        assertEquals(0, added.exitCode(), added::toString);
        assertTrue(added.out().contains("Added 2 ACL(s)"), added::toString);
        CliRun prefixed = raftmq("acls", "add", "--principal", "User:*", "--operation", "All", "--deny", "--topic",
                "secret-", "--prefixed");
        assertEquals(0, prefixed.exitCode(), prefixed::toString);
        assertEquals(3, cluster.node(1).broker().api().image().acls().size(), "in the broker's metadata");

        CliRun refused = raftmq("acls", "add", "--principal", "alice", "--operation", "Read", "--topic", "orders");
        assertEquals(1, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("invalid principal 'alice'"), refused::toString);

        CliRun listed = raftmq("acls", "list", "--topic", "orders");
        assertEquals(0, listed.exitCode(), listed::toString);
        assertTrue(listed.out().contains("User:ANONYMOUS") && listed.out().contains("WRITE")
                && listed.out().contains("READ"), listed::toString);
        assertFalse(listed.out().contains("secret-"), listed::toString);
        CliRun all = raftmq("acls", "list");
        assertTrue(all.out().contains("secret-") && all.out().contains("DENY") && all.out().contains("PREFIXED"),
                all::toString);

        CliRun removed = raftmq("acls", "remove", "--topic", "orders", "--operation", "write", "--principal",
                "User:ANONYMOUS");
        assertEquals(0, removed.exitCode(), removed::toString);
        assertTrue(removed.out().contains("Removed 1 ACL(s)") && removed.out().contains("WRITE"), removed::toString);
        CliRun after = raftmq("acls", "list", "--topic", "orders");
        assertFalse(after.out().contains("WRITE"), after::toString);
        assertTrue(after.out().contains("READ"), after::toString);
    }
}
