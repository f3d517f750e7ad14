package io.raftmq.metadata.jraft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.error.RaftError;
import io.raftmq.metadata.log.NotLeaderException;
import java.util.concurrent.CompletableFuture;

/**
 * Completes an append's future: with the entry's index once it has committed and been applied, or
 * with {@link NotLeaderException} when JRaft refused it because this node does not lead the
 * expected term (or stepped down before it committed).
 *
 * <p>{@link #committedAt} is called on the FSM thread just before {@link #run}; JRaft calls {@code
 * run} exactly once, from the FSM thread or one of its closure threads.
 */
final class AppendClosure implements Closure {
    private final CompletableFuture<Long> future;
    private volatile long index = -1;

    AppendClosure(CompletableFuture<Long> future) {
        this.future = future;
    }

    void committedAt(long committedIndex) {
        this.index = committedIndex;
    }

    @Override
    public void run(Status status) {
        if (status.isOk()) {
            future.complete(index);
            return;
        }
        RaftError error = status.getRaftError();
        if (error == RaftError.EPERM || error == RaftError.ESTALE || error == RaftError.ELEADERREMOVED
                || error == RaftError.ENEWLEADER || error == RaftError.ETRANSFERLEADERSHIP) {
            future.completeExceptionally(new NotLeaderException("metadata append refused: " + status));
        } else {
            future.completeExceptionally(new IllegalStateException("metadata append failed: " + status));
        }
    }
}
