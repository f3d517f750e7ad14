package io.raftmq.protocol;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What failed behind the wrappers that futures add. Stateless; any thread. */
public final class Failures {
    private Failures() {
    }

    /**
     * The first cause of {@code t} that is neither a {@link CompletionException} nor an
     * {@link ExecutionException} (the wrappers {@code CompletableFuture} and {@code Future.get} put
     * around a failure); {@code t} itself when it is not such a wrapper or has no cause.
     */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
