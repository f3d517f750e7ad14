package io.raftmq.broker.sasl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;

class NodeUsersTest {
    private static final String SECRET = "0123456789abcdef-secret";

    @Test
    void everyNodeUserHasTheSecretAndIsItsNode() {
        NodeUsers users = new NodeUsers(SECRET, ScramCredentials.NONE);
        for (String user : new String[] {"node-0", "node-3", "node-2147483647"}) {
            Map<ScramMechanism, ScramCredential> credentials = users.of(user);
            assertEquals(2, credentials.size(), user);
            assertTrue(SaslCallbacks.passwordMatches(credentials, SECRET.toCharArray()), user);
            assertFalse(SaslCallbacks.passwordMatches(credentials, (SECRET + "x").toCharArray()), user);
        }
        assertEquals(OptionalInt.of(3), users.nodeOf("node-3"));
        assertEquals(OptionalInt.of(0), users.nodeOf("node-0"));
    }

    @Test
    void aMetadataUserNamedLikeANodeIsShadowedAndOtherNamesAreTheMetadatas() throws Exception {
        ScramCredential impostor = new ScramFormatter(ScramMechanism.SCRAM_SHA_512).generateCredential("pw", 4096);
        ScramCredentials metadata = user -> Map.of(ScramMechanism.SCRAM_SHA_512, impostor);
        NodeUsers users = new NodeUsers(SECRET, metadata);
        assertFalse(SaslCallbacks.passwordMatches(users.of("node-7"), "pw".toCharArray()));
        for (String client : new String[] {"alice", "node-01", "node-", "node-x", "node-red", "node-99999999999"}) {
            assertEquals(impostor, users.of(client).get(ScramMechanism.SCRAM_SHA_512), client);
            assertEquals(OptionalInt.empty(), users.nodeOf(client), client);
        }
    }

    @Test
    void withoutNodeUsersNoUserIsANode() {
        assertEquals(OptionalInt.empty(), ScramCredentials.NONE.nodeOf("node-1"));
    }
}
