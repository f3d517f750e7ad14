package io.raftmq.metadata.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BrokerLeaseTest {
    @Test
    void theLeaseRunsFromTheSendOfTheLastAnsweredRequestForTheSessionMinusTheMargin() {
        BrokerLease lease = BrokerLease.of(600, 100);
        assertFalse(lease.isHeld(0), "never granted");
        assertFalse(lease.everGranted());
        lease.renew(1_000);
        assertTrue(lease.isHeld(1_000));
        assertTrue(lease.isHeld(1_499));
        assertFalse(lease.isHeld(1_500), "ends the margin before the controller's session (sent + 600)");
        lease.renew(1_100);
        assertEquals(1_600, lease.expiresAtMs());
    }

    @Test
    void anAnswerToAnOlderRequestNeverMovesTheEndBack() {
        BrokerLease lease = BrokerLease.of(600, 100);
        lease.renew(2_000);
        lease.renew(1_000); // answered late, after a newer one
        assertEquals(2_500, lease.expiresAtMs());
    }

    @Test
    void theMarginMustLeaveALease() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> BrokerLease.of(600, 600));
        assertTrue(e.getMessage().contains("600 ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BrokerLease.of(600, -1));
    }
}
