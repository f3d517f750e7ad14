package io.raftmq.broker;

import io.raftmq.common.ApiError;
import io.raftmq.protocol.Failures;
import io.raftmq.protocol.common.ErrorCode;
import java.util.concurrent.CompletableFuture;

/**
 * InitProducerId for idempotent (non-transactional) producers, as Kafka answers it: always a new id
 * from the {@link ProducerIdManager} at epoch 0, whatever producer id and epoch the request names.
 * Kafka's idempotent producer bumps its epoch itself (KIP-360) and asks for a new id only when it
 * must; bumping the epoch of an id a request names would let any client fence another producer by
 * naming its id. Transactional ids never reach it ({@link BrokerApi} refuses them).
 *
 * <p>Stateless apart from the manager; any thread.
 */
final class InitProducerIdHandler {
    /** The answer: a producer id and epoch, or an error (then both -1). */
    record Result(ApiError error, long producerId, int producerEpoch) {
        static Result of(long producerId, int producerEpoch) {
            return new Result(ApiError.NONE, producerId, producerEpoch);
        }
    }

    private final ProducerIdManager ids;

    InitProducerIdHandler(ProducerIdManager ids) {
        this.ids = ids;
    }

    /** The end of the newest block of ids this broker was given (0 before any). */
    long allocatedEnd() {
        return ids.allocatedEnd();
    }

    /**
     * @param producerId the producer's current id, or -1; ignored, as Kafka ignores it
     * @param epoch the producer's current epoch, or -1; ignored
     */
    CompletableFuture<Result> handle(long producerId, int epoch) {
        return ids.nextProducerId().handle((id, error) -> {
            if (error != null) {
                Throwable cause = Failures.unwrap(error);
                ApiError apiError = cause instanceof ProducerIdManager.ApiException api ? api.error
                        : ApiError.of(ErrorCode.UNKNOWN_SERVER_ERROR, "no producer id: %s", cause.toString());
                return new Result(apiError, -1, -1);
            }
            return Result.of(id, 0);
        });
    }
}
