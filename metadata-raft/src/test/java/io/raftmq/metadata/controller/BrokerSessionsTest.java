package io.raftmq.metadata.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.metadata.image.MetadataImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Session expiry, and its early end when the connection of a broker's latest heartbeat closes. */
class BrokerSessionsTest {
    private static final long SESSION_MS = 600;
    private static final long GRACE_MS = 200;

    private final MetadataImage image = TestImages.unfencedBrokers(3);
    private final BrokerSessions sessions = new BrokerSessions(SESSION_MS, GRACE_MS);
    private final ClientConnection one = new ClientConnection("10.0.0.1:50001");
    private final ClientConnection two = new ClientConnection("10.0.0.2:50002");

    @Test
    void aSessionLastsTheTimeoutFromTheLatestHeartbeat() {
        sessions.touch(1, 1, one, 1_000);
        assertTrue(sessions.hasLiveSession(1, 1, 1_599));
        assertFalse(sessions.hasLiveSession(1, 1, 1_600));
        assertFalse(sessions.hasLiveSession(1, 2, 1_000), "another epoch's session");
        assertEquals(1_600, sessions.nextExpiryMs(TestImages.unfencedBrokers(1)));
    }

    @Test
    void aClosedConnectionCutsTheSessionOfEveryBrokerWhoseLatestHeartbeatCameOverIt() {
        sessions.touch(1, 1, one, 1_000);
        sessions.touch(2, 2, one, 1_000);
        sessions.touch(3, 3, two, 1_000);

        assertEquals(List.of(1, 2), sessions.connectionLost(one, 1_050));

        assertTrue(sessions.hasLiveSession(1, 1, 1_249));
        assertFalse(sessions.hasLiveSession(1, 1, 1_250), "expires at loss + grace");
        assertFalse(sessions.hasLiveSession(2, 2, 1_250));
        assertTrue(sessions.hasLiveSession(3, 3, 1_599), "another connection's broker keeps its session");
        assertEquals(1_250, sessions.nextExpiryMs(image));
        assertEquals(List.of(1, 2), sessions.expired(image, 1_250));
        assertEquals(200, sessions.sinceConnectionLostMs(1, 1_250));
        assertEquals(-1, sessions.sinceConnectionLostMs(3, 1_250));
        assertEquals(250, sessions.sinceLastContactMs(1, 1_250));
    }

    @Test
    void aClosedConnectionNeverExtendsASession() {
        sessions.touch(1, 1, one, 1_000);
        // 500 ms after the heartbeat the session has 100 ms left, less than the grace.
        assertEquals(List.of(), sessions.connectionLost(one, 1_500));
        assertFalse(sessions.hasLiveSession(1, 1, 1_600));
        assertEquals(1_600, sessions.nextExpiryMs(TestImages.unfencedBrokers(1)));
        assertEquals(-1, sessions.sinceConnectionLostMs(1, 1_600));
        // An expired session stays expired.
        assertEquals(List.of(), sessions.connectionLost(one, 1_700));
        assertFalse(sessions.hasLiveSession(1, 1, 1_700));
    }

    @Test
    void aSecondLossOfTheSameConnectionDoesNotMoveTheDeadlineOut() {
        sessions.touch(1, 1, one, 1_000);
        assertEquals(List.of(1), sessions.connectionLost(one, 1_000));
        assertEquals(List.of(), sessions.connectionLost(one, 1_100));
        assertFalse(sessions.hasLiveSession(1, 1, 1_200));
    }

    @Test
    void aHeartbeatAfterTheLossRestoresTheFullSession() {
        sessions.touch(1, 1, one, 1_000);
        sessions.connectionLost(one, 1_000);
        sessions.touch(1, 1, two, 1_150);
        assertTrue(sessions.hasLiveSession(1, 1, 1_749));
        assertFalse(sessions.hasLiveSession(1, 1, 1_750));
        assertEquals(-1, sessions.sinceConnectionLostMs(1, 1_200));
        // The new connection is the one that counts now.
        assertEquals(List.of(1), sessions.connectionLost(two, 1_300));
        assertFalse(sessions.hasLiveSession(1, 1, 1_500));
    }

    @Test
    void aHeartbeatOverAnotherConnectionBeforeTheLossKeepsTheSession() {
        sessions.touch(1, 1, one, 1_000);
        // The broker reconnected and heartbeated before the old connection's end was noticed.
        sessions.touch(1, 1, two, 1_100);
        assertEquals(List.of(), sessions.connectionLost(one, 1_110));
        assertTrue(sessions.hasLiveSession(1, 1, 1_699));
    }

    @Test
    void anUnknownOrMissingConnectionChangesNothing() {
        sessions.touch(1, 1, one, 1_000);
        sessions.touch(2, 2, null, 1_000);
        assertEquals(List.of(), sessions.connectionLost(new ClientConnection("10.0.0.1:50001"), 1_000),
                "the same address, but another connection");
        assertEquals(List.of(), sessions.connectionLost(null, 1_000));
        assertTrue(sessions.hasLiveSession(1, 1, 1_599));
        assertTrue(sessions.hasLiveSession(2, 2, 1_599));
    }

    @Test
    void takeoverSessionsHaveNoConnectionToLose() {
        sessions.grantAll(image, 1_000, 300);
        assertEquals(1_300, sessions.nextExpiryMs(image));
        assertEquals(List.of(), sessions.connectionLost(one, 1_000));
        sessions.touch(2, 2, one, 1_100);
        assertEquals(List.of(2), sessions.connectionLost(one, 1_100));
        assertEquals(List.of(1, 2, 3), sessions.expired(image, 1_300));
    }

    @Test
    void aGraceAsLongAsTheSessionNeverShortensOne() {
        BrokerSessions off = new BrokerSessions(SESSION_MS, SESSION_MS);
        off.touch(1, 1, one, 1_000);
        assertEquals(List.of(), off.connectionLost(one, 1_000));
        assertTrue(off.hasLiveSession(1, 1, 1_599));
    }

    @Test
    void theGraceMustBePositiveAndAtMostTheSession() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BrokerSessions(SESSION_MS, SESSION_MS + 1));
        assertTrue(e.getMessage().contains("601") && e.getMessage().contains("600"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BrokerSessions(SESSION_MS, 0));
    }

    @Test
    void aGoneProcessCutsItsTakeoverSessionToTheGraceFromWhenItsConnectionsClosed() {
        sessions.grantAll(image, 1_000, 450);
        assertTrue(sessions.processGone(1, 900), "lost 100 ms before the takeover");
        assertTrue(sessions.hasLiveSession(1, 1, 1_099));
        assertFalse(sessions.hasLiveSession(1, 1, 1_100), "expires at loss + grace");
        assertEquals(200, sessions.sinceConnectionLostMs(1, 1_100));
        assertTrue(sessions.hasLiveSession(2, 2, 1_449), "the others keep the takeover session");
        // Never lengthened: a loss long ago leaves an already shorter deadline alone.
        assertFalse(sessions.processGone(1, 950));
        assertFalse(sessions.hasLiveSession(1, 1, 1_100));
        assertFalse(sessions.processGone(9, 900), "no session, nothing to cut");
    }
}
