package io.raftmq.metadata.jraft.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class VoterConnectionsTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final VoterConnections connections = new VoterConnections(clock::get);

    @Test
    void aVoterIsLostOnlyOnceEveryConnectionOfItsHasClosed() {
        assertEquals(-1, connections.lostAtMs(1), "never connected: nothing known");
        connections.opened(1);
        connections.opened(1);
        clock.set(1_100);
        connections.closed(1);
        assertEquals(-1, connections.lostAtMs(1), "one connection still open");
        clock.set(1_200);
        connections.closed(1);
        assertEquals(1_200, connections.lostAtMs(1));
        connections.opened(1);
        assertEquals(-1, connections.lostAtMs(1), "back");
        assertEquals(-1, connections.lostAtMs(2), "another voter");
    }
}
