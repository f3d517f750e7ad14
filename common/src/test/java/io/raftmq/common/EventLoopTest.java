package io.raftmq.common;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
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
}
