package io.raftmq.common;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventLoopTest {
    @Test
    void runsEventsInOrderAndDeferredOnesAtTheirDeadline() {
        MockTime time = new MockTime();
        EventLoop loop = new EventLoop("test-loop", time);
        time.addListener(loop::wakeup);
        loop.start();
        List<String> ran = new CopyOnWriteArrayList<>();
        loop.schedule("later", time.nanoseconds() + 1_000_000_000L, () -> ran.add("deferred"));
        loop.schedule("replaced", time.nanoseconds() + 10, () -> ran.add("never"));
        loop.schedule("replaced", time.nanoseconds() + 2_000_000_000L, () -> ran.add("replacement"));
        for (int i = 0; i < 100; i++) {
            int n = i;
            loop.execute(() -> ran.add("e" + n));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == 100);
        assertEquals("e0", ran.get(0));
        assertEquals("e99", ran.get(99));
        time.advanceMs(1000);
        await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == 101);
        assertEquals("deferred", ran.get(100));
        loop.execute(() -> { throw new IllegalStateException("a buggy event"); });
        time.advanceMs(1000);
        await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == 102);
        assertEquals("replacement", ran.get(101));
        loop.close();
        assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
    }

    @Test
    void offerRefusesPastTheBoundWhileExecuteDoesNot() throws Exception {
        EventLoop loop = new EventLoop("bounded-loop", new MockTime());
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        List<Integer> ran = new CopyOnWriteArrayList<>();
        loop.start();
        loop.execute(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        assertTrue(loop.offer(() -> ran.add(1), 2));
        assertTrue(loop.offer(() -> ran.add(2), 2));
        assertFalse(loop.offer(() -> ran.add(3), 2), "two already wait");
        loop.execute(() -> ran.add(4)); // the loop's own events are never refused
        release.countDown();
        loop.close();
        assertEquals(List.of(1, 2, 4), ran);
        assertThrows(RejectedExecutionException.class,
                () -> loop.offer(() -> { }, 10));
    }
}
