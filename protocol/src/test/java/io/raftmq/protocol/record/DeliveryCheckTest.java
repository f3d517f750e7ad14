package io.raftmq.protocol.record;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeliveryCheckTest {
    @Test
    void everyAcknowledgedValueAtItsOffsetIsNeitherLostNorDuplicated() {
        DeliveryCheck check = new DeliveryCheck();
        check.acknowledged(0, "v-0");
        check.acknowledged(1, "v-1");
        check.read(0, "v-0");
        check.read(1, "v-1");
        check.read(2, "v-2"); // written, its acknowledgement never arrived: fine
        assertEquals(new DeliveryCheck.Verdict(2, 0, 0, List.of()), check.verdict());
    }

    @Test
    void anAcknowledgedOffsetHoldingAnotherValueOrNothingIsLost() {
        DeliveryCheck check = new DeliveryCheck();
        check.acknowledged(0, "v-0");
        check.acknowledged(1, "v-1");
        check.acknowledged(2, "v-2");
        check.read(0, "v-0");
        check.read(1, "v-7");
        DeliveryCheck.Verdict verdict = check.verdict();
        assertEquals(3, verdict.acked());
        assertEquals(2, verdict.lost());
        assertEquals(List.of("v-1 was acknowledged at offset 1 but the log has v-7 there",
                "v-2 was acknowledged at offset 2 but the log has nothing there"), verdict.problems());
    }

    @Test
    void eachExtraCopyOfAValueIsADuplicate() {
        DeliveryCheck check = new DeliveryCheck();
        check.acknowledged(0, "v-0");
        check.read(0, "v-0");
        check.read(1, "v-0");
        check.read(2, "v-0");
        check.read(3, "v-1");
        check.read(4, "v-1");
        DeliveryCheck.Verdict verdict = check.verdict();
        assertEquals(0, verdict.lost());
        assertEquals(3, verdict.duplicates());
    }

    @Test
    void aVerdictDescribesAtMostTwentyLostRecords() {
        DeliveryCheck check = new DeliveryCheck();
        for (int i = 0; i < 30; i++) {
            check.acknowledged(i, "v-" + i);
        }
        DeliveryCheck.Verdict verdict = check.verdict();
        assertEquals(30, verdict.lost());
        assertEquals(DeliveryCheck.MAX_PROBLEMS, verdict.problems().size());
    }
}
