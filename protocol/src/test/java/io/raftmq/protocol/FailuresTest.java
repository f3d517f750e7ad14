package io.raftmq.protocol;

import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FailuresTest {
    @Test
    void unwrapFindsTheCauseBehindEveryFutureWrapper() {
        IOException cause = new IOException("disk");
        assertSame(cause, Failures.unwrap(cause));
        assertSame(cause, Failures.unwrap(new CompletionException(cause)));
        assertSame(cause, Failures.unwrap(new ExecutionException(new CompletionException(cause))));
        CompletionException empty = new CompletionException("no cause", null);
        assertSame(empty, Failures.unwrap(empty));
        RuntimeException other = new RuntimeException(cause);
        assertSame(other, Failures.unwrap(other), "only the futures' wrappers are looked through");
    }

    @Test
    void unwrapSeesThroughWhatAFailedFutureHandsADependentStage() {
        IOException cause = new IOException("disk");
        Throwable[] seen = new Throwable[1];
        CompletableFuture.<String>failedFuture(cause).thenApply(s -> s + "!").whenComplete((v, e) -> seen[0] = e);
        assertSame(cause, Failures.unwrap(seen[0]));
    }
}
