package io.raftmq.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftmq.common.MockTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link Purgatory} on its own, with a {@link MockScheduler}: an operation completes once, by the
 * check of one of its keys or by its timeout, and leaves no watcher behind.
 */
class PurgatoryTest {
    private final MockTime time = new MockTime();
    private final MockScheduler scheduler = new MockScheduler(time);
    private final Purgatory<Waiter> purgatory = new Purgatory<>("test", scheduler);

    /** Ready when the test says; counts its completions and whether it expired. */
    private static final class Waiter extends DelayedOperation {
        final AtomicBoolean ready = new AtomicBoolean();
        final AtomicInteger completions = new AtomicInteger();
        boolean readyWhenCompleted;

        @Override
        boolean tryComplete() {
            return ready.get() && forceComplete();
        }

        @Override
        void onComplete() {
            readyWhenCompleted = ready.get();
            completions.incrementAndGet();
        }
    }

    @Test
    void aCheckOfItsKeyCompletesAReadyOperationOnceAndItsTimerNoLongerFires() {
        Waiter op = new Waiter();
        purgatory.tryCompleteElseWatch(op, List.of("a", "b"), 1_000);
        assertEquals(2, purgatory.watched(), "watched under each of its keys");
        assertEquals(1, scheduler.pending(), "its timeout is scheduled");

        purgatory.checkAndComplete("a");
        assertEquals(0, op.completions.get(), "not ready: a check does not complete it");

        op.ready.set(true);
        purgatory.checkAndComplete("b");
        purgatory.checkAndComplete("a");
        purgatory.checkAndComplete("b");
        assertEquals(1, op.completions.get());
        assertTrue(op.readyWhenCompleted);
        assertEquals(0, purgatory.watched(), "unwatched under every key");
        assertEquals(0, scheduler.pending(), "its timeout is cancelled");

        time.advanceMs(5_000);
        scheduler.runDue();
        assertEquals(1, op.completions.get());
    }

    @Test
    void anOperationNothingSatisfiesExpiresAtItsTimeoutOnce() {
        Waiter op = new Waiter();
        purgatory.tryCompleteElseWatch(op, List.of("a"), 1_000);
        time.advanceMs(999);
        scheduler.runDue();
        assertEquals(0, op.completions.get());

        time.advanceMs(1);
        scheduler.runDue();
        assertEquals(1, op.completions.get());
        assertFalse(op.readyWhenCompleted, "completed by the timer");
        assertEquals(0, purgatory.watched());

        op.ready.set(true);
        purgatory.checkAndComplete("a");
        assertEquals(1, op.completions.get());
    }

    @Test
    void aReadyOperationCompletesAtOnceWithoutBeingWatched() {
        Waiter op = new Waiter();
        op.ready.set(true);
        purgatory.tryCompleteElseWatch(op, List.of("a"), 1_000);
        assertEquals(1, op.completions.get());
        assertEquals(0, purgatory.watched());
        assertEquals(0, scheduler.pending());
    }

    @Test
    void aCheckCompletesOnlyTheOperationsWatchedUnderItsKey() {
        List<Waiter> onA = List.of(new Waiter(), new Waiter(), new Waiter());
        List<Waiter> onB = List.of(new Waiter(), new Waiter());
        onA.forEach(op -> purgatory.tryCompleteElseWatch(op, List.of("a"), 1_000));
        onB.forEach(op -> purgatory.tryCompleteElseWatch(op, List.of("b"), 1_000));
        onA.forEach(op -> op.ready.set(true));
        onB.forEach(op -> op.ready.set(true)); // ready, but nobody checks "b"

        purgatory.checkAndComplete("a");
        onA.forEach(op -> assertEquals(1, op.completions.get()));
        onB.forEach(op -> assertEquals(0, op.completions.get()));
        assertEquals(2, purgatory.watched());

        purgatory.checkAndComplete("b");
        onB.forEach(op -> assertEquals(1, op.completions.get()));
        assertEquals(0, purgatory.watched());
    }

    @Test
    void completeAllAnswersEveryWaiterOnce() {
        Waiter a = new Waiter();
        Waiter b = new Waiter();
        purgatory.tryCompleteElseWatch(a, List.of("a"), 1_000);
        purgatory.tryCompleteElseWatch(b, List.of("a", "b"), 1_000);

        purgatory.completeAll();
        assertEquals(1, a.completions.get());
        assertEquals(1, b.completions.get());
        assertEquals(0, purgatory.watched());
        time.advanceMs(1_000);
        scheduler.runDue();
        assertEquals(1, b.completions.get());
    }
}
