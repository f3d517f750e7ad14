package io.raftmq.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.raftmq.common.MockTime;
import java.util.Base64;
import java.util.Optional;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

class GrpcSessionsTest {
    private static final KafkaPrincipal ALICE = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "alice");
    private static final GrpcSessions.Caller ALICE_CALLER = new GrpcSessions.Caller(ALICE,
            GrpcSessions.Caller.NOT_A_NODE);
    private final MockTime time = new MockTime();
    private final GrpcSessions sessions = new GrpcSessions(time, 2_000);

    @Test
    void aTokenIs32RandomBytesInBase64UrlAndNamesItsPrincipalUntilItExpires() {
        String token = sessions.issue(ALICE_CALLER);
        assertEquals(32, Base64.getUrlDecoder().decode(token).length);
        assertNotEquals(token, sessions.issue(ALICE_CALLER));
        assertEquals(Optional.of(ALICE_CALLER), sessions.callerOf(token));
        time.sleep(1_999);
        assertEquals(Optional.of(ALICE_CALLER), sessions.callerOf(token));
        time.sleep(1);
        assertEquals(Optional.empty(), sessions.callerOf(token));
        assertEquals(Optional.empty(), sessions.callerOf("forged"));
    }

    @Test
    void expiredTokensAreRemoved() {
        String first = sessions.issue(ALICE_CALLER);
        sessions.issue(ALICE_CALLER);
        assertEquals(2, sessions.size());
        time.sleep(2_000);
        assertEquals(Optional.empty(), sessions.callerOf(first)); // removed when looked up
        assertEquals(1, sessions.size());
        sessions.issue(ALICE_CALLER); // and every expired one when a token is issued
        assertEquals(1, sessions.size());
    }
}
